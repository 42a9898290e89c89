// align() recovers known shifts (up to 40 px, sub-pixel residue) of synthetic and real images and
// distrusts unrelated ones.
#include "base/frame_buffers.hpp"
#include "kernels/align.hpp"
#include "test_images.hpp"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include <cmath>
#include <string>
#include <tuple>
#include <utility>

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

TEST(Align, ASecondCallTakesItsPyramidFromTheFrameBuffers) {
  // The pyramid levels of every frame come from frame_buffers(): once one call has given its
  // levels back, the next call of the same size allocates nothing from the system.
  const cv::Mat golden = make_pattern({320, 256}, 0.0, 31);
  const cv::Mat frame = shifted(golden, 5, -3);
  const AlignResult first = align(frame, golden, 20, 16, Checkpoint());
  ASSERT_EQ(first.status, Status::ok);
  ASSERT_GT(first.levels, 1) << "the case must build a pyramid";
  const std::size_t fresh = frame_buffers().fresh();
  const AlignResult second = align(frame, golden, 20, 16, Checkpoint());
  ASSERT_EQ(second.status, Status::ok);
  EXPECT_EQ(frame_buffers().fresh(), fresh);
  EXPECT_EQ(second.dx, first.dx);
  EXPECT_EQ(second.dy, first.dy);
  EXPECT_EQ(second.dx, 5);
  cv::Mat level1;  // the first level's size: a buffer the calls gave back is waiting for it
  frame_buffers().create(level1, {160, 128}, CV_8UC1);
  EXPECT_EQ(frame_buffers().fresh(), fresh);
}

TEST(Align, AGoldenPyramidGivesTheSameResult) {
  const cv::Mat golden = make_pattern({333, 301}, 0.0, 41);
  const GoldenPyramid pyramid = golden_pyramid(golden, 16);
  ASSERT_EQ(pyramid.halves.size(),
            static_cast<std::size_t>(pyramid_levels(golden.size(), 1 << 20)));
  ASSERT_GE(pyramid.halves.size(), 2U);
  EXPECT_EQ(pyramid.halves[0].size(), cv::Size(166, 150));
  EXPECT_EQ(pyramid.halves[1].size(), cv::Size(83, 75));
  for (const auto& [dx, dy] : {std::pair{0, 0}, std::pair{9, -4}, std::pair{-21, 17}}) {
    const cv::Mat frame = shifted(golden, dx, dy);
    for (const int radius : {2, 12, 30}) {
      const AlignResult plain = align(frame, golden, radius, 16, Checkpoint());
      const AlignResult reused = align(frame, golden, radius, 16, Checkpoint(), &pyramid);
      ASSERT_EQ(reused.status, Status::ok);
      EXPECT_EQ(reused.dx, plain.dx) << dx << "," << dy << " radius " << radius;
      EXPECT_EQ(reused.dy, plain.dy);
      EXPECT_EQ(reused.confidence, plain.confidence);
      EXPECT_EQ(reused.subpixel_dx, plain.subpixel_dx);
      EXPECT_EQ(reused.levels, plain.levels);
    }
  }
  EXPECT_EQ(align(shifted(golden, 9, -4), golden, 30, 16, Checkpoint(), &pyramid).dx, 9);
}

TEST(Align, ThePyramidsHalvesAreTheOnesSearched) {
  // Halves replaced by blank images: a call that uses them finds nothing at the coarse levels, so
  // its result differs from the plain call's. (Proves the halves are used, not remade.)
  const cv::Mat golden = make_pattern({333, 301}, 0.0, 41);
  GoldenPyramid blank = golden_pyramid(golden, 16);
  for (cv::Mat& half : blank.halves) half = cv::Mat(half.size(), CV_8UC1, cv::Scalar(0));
  const cv::Mat frame = shifted(golden, -21, 17);
  const AlignResult plain = align(frame, golden, 30, 16, Checkpoint());
  const AlignResult reused = align(frame, golden, 30, 16, Checkpoint(), &blank);
  ASSERT_GT(plain.levels, 1);
  EXPECT_EQ(plain.dx, -21);
  EXPECT_FALSE(reused.dx == plain.dx && reused.dy == plain.dy &&
               reused.confidence == plain.confidence);
}

