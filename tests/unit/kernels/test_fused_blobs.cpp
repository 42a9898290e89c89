// fused_blobs() gives the OpenCV chain's blobs (absdiff, threshold, connectedComponentsWithStats)
// and the separate chain's exact features, at any size, content, shift, level and band.
#include "kernels/absdiff_shifted.hpp"
#include "kernels/blob_features.hpp"
#include "kernels/connected_components.hpp"
#include "kernels/detect.hpp"
#include "kernels/fused_blobs.hpp"
#include "kernels/threshold.hpp"
#include "test_images.hpp"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace ws::kernels::test {
namespace {

using Box = std::tuple<int, int, int, int, int>;  // x, y, width, height, area

// The OpenCV chain on the overlap of frame and shifted golden, boxes in frame pixels.
std::multiset<Box> opencv_blobs(const cv::Mat& frame, const cv::Mat& golden, int dx, int dy,
                                int level) {
  std::multiset<Box> boxes;
  const cv::Rect valid = valid_region(frame.size(), dx, dy);
  if (valid.empty()) return boxes;
  cv::Mat diff;
  cv::absdiff(frame(valid), golden(valid - cv::Point(dx, dy)), diff);
  cv::Mat binary;
  cv::threshold(diff, binary, level, 255, cv::THRESH_BINARY);
  cv::Mat labels;
  cv::Mat stats;
  cv::Mat centroids;
  const int n = cv::connectedComponentsWithStats(binary, labels, stats, centroids, 8, CV_32S);
  for (int i = 1; i < n; ++i) {
    boxes.emplace(valid.x + stats.at<int>(i, cv::CC_STAT_LEFT),
                  valid.y + stats.at<int>(i, cv::CC_STAT_TOP), stats.at<int>(i, cv::CC_STAT_WIDTH),
                  stats.at<int>(i, cv::CC_STAT_HEIGHT), stats.at<int>(i, cv::CC_STAT_AREA));
  }
  return boxes;
}

std::multiset<Box> boxes_of(const std::vector<BlobFeatures>& blobs) {
  std::multiset<Box> boxes;
  for (const BlobFeatures& b : blobs) {
    boxes.emplace(b.bbox.x, b.bbox.y, b.bbox.width, b.bbox.height, b.area_px);
  }
  return boxes;
}

// The separate chain of this project's kernels, in label order.
std::vector<BlobFeatures> separate_blobs(const cv::Mat& frame, const cv::Mat& golden, int dx,
                                         int dy, int level, int min_area, int band) {
  cv::Mat diff;
  cv::Mat binary;
  cv::Mat labels;
  std::vector<Component> comps;
  std::vector<BlobFeatures> blobs;
  const Checkpoint cp;
  EXPECT_EQ(absdiff_shifted(frame, golden, dx, dy, band, cp, diff), Status::ok);
  EXPECT_EQ(threshold(diff, level, band, cp, binary), Status::ok);
  EXPECT_EQ(connected_components(binary, band, cp, labels, comps), Status::ok);
  EXPECT_EQ(blob_features({frame, golden, dx, dy, diff, labels}, comps, min_area, band, cp, blobs),
            Status::ok);
  return blobs;
}

void expect_same_features(const std::vector<BlobFeatures>& got,
                          const std::vector<BlobFeatures>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].bbox, want[i].bbox) << i;
    EXPECT_EQ(got[i].area_px, want[i].area_px) << i;
    EXPECT_EQ(got[i].centroid, want[i].centroid) << i;
    EXPECT_EQ(got[i].elongation, want[i].elongation) << i;
    EXPECT_EQ(got[i].fill, want[i].fill) << i;
    EXPECT_EQ(got[i].polarity, want[i].polarity) << i;
    EXPECT_EQ(got[i].contrast, want[i].contrast) << i;
    EXPECT_EQ(got[i].max_contrast, want[i].max_contrast) << i;
  }
}

// size, frame content, golden content, band_rows, shift
using Shift = std::tuple<int, int>;
using Param = std::tuple<cv::Size, Fill, Fill, int, Shift>;

