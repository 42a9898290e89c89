// Pins down the one rule for 8-bit grey frames: grey as is, grey saved as colour exactly grey, real
// colour as BT.601 luma, 16-bit scaled by its full range, other depths and channel counts refused.
#include "io/grey.hpp"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace ws::io {
namespace {

cv::Mat ramp(int rows, int cols) {
  cv::Mat m(rows, cols, CV_8UC1);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) m.at<std::uint8_t>(r, c) = static_cast<std::uint8_t>(r * 7 + c);
  return m;
}

TEST(AsGrey8, OneChannelIsReturnedAsItIs) {
  const cv::Mat g = ramp(5, 9);
  cv::Mat out;
  ASSERT_TRUE(as_grey8(g, out));
  EXPECT_EQ(out.data, g.data);  // no copy
}

TEST(AsGrey8, GreySavedAsColourIsGrey) {
  const cv::Mat g = ramp(5, 9);
  for (int channels : {3, 4}) {
    std::vector<cv::Mat> planes(static_cast<std::size_t>(channels), g);
    if (channels == 4) planes[3] = cv::Mat(g.size(), CV_8UC1, cv::Scalar(255));  // alpha
    cv::Mat colour;
    cv::merge(planes, colour);
    cv::Mat out;
    ASSERT_TRUE(as_grey8(colour, out)) << channels << " channels";
    EXPECT_EQ(out.type(), CV_8UC1);
    EXPECT_EQ(cv::countNonZero(out != g), 0);
  }
}

TEST(AsGrey8, RealColourIsBt601Luma) {
  // Pure blue, green, red and a mix, BGR order: Y = 0.114 B + 0.587 G + 0.299 R, rounded.
  cv::Mat colour(1, 4, CV_8UC3);
  colour.at<cv::Vec3b>(0, 0) = {255, 0, 0};
  colour.at<cv::Vec3b>(0, 1) = {0, 255, 0};
  colour.at<cv::Vec3b>(0, 2) = {0, 0, 255};
  colour.at<cv::Vec3b>(0, 3) = {10, 200, 100};
  cv::Mat out;
  ASSERT_TRUE(as_grey8(colour, out));
  ASSERT_EQ(out.type(), CV_8UC1);
  EXPECT_EQ(out.at<std::uint8_t>(0, 0), 29);   // 0.114 * 255 = 29.07
  EXPECT_EQ(out.at<std::uint8_t>(0, 1), 150);  // 0.587 * 255 = 149.7
  EXPECT_EQ(out.at<std::uint8_t>(0, 2), 76);   // 0.299 * 255 = 76.2
  EXPECT_EQ(out.at<std::uint8_t>(0, 3), 148);  // 1.14 + 117.4 + 29.9 = 148.4
  cv::Mat bgra;
  cv::cvtColor(colour, bgra, cv::COLOR_BGR2BGRA);
  ASSERT_TRUE(as_grey8(bgra, out));  // alpha ignored
  EXPECT_EQ(out.at<std::uint8_t>(0, 3), 148);
}

TEST(AsGrey8, SixteenBitIsScaledByItsFullRange) {
  cv::Mat wide(1, 5, CV_16UC1);
  const std::uint16_t values[] = {0, 128, 257, 4095, 65535};
  for (int c = 0; c < 5; ++c) wide.at<std::uint16_t>(0, c) = values[c];
  cv::Mat out;
  ASSERT_TRUE(as_grey8(wide, out));
  ASSERT_EQ(out.type(), CV_8UC1);
  EXPECT_EQ(out.at<std::uint8_t>(0, 0), 0);
  EXPECT_EQ(out.at<std::uint8_t>(0, 1), 0);  // 0.498 rounds down
  EXPECT_EQ(out.at<std::uint8_t>(0, 2), 1);
  EXPECT_EQ(out.at<std::uint8_t>(0, 3), 16);  // a 12-bit camera's full scale: not stretched
  EXPECT_EQ(out.at<std::uint8_t>(0, 4), 255);
  cv::Mat wide_colour;
  cv::merge(std::vector<cv::Mat>{wide, wide, wide}, wide_colour);
  ASSERT_TRUE(as_grey8(wide_colour, out));
  EXPECT_EQ(out.at<std::uint8_t>(0, 4), 255);
}

TEST(AsGrey8, GreyWithAlphaIsItsGrey) {
  const cv::Mat g = ramp(5, 9);
  cv::Mat two;
  cv::merge(std::vector<cv::Mat>{g, cv::Mat(g.size(), CV_8UC1, cv::Scalar(7))}, two);
  cv::Mat out;
  ASSERT_TRUE(as_grey8(two, out));
  EXPECT_EQ(cv::countNonZero(out != g), 0);
}

TEST(AsGrey8, OtherDepthsAndEmptyAreNot) {
  cv::Mat out;
  EXPECT_FALSE(as_grey8(cv::Mat(4, 4, CV_32FC1, cv::Scalar(9)), out));
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(as_grey8(cv::Mat(4, 4, CV_8SC1, cv::Scalar(9)), out));
  EXPECT_FALSE(as_grey8(cv::Mat(4, 4, CV_32SC3, cv::Scalar(9, 9, 9)), out));
  EXPECT_FALSE(as_grey8(cv::Mat(), out));
}

}  // namespace
}  // namespace ws::io
