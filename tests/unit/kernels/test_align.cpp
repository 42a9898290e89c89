// align() recovers known integer shifts of a noisy patterned image and distrusts unrelated images.
#include "kernels/align.hpp"
#include "test_images.hpp"

#include <gtest/gtest.h>

#include <tuple>

namespace ws::kernels::test {
namespace {

using ShiftParam = std::tuple<int, int>;

class AlignShift : public ::testing::TestWithParam<ShiftParam> {};

TEST_P(AlignShift, RecoversKnownShift) {
  const auto [dx, dy] = GetParam();
  const cv::Mat golden = make_pattern({241, 203}, 0.0, 11);
  const cv::Mat frame = make_pattern({241, 203}, 0.0, 11);  // same pattern ...
  cv::Mat noisy = shifted(frame, dx, dy);
  cv::Mat noise(noisy.size(), CV_16SC1);
  cv::RNG(12).fill(noise, cv::RNG::NORMAL, 0, 4.0);  // ... seen through sensor noise
  cv::Mat sum;
  cv::add(noisy, noise, sum, cv::noArray(), CV_16S);
  sum.convertTo(noisy, CV_8U);

  const AlignResult r = align(noisy, golden, 12, 16, Checkpoint());
  ASSERT_EQ(r.status, Status::ok);
  EXPECT_EQ(r.dx, dx);
  EXPECT_EQ(r.dy, dy);
  EXPECT_GT(r.confidence, 0.8);
  EXPECT_LE(r.confidence, 1.0);
}

INSTANTIATE_TEST_SUITE_P(Shifts, AlignShift,
                         ::testing::Values(ShiftParam{0, 0}, ShiftParam{3, -2}, ShiftParam{-7, 5},
                                           ShiftParam{12, 12}, ShiftParam{-12, 0},
                                           ShiftParam{1, -11}));

TEST(Align, LowConfidenceOnUnrelatedImage) {
  const cv::Mat golden = make_pattern({200, 160}, 2.0, 21);
  const cv::Mat unrelated = make_image({200, 160}, Fill::random, 22);
  const AlignResult r = align(unrelated, golden, 8, 32, Checkpoint());
  ASSERT_EQ(r.status, Status::ok);
  EXPECT_LT(r.confidence, 0.2);
}

TEST(Align, NoContrastGivesZeroShiftAndConfidence) {
  const cv::Mat flat(64, 64, CV_8UC1, cv::Scalar(128));
  const cv::Mat golden = make_pattern({64, 64}, 0.0, 23);
  const AlignResult r = align(flat, golden, 5, 8, Checkpoint());
  ASSERT_EQ(r.status, Status::ok);
  EXPECT_EQ(r.dx, 0);
  EXPECT_EQ(r.dy, 0);
  EXPECT_EQ(r.confidence, 0.0);
}

TEST(Align, TinyImagesClampTheSearch) {
  for (const cv::Size size : {cv::Size(1, 1), cv::Size(1, 9), cv::Size(9, 1), cv::Size(3, 3)}) {
    const cv::Mat img = make_image(size, Fill::random, 24);
    const AlignResult r = align(img, img, 12, 4, Checkpoint());
    ASSERT_EQ(r.status, Status::ok);
    EXPECT_LE(std::abs(r.dx), size.width / 2);
    EXPECT_LE(std::abs(r.dy), size.height / 2);
  }
}

}  // namespace
}  // namespace ws::kernels::test
