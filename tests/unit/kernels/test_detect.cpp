// detect() finds injected bright and dark blobs in a shifted noisy copy and nothing in a clean one.
#include "kernels/detect.hpp"
#include "test_images.hpp"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include <tuple>

namespace ws::kernels::test {
namespace {

constexpr double kNoise = 3.0;

cv::Mat add_noise(const cv::Mat& img, double sigma, std::uint64_t seed) {
  cv::Mat noise(img.size(), CV_16SC1);
  cv::RNG(seed).fill(noise, cv::RNG::NORMAL, 0, sigma);
  cv::Mat sum;
  cv::add(img, noise, sum, cv::noArray(), CV_16S);
  cv::Mat out;
  sum.convertTo(out, CV_8U);
  return out;
}

DetectionSpec spec() {
  DetectionSpec s;
  s.threshold_sigma = 6.0;
  s.min_threshold = 20;
  s.min_area_px = 6;
  s.max_shift_px = 12;
  s.band_rows = 32;
  return s;
}

using Param = std::tuple<int, int>;  // shift dx, dy

class Detect : public ::testing::TestWithParam<Param> {
 protected:
  const cv::Size size_{320, 256};
  // Noise-free golden: in the machine it is an average of many dies.
  const cv::Mat golden_ = make_pattern(size_, 0.0, 51);
};

TEST_P(Detect, CleanShiftedCopyHasNoBlobs) {
  const auto [dx, dy] = GetParam();
  const cv::Mat frame = add_noise(shifted(golden_, dx, dy, 0), kNoise, 52);
  const DetectOutput out = detect(frame, golden_, spec(), Checkpoint());
  ASSERT_EQ(out.status, Status::ok);
  EXPECT_EQ(out.dx, dx);
  EXPECT_EQ(out.dy, dy);
  EXPECT_GT(out.align_confidence, 0.9);
  EXPECT_GE(out.threshold, spec().min_threshold);
  EXPECT_TRUE(out.blobs.empty()) << out.blobs.size() << " false blobs, first at "
                                 << (out.blobs.empty() ? cv::Rect() : out.blobs[0].bbox);
}

TEST_P(Detect, FindsInjectedBrightAndDarkBlobs) {
  const auto [dx, dy] = GetParam();
  cv::Mat frame = shifted(golden_, dx, dy, 0);
  const cv::Rect bright_box(60, 50, 8, 6);
  const cv::Rect dark_box(200, 150, 3, 20);  // scratch-like: thin and long
  frame(bright_box) += cv::Scalar(80);
  frame(dark_box) -= cv::Scalar(80);
  // Guarantee the dark blob sits on a level it can go 80 below.
  ASSERT_GE(cv::mean(shifted(golden_, dx, dy, 0)(dark_box))[0], 80.0);
  frame = add_noise(frame, kNoise, 53);

  const DetectOutput out = detect(frame, golden_, spec(), Checkpoint());
  ASSERT_EQ(out.status, Status::ok);
  EXPECT_EQ(out.dx, dx);
  EXPECT_EQ(out.dy, dy);
  ASSERT_EQ(out.blobs.size(), 2U);
  bool found_bright = false;
  bool found_dark = false;
  for (const BlobFeatures& b : out.blobs) {
    if ((b.bbox & bright_box).area() > 0) {
      found_bright = true;
      EXPECT_EQ(b.polarity, Polarity::bright);
      EXPECT_NEAR(b.area_px, bright_box.area(), 4);
      EXPECT_NEAR(b.centroid.x, 63.5, 0.5);
      EXPECT_NEAR(b.centroid.y, 52.5, 0.5);
      EXPECT_LT(b.elongation, 2.0);
      EXPECT_GT(b.fill, 0.85);
      EXPECT_NEAR(b.contrast, 80, 10);
      EXPECT_GE(b.max_contrast, b.contrast);
    }
    if ((b.bbox & dark_box).area() > 0) {
      found_dark = true;
      EXPECT_EQ(b.polarity, Polarity::dark);
      EXPECT_NEAR(b.area_px, dark_box.area(), 4);
      EXPECT_GT(b.elongation, 4.0);
    }
  }
  EXPECT_TRUE(found_bright);
  EXPECT_TRUE(found_dark);
}

INSTANTIATE_TEST_SUITE_P(Shifts, Detect,
                         ::testing::Values(Param{0, 0}, Param{5, -3}, Param{-12, 7}, Param{9, 12}));

TEST(DetectSmall, DropsBlobsBelowMinArea) {
  const cv::Mat golden = make_pattern({120, 100}, 0.0, 54);
  cv::Mat frame = golden.clone();
  frame(cv::Rect(30, 30, 2, 2)) += cv::Scalar(100);  // 4 px < min_area 6
  frame(cv::Rect(70, 60, 3, 3)) += cv::Scalar(100);  // 9 px
  DetectionSpec s = spec();
  s.max_shift_px = 3;
  const DetectOutput out = detect(frame, golden, s, Checkpoint());
  ASSERT_EQ(out.status, Status::ok);
  ASSERT_EQ(out.blobs.size(), 1U);
  EXPECT_EQ(out.blobs[0].bbox, cv::Rect(70, 60, 3, 3));
  EXPECT_EQ(out.blobs[0].area_px, 9);
  EXPECT_DOUBLE_EQ(out.blobs[0].elongation, 1.0);
  EXPECT_DOUBLE_EQ(out.blobs[0].fill, 1.0);
}

TEST(DetectSmall, NoiseRaisesTheThresholdAboveTheFloor) {
  const cv::Mat golden = make_pattern({200, 160}, 0.0, 55);
  const cv::Mat frame = add_noise(golden, 8.0, 56);
  DetectionSpec s = spec();
  s.max_shift_px = 2;
  const DetectOutput out = detect(frame, golden, s, Checkpoint());
  ASSERT_EQ(out.status, Status::ok);
  // 6 sigma of 8 grey levels is about 48: well above the floor of 20.
  EXPECT_GT(out.threshold, 40);
  EXPECT_LT(out.threshold, 56);
  EXPECT_TRUE(out.blobs.empty());
}

}  // namespace
}  // namespace ws::kernels::test
