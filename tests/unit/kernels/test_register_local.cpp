// Local registration: a pair whose halves are off by different amounts compares clean; a pair
// whose template is another board, and a blank test frame, are called unreliable.
#include "kernels/align.hpp"
#include "kernels/register_local.hpp"

#include <opencv2/imgproc.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <random>

namespace ws::kernels::test {
namespace {

const cv::Size kSize(320, 320);

// A binarised board: dark conductors (0) of 4-9 px on bright board (255), both directions.
cv::Mat board(std::uint32_t seed) {
  cv::Mat img(kSize, CV_8UC1, cv::Scalar(255));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> pos(0, kSize.width - 1);
  std::uniform_int_distribution<int> len(20, 160);
  std::uniform_int_distribution<int> width(4, 9);
  for (int k = 0; k < 90; ++k) {
    const int x = pos(rng);
    const int y = pos(rng);
    const bool across = k % 2 == 0;
    const int l = len(rng);
    const int w = width(rng);
    cv::rectangle(img, cv::Rect(x, y, across ? l : w, across ? w : l), cv::Scalar(0), cv::FILLED);
  }
  return img;
}

// The board seen through a shift field: frame(x, y) = golden(x - sx(x), y - sy(x)) (bilinear).
// The left part is off by (0, 0), the right part by (dx, dy), with a stretch between x0 and x1
// (a scan whose halves moved differently).
cv::Mat shifted_halves(const cv::Mat& golden, float dx, float dy, int x0, int x1) {
  cv::Mat mx(golden.size(), CV_32F);
  cv::Mat my(golden.size(), CV_32F);
  for (int y = 0; y < golden.rows; ++y) {
    for (int x = 0; x < golden.cols; ++x) {
      const float t =
          std::clamp(static_cast<float>(x - x0) / static_cast<float>(x1 - x0), 0.f, 1.f);
      mx.at<float>(y, x) = static_cast<float>(x) - t * dx;
      my.at<float>(y, x) = static_cast<float>(y) - t * dy;
    }
  }
  cv::Mat out;
  cv::remap(golden, out, mx, my, cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  return out;
}

// The board as a camera sees it: edges spread over about two pixels.
cv::Mat blurred_board(std::uint32_t seed) {
  cv::Mat out;
  cv::GaussianBlur(board(seed), out, cv::Size(5, 5), 1.0);
  return out;
}

LocalRegisterSpec spec() {
  LocalRegisterSpec s;
  s.tile_px = 32;
  return s;
}

// Pixels differing by more than 100 from every warped reference pixel within 1 px, away from
// the frame's border.
int unexplained(const cv::Mat& frame, const cv::Mat& warped) {
  cv::Mat hi;
  cv::Mat lo;
  cv::dilate(warped, hi, cv::Mat());
  cv::erode(warped, lo, cv::Mat());
  cv::Mat f16;
  frame.convertTo(f16, CV_16S);
  cv::Mat hi16;
  cv::Mat lo16;
  hi.convertTo(hi16, CV_16S);
  lo.convertTo(lo16, CV_16S);
  const cv::Mat bad = (f16 - hi16 > 100) | (lo16 - f16 > 100);
  const cv::Rect inner(8, 8, frame.cols - 16, frame.rows - 16);
  return cv::countNonZero(bad(inner));
}

TEST(RegisterLocal, HalvesShiftedDifferentlyCompareClean) {
  const cv::Mat golden = blurred_board(7);
  const cv::Mat frame = shifted_halves(golden, 3.f, -2.f, 140, 180);
  const AlignResult a = align(frame, golden, 12, 64, Checkpoint{});
  // One shift cannot explain both halves.
  const LocalRegistration one = register_local(
      frame, golden, {a.dx, a.dy}, a.confidence,
      [] {
        LocalRegisterSpec s = spec();
        s.tile_px = 320;  // one tile: one shift
        return s;
      }(),
      Checkpoint{});
  EXPECT_GT(unexplained(frame, one.warped), 200);
  const LocalRegistration reg =
      register_local(frame, golden, {a.dx, a.dy}, a.confidence, spec(), Checkpoint{});
  ASSERT_EQ(reg.status, Status::ok);
  EXPECT_TRUE(reg.reliable) << reg.reason;
  EXPECT_EQ(unexplained(frame, reg.warped), 0);
  EXPECT_NEAR(reg.shift_x.at<float>(5, 0), 0.f, 0.5f);
  EXPECT_NEAR(reg.shift_x.at<float>(5, 9), 3.f, 0.5f);
  EXPECT_NEAR(reg.shift_y.at<float>(5, 9), -2.f, 0.5f);
  EXPECT_LE(reg.max_residual, 0.01);
}

TEST(RegisterLocal, AUniformSubPixelShiftIsItsMeanShift) {
  const cv::Mat golden = blurred_board(11);
  const cv::Mat frame = shifted_halves(golden, 2.5f, 1.5f, -2, -1);  // the whole frame
  const AlignResult a = align(frame, golden, 12, 64, Checkpoint{});
  const LocalRegistration reg =
      register_local(frame, golden, {a.dx, a.dy}, a.confidence, spec(), Checkpoint{});
  EXPECT_TRUE(reg.reliable) << reg.reason;
  EXPECT_NEAR(reg.mean_shift.x, 2.5, 0.25);
  EXPECT_NEAR(reg.mean_shift.y, 1.5, 0.25);
  EXPECT_EQ(unexplained(frame, reg.warped), 0);
}

TEST(RegisterLocal, ATemplateOfAnotherBoardIsUnreliable) {
  const cv::Mat frame = board(7);
  const cv::Mat other = board(8);
  const AlignResult a = align(frame, other, 12, 64, Checkpoint{});
  const LocalRegistration reg =
      register_local(frame, other, {a.dx, a.dy}, a.confidence, spec(), Checkpoint{});
  ASSERT_EQ(reg.status, Status::ok);
  EXPECT_FALSE(reg.reliable);
  EXPECT_FALSE(reg.reason.empty());
}

TEST(RegisterLocal, ABlankTestFrameIsUnreliable) {
  const cv::Mat golden = board(7);
  const cv::Mat blank(kSize, CV_8UC1, cv::Scalar(255));
  const AlignResult a = align(blank, golden, 12, 64, Checkpoint{});
  for (const double confidence : {a.confidence, 1.0}) {  // also when alignment claimed a fit
    const LocalRegistration reg =
        register_local(blank, golden, {a.dx, a.dy}, confidence, spec(), Checkpoint{});
    EXPECT_FALSE(reg.reliable) << confidence;
  }
}

TEST(RegisterLocal, ADefectStaysADifference) {
  const cv::Mat golden = blurred_board(7);
  cv::Mat frame = shifted_halves(golden, 3.f, -2.f, 140, 180);
  cv::circle(frame, {250, 60}, 6, cv::Scalar(0), cv::FILLED);  // copper on the right half
  cv::rectangle(frame, cv::Rect(40, 200, 12, 12), cv::Scalar(255), cv::FILLED);  // on the left
  DetectionSpec d;
  d.threshold_sigma = 0;
  d.min_threshold = 100;
  d.min_area_px = 12;
  LocalRegistration reg;
  const DetectOutput det = detect_registered(frame, golden, d, spec(), Checkpoint{}, reg);
  ASSERT_EQ(det.status, Status::ok);
  EXPECT_TRUE(det.reliable) << det.unreliable_reason;
  EXPECT_GT(unexplained(frame, reg.warped), 50);
  EXPECT_EQ(det.dx, 0);  // blobs are relative to the warped reference
}

TEST(RegisterLocal, AFiredCheckpointCancels) {
  const cv::Mat golden = board(7);
  std::atomic<std::uint8_t> flag{1};
  const LocalRegistration reg =
      register_local(golden, golden, {0, 0}, 1.0, spec(), Checkpoint(&flag, 1));
  EXPECT_EQ(reg.status, Status::canceled);
}

}  // namespace
}  // namespace ws::kernels::test