TEST(Align, APyramidOfAnotherImageIsRefused) {
  const cv::Mat golden = make_pattern({128, 96}, 0.0, 43);
  const GoldenPyramid pyramid = golden_pyramid(golden.clone(), 16);  // same pixels, other image
  EXPECT_THROW((void)align(golden, golden, 8, 16, Checkpoint(), &pyramid), std::invalid_argument);
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

// Offsets of tens of pixels, as in real pairs: found through the pyramid, on a non-square frame.
class AlignLargeShift : public ::testing::TestWithParam<ShiftParam> {};

TEST_P(AlignLargeShift, RecoversShiftsUpTo40Pixels) {
  const auto [dx, dy] = GetParam();
  const cv::Mat golden = make_pattern({512, 448}, 0.0, 13);
  const cv::Mat frame = shifted(make_pattern({512, 448}, 3.0, 13), dx, dy);
  const AlignResult r = align(frame, golden, 40, 16, Checkpoint());
  ASSERT_EQ(r.status, Status::ok);
  EXPECT_GT(r.levels, 1) << "a 40 px radius must use the pyramid";
  EXPECT_EQ(r.dx, dx);
  EXPECT_EQ(r.dy, dy);
  EXPECT_GT(r.confidence, 0.8);
  EXPECT_NEAR(r.subpixel_dx, 0.0, 0.2);
  EXPECT_NEAR(r.subpixel_dy, 0.0, 0.2);
}

INSTANTIATE_TEST_SUITE_P(Shifts, AlignLargeShift,
                         ::testing::Values(ShiftParam{0, 0}, ShiftParam{40, 0}, ShiftParam{0, -40},
                                           ShiftParam{-40, 40}, ShiftParam{23, -17},
                                           ShiftParam{-31, -9}, ShiftParam{13, 38},
                                           ShiftParam{-1, 33}));

TEST(Align, PyramidLevelsFollowRadiusAndSize) {
  EXPECT_EQ(pyramid_levels({1024, 1024}, 3), 0);
  EXPECT_EQ(pyramid_levels({1024, 1024}, 12), 2);
  EXPECT_EQ(pyramid_levels({1024, 1024}, 40), 4);
  EXPECT_EQ(pyramid_levels({90, 1024}, 40), 0) << "a level keeps at least 48 rows";
}

// A fractional shift: the integer part is exact and the residue has the right sign and size.
using SubpixelParam = std::tuple<double, double>;
class AlignSubpixel : public ::testing::TestWithParam<SubpixelParam> {};

TEST_P(AlignSubpixel, ReportsTheResidue) {
  const auto [sx, sy] = GetParam();
  cv::Mat golden;
  cv::GaussianBlur(make_pattern({400, 360}, 0.0, 14), golden, {0, 0}, 2.0);
  const cv::Mat m = (cv::Mat_<double>(2, 3) << 1, 0, sx, 0, 1, sy);
  cv::Mat frame;
  cv::warpAffine(golden, frame, m, golden.size(), cv::INTER_CUBIC, cv::BORDER_REFLECT);
  const AlignResult r = align(frame, golden, 20, 16, Checkpoint());
  ASSERT_EQ(r.status, Status::ok);
  EXPECT_EQ(r.dx, static_cast<int>(std::lround(sx)));
  EXPECT_EQ(r.dy, static_cast<int>(std::lround(sy)));
  EXPECT_NEAR(r.dx + r.subpixel_dx, sx, 0.15);
  EXPECT_NEAR(r.dy + r.subpixel_dy, sy, 0.15);
}

INSTANTIATE_TEST_SUITE_P(Fractions, AlignSubpixel,
                         ::testing::Values(SubpixelParam{0.3, 0.0}, SubpixelParam{-0.25, 0.4},
                                           SubpixelParam{7.4, -11.7}, SubpixelParam{-15.2, 2.4}));

// Real DeepPCB pairs: the tested image matches its template with high confidence, and a further
// shift of tens of pixels is recovered on top of the pair's own offset.
using RealParam = std::tuple<std::string, ShiftParam>;
class AlignReal : public ::testing::TestWithParam<RealParam> {};

TEST_P(AlignReal, RecoversShiftOfARealPair) {
  const auto& [id, shift] = GetParam();
  const auto [dx, dy] = shift;
  const RealPair pair = load_deeppcb(id);
  ASSERT_FALSE(pair.temp.empty()) << "missing data/deeppcb/" << id;
  const AlignResult base = align(pair.test, pair.temp, 40, 32, Checkpoint());
  ASSERT_EQ(base.status, Status::ok);
  EXPECT_GT(base.confidence, 0.8);
  const AlignResult r = align(shifted(pair.test, dx, dy, 255), pair.temp, 48, 32, Checkpoint());
  ASSERT_EQ(r.status, Status::ok);
  // These pairs sit up to half a pixel off the grid (92000000: -0.48 px in x), so a crop of the
  // overlap may tip the integer peak to the neighbour; the sub-pixel estimate keeps it consistent.
  EXPECT_LE(std::abs(r.dx - (base.dx + dx)), 1);
  EXPECT_LE(std::abs(r.dy - (base.dy + dy)), 1);
  EXPECT_NEAR(r.dx + r.subpixel_dx, base.dx + base.subpixel_dx + dx, 0.75);
  EXPECT_NEAR(r.dy + r.subpixel_dy, base.dy + base.subpixel_dy + dy, 0.75);
  EXPECT_GT(r.confidence, 0.7);
}

INSTANTIATE_TEST_SUITE_P(DeepPcb, AlignReal,
                         ::testing::Combine(::testing::Values(std::string("77000000"),
                                                              std::string("77000001"),
                                                              std::string("92000000")),
                                            ::testing::Values(ShiftParam{0, 0}, ShiftParam{25, -14},
                                                              ShiftParam{-38, 31})));

}  // namespace
}  // namespace ws::kernels::test
