// Pins down the one rule for 8-bit grey frames: grey as is, grey saved as colour accepted, real
// colour and other depths refused.
#include "io/grey.hpp"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>

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

TEST(AsGrey8, RealColourOtherDepthsAndEmptyAreNot) {
  const cv::Mat g = ramp(5, 9);
  cv::Mat colour;
  cv::merge(std::vector<cv::Mat>{g, g, g}, colour);
  colour.at<cv::Vec3b>(4, 8)[2] ^= 1;  // one channel of one pixel differs
  cv::Mat out;
  EXPECT_FALSE(as_grey8(colour, out));
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(as_grey8(cv::Mat(4, 4, CV_16UC1, cv::Scalar(9)), out));
  EXPECT_FALSE(as_grey8(cv::Mat(4, 4, CV_8UC2, cv::Scalar(9, 9)), out));
  EXPECT_FALSE(as_grey8(cv::Mat(), out));
}

}  // namespace
}  // namespace ws::io
