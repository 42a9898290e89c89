// preprocess() is flat-field correction then a 3x3 median, equal to the OpenCV chain.
#include "kernels/flat_field.hpp"
#include "kernels/median3.hpp"
#include "kernels/preprocess.hpp"
#include "test_images.hpp"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

namespace ws::kernels::test {
namespace {

TEST(Preprocess, EqualsDivideThenMedianBlur) {
  const cv::Size size(131, 77);
  const cv::Mat ideal = make_pattern(size, 3.0, 41);
  cv::Mat flat(size, CV_32FC1);
  for (int y = 0; y < size.height; ++y) {
    for (int x = 0; x < size.width; ++x) {
      flat.at<float>(y, x) =
          0.85f + 0.3f * static_cast<float>(x + y) / static_cast<float>(size.width + size.height);
    }
  }
  cv::Mat idealf;
  ideal.convertTo(idealf, CV_32F);
  cv::Mat raw;
  cv::Mat(idealf.mul(flat)).convertTo(raw, CV_8U);

  cv::Mat rawf;
  raw.convertTo(rawf, CV_32F);
  cv::Mat q;
  cv::divide(rawf, flat, q);
  cv::Mat corrected;
  q.convertTo(corrected, CV_8U);
  cv::Mat expected;
  cv::medianBlur(corrected, expected, 3);

  cv::Mat out;
  ASSERT_EQ(preprocess(raw, flat, 16, Checkpoint(), out), Status::ok);
  EXPECT_EQ(count_differences(out, expected), 0);
}

TEST(Preprocess, EmptyFlatIsMedianOnly) {
  const cv::Mat raw = make_image({50, 40}, Fill::random, 42);
  cv::Mat expected;
  cv::medianBlur(raw, expected, 3);
  cv::Mat out;
  ASSERT_EQ(preprocess(raw, cv::Mat(), 7, Checkpoint(), out), Status::ok);
  EXPECT_EQ(count_differences(out, expected), 0);
}

TEST(Preprocess, RejectsMismatchedFlat) {
  const cv::Mat raw = make_image({50, 40}, Fill::random, 43);
  const cv::Mat flat(10, 10, CV_32FC1, cv::Scalar(1.0f));
  cv::Mat out;
  EXPECT_THROW(preprocess(raw, flat, 8, Checkpoint(), out), std::invalid_argument);
  EXPECT_THROW(preprocess(raw, cv::Mat(), 0, Checkpoint(), out), std::invalid_argument);
}

// The fused flat-field + median pass equals the two kernels run one after the other, bit for bit,
// for any band size and frame shape (one row, one column, bands that do not divide the height) and
// with zeros in the flat (x / 0 = 0).
class FusedPreprocess : public ::testing::TestWithParam<std::tuple<cv::Size, int>> {};

TEST_P(FusedPreprocess, EqualsFlatFieldThenMedian3) {
  const auto [size, band] = GetParam();
  const cv::Mat raw = make_pattern(size, 5.0, 7);
  cv::Mat flat(size, CV_32FC1);
  cv::randu(flat, 0.6, 1.4);
  flat.at<float>(0, 0) = 0.0f;
  flat.at<float>(size.height - 1, size.width - 1) = 0.0f;
  cv::Mat corrected;
  ASSERT_EQ(flat_field(raw, flat, band, Checkpoint(), corrected), Status::ok);
  cv::Mat expected;
  ASSERT_EQ(median3(corrected, band, Checkpoint(), expected), Status::ok);
  cv::Mat out;
  ASSERT_EQ(flat_field_median3(raw, flat, band, Checkpoint(), out), Status::ok);
  EXPECT_EQ(count_differences(out, expected), 0);
}

INSTANTIATE_TEST_SUITE_P(Shapes, FusedPreprocess,
                         ::testing::Combine(::testing::Values(cv::Size(1, 1), cv::Size(1, 40),
                                                              cv::Size(57, 1), cv::Size(131, 77),
                                                              cv::Size(256, 256)),
                                            ::testing::Values(1, 3, 16, 64, 1000)));

}  // namespace
}  // namespace ws::kernels::test