class FusedBlobs : public ::testing::TestWithParam<Param> {};

TEST_P(FusedBlobs, EqualsOpenCvChainAndSeparateChain) {
  const auto& [size, frame_fill, golden_fill, band, shift] = GetParam();
  const auto [dx, dy] = shift;
  const cv::Mat frame = make_image(size, frame_fill, 61);
  const cv::Mat golden = make_image(size, golden_fill, 62);
  for (const int level : {0, 1, 100, 200, 254, 255}) {
    std::vector<BlobFeatures> blobs;
    ASSERT_EQ(fused_blobs(frame, golden, dx, dy, level, 0, band, Checkpoint(), blobs), Status::ok);
    EXPECT_EQ(boxes_of(blobs), opencv_blobs(frame, golden, dx, dy, level)) << "level " << level;
    expect_same_features(blobs, separate_blobs(frame, golden, dx, dy, level, 0, band));
    // With a minimum area, small components inside a band are dropped before the merge: the
    // result must still be the separate chain's, which filters after labelling the whole image.
    for (const int min_area : {2, 7}) {
      ASSERT_EQ(fused_blobs(frame, golden, dx, dy, level, min_area, band, Checkpoint(), blobs),
                Status::ok);
      expect_same_features(blobs, separate_blobs(frame, golden, dx, dy, level, min_area, band));
    }
  }
}

std::string param_name(const ::testing::TestParamInfo<Param>& info) {
  const auto& [size, f, g, band, shift] = info.param;
  const auto sign = [](int v) { return (v < 0 ? "m" : "") + std::to_string(std::abs(v)); };
  return std::to_string(size.width) + "x" + std::to_string(size.height) + "_" + to_string(f) +
         "_vs_" + to_string(g) + "_band" + std::to_string(band) + "_shift" +
         sign(std::get<0>(shift)) + "_" + sign(std::get<1>(shift));
}

INSTANTIATE_TEST_SUITE_P(
    Sweep, FusedBlobs,
    ::testing::Combine(::testing::Values(cv::Size(1, 1), cv::Size(37, 1), cv::Size(1, 29),
                                         cv::Size(17, 23), cv::Size(257, 129)),
                       ::testing::Values(Fill::random, Fill::zero, Fill::full, Fill::sparse),
                       ::testing::Values(Fill::random, Fill::zero), ::testing::Values(1, 5, 64),
                       ::testing::Values(Shift{0, 0}, Shift{3, -2})),
    param_name);

// Blobs crossing many band boundaries (long vertical and diagonal scratches, a U shape that joins
// only at its bottom, a ring), on a die-like pattern with noise.
TEST(FusedBlobsSynthetic, ShapesAcrossBandsMatch) {
  const cv::Size size(301, 263);
  const cv::Mat golden = make_pattern(size, 0.0, 63);
  cv::Mat frame = make_pattern(size, 2.0, 63);
  cv::line(frame, {20, 5}, {22, 250}, cv::Scalar(255), 2);
  cv::line(frame, {40, 10}, {200, 240}, cv::Scalar(0), 1);
  cv::rectangle(frame, {230, 20}, {236, 200}, cv::Scalar(250), cv::FILLED);
  cv::rectangle(frame, {250, 20}, {256, 200}, cv::Scalar(250), cv::FILLED);
  cv::rectangle(frame, {230, 200}, {256, 206}, cv::Scalar(250), cv::FILLED);
  cv::circle(frame, {120, 80}, 30, cv::Scalar(255), 3);
  for (const int band : {1, 2, 3, 8, 64, 1000}) {
    std::vector<BlobFeatures> blobs;
    ASSERT_EQ(fused_blobs(frame, golden, 0, 0, 30, 0, band, Checkpoint(), blobs), Status::ok);
    EXPECT_EQ(boxes_of(blobs), opencv_blobs(frame, golden, 0, 0, 30)) << "band " << band;
    expect_same_features(blobs, separate_blobs(frame, golden, 0, 0, 30, 0, band));
    // Shapes whose piece in each band is smaller than the minimum area must survive whole.
    for (const int min_area : {3, 50, 400}) {
      ASSERT_EQ(fused_blobs(frame, golden, 0, 0, 30, min_area, band, Checkpoint(), blobs),
                Status::ok);
      EXPECT_FALSE(blobs.empty()) << "band " << band << " min_area " << min_area;
      expect_same_features(blobs, separate_blobs(frame, golden, 0, 0, 30, min_area, band));
    }
  }
}

