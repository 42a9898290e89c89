// preprocess() is flat-field correction then a 3x3 median, equal to the OpenCV chain.
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

}  // namespace
}  // namespace ws::kernels::test