TEST(FusedBlobsSynthetic, MinAreaDropsSmallBlobsOnly) {
  const cv::Mat frame = make_image({120, 90}, Fill::sparse, 64);
  const cv::Mat golden(frame.size(), CV_8UC1, cv::Scalar(0));
  std::vector<BlobFeatures> blobs;
  ASSERT_EQ(fused_blobs(frame, golden, 0, 0, 0, 5, 7, Checkpoint(), blobs), Status::ok);
  expect_same_features(blobs, separate_blobs(frame, golden, 0, 0, 0, 5, 7));
  for (const BlobFeatures& b : blobs) EXPECT_GE(b.area_px, 5);
}

TEST(FusedBlobsSynthetic, RejectsBadArguments) {
  const cv::Mat a(10, 10, CV_8UC1, cv::Scalar(0));
  std::vector<BlobFeatures> blobs;
  EXPECT_THROW(fused_blobs(a, a, 0, 0, -1, 0, 4, Checkpoint(), blobs), std::invalid_argument);
  EXPECT_THROW(fused_blobs(a, a, 0, 0, 256, 0, 4, Checkpoint(), blobs), std::invalid_argument);
  EXPECT_THROW(fused_blobs(a, a, 0, 0, 10, 0, 0, Checkpoint(), blobs), std::invalid_argument);
  EXPECT_THROW(fused_blobs(a, cv::Mat(9, 10, CV_8UC1), 0, 0, 10, 0, 4, Checkpoint(), blobs),
               std::invalid_argument);
}

// Real DeepPCB pairs: the fused path equals both chains at the pair's own alignment, and detect()
// gives the same output on either path.
class FusedBlobsReal : public ::testing::TestWithParam<std::string> {};

TEST_P(FusedBlobsReal, EqualsBothChains) {
  const RealPair pair = load_deeppcb(GetParam());
  ASSERT_FALSE(pair.temp.empty()) << "missing data/deeppcb/" << GetParam();
  DetectionSpec spec;
  spec.max_shift_px = 16;
  spec.band_rows = 48;
  spec.min_area_px = 0;
  const DetectOutput fused = detect(pair.test, pair.temp, spec, Checkpoint(), DetectPath::fused);
  const DetectOutput separate =
      detect(pair.test, pair.temp, spec, Checkpoint(), DetectPath::separate);
  ASSERT_EQ(fused.status, Status::ok);
  ASSERT_EQ(separate.status, Status::ok);
  EXPECT_EQ(fused.dx, separate.dx);
  EXPECT_EQ(fused.dy, separate.dy);
  EXPECT_EQ(fused.threshold, separate.threshold);
  EXPECT_FALSE(fused.blobs.empty()) << "a real pair has defects";
  expect_same_features(fused.blobs, separate.blobs);
  EXPECT_EQ(boxes_of(fused.blobs),
            opencv_blobs(pair.test, pair.temp, fused.dx, fused.dy, fused.threshold));
  for (const int level : {10, 128}) {
    std::vector<BlobFeatures> blobs;
    ASSERT_EQ(
        fused_blobs(pair.test, pair.temp, fused.dx, fused.dy, level, 0, 17, Checkpoint(), blobs),
        Status::ok);
    EXPECT_EQ(boxes_of(blobs), opencv_blobs(pair.test, pair.temp, fused.dx, fused.dy, level));
  }
}

INSTANTIATE_TEST_SUITE_P(DeepPcb, FusedBlobsReal,
                         ::testing::Values("77000000", "77000001", "92000000"));

}  // namespace
}  // namespace ws::kernels::test
