// blob_context tells the six PCB defect kinds apart by topology on synthetic binary pairs (open
// splits, short joins, pin-hole encloses, copper stands alone, mousebite/spur touch an edge), edge
// lines have no core; tolerant_blobs drops misregistration lines and frees a defect joined to
// them; merge_blobs and grow_boxes combine and clip boxes.
#include "kernels/blob_context.hpp"

#include "kernels/detect.hpp"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

namespace ws::kernels {
namespace {

// Reference: two horizontal conductors (white, 255) on black, 8 px apart, and a wide plane.
cv::Mat reference() {
  cv::Mat g(120, 160, CV_8UC1, cv::Scalar(0));
  cv::rectangle(g, cv::Rect(0, 20, 160, 10), cv::Scalar(255), cv::FILLED);   // conductor A
  cv::rectangle(g, cv::Rect(0, 38, 160, 10), cv::Scalar(255), cv::FILLED);   // conductor B
  cv::rectangle(g, cv::Rect(20, 70, 120, 40), cv::Scalar(255), cv::FILLED);  // plane
  return g;
}

struct Kind {
  std::string name;
  cv::Rect change;  // the defect's box
  int value;        // what is painted there in the frame
  int components_delta;
  int holes_delta;
  bool added;  // the change is new foreground
};

class Topology : public ::testing::TestWithParam<Kind> {};

TEST_P(Topology, DeltaSignsAndPolarity) {
  const Kind& k = GetParam();
  const cv::Mat g = reference();
  cv::Mat f = g.clone();
  cv::rectangle(f, k.change, cv::Scalar(k.value), cv::FILLED);
  std::vector<BlobFeatures> blobs(1);
  blobs[0].bbox = k.change;
  blob_context(f, g, 0, 0, 6, 32, blobs);
  const BlobFeatures& b = blobs[0];
  EXPECT_EQ(b.components_delta, k.components_delta);
  EXPECT_EQ(b.holes_delta, k.holes_delta);
  EXPECT_DOUBLE_EQ(b.added_fraction, k.added ? 1.0 : 0.0);
  EXPECT_GT(b.core_fraction, 0.0);
  if (k.name == "copper") {
    EXPECT_DOUBLE_EQ(b.ring_fg_ref, 0.0);  // touches nothing
  }
  if (k.name == "pin_hole") {
    EXPECT_DOUBLE_EQ(b.ring_fg_ref, 1.0);  // copper all around
  }
}

INSTANTIATE_TEST_SUITE_P(Kernels, Topology,
                         ::testing::Values(Kind{"open", {60, 20, 6, 10}, 0, +1, 0, false},
                                           Kind{"short", {60, 30, 6, 8}, 255, -1, 0, true},
                                           Kind{"mousebite", {60, 20, 6, 4}, 0, 0, 0, false},
                                           Kind{"spur", {60, 10, 4, 10}, 255, 0, 0, true},
                                           Kind{"copper", {100, 56, 6, 6}, 255, +1, 0, true},
                                           Kind{"pin_hole", {70, 85, 6, 6}, 0, 0, +1, false}),
                         [](const auto& p) { return p.param.name; });

// Where a change touches the pattern: a short touches two conductors and leaves one, a spur
// touches one and leaves one.
TEST(BlobContext, TouchedComponentsTellAShortFromASpur) {
  const cv::Mat g = reference();
  for (const auto& [change, ref, frame] :
       {std::tuple{cv::Rect(60, 30, 6, 8), 2, 1}, std::tuple{cv::Rect(60, 10, 4, 10), 1, 1}}) {
    cv::Mat f = g.clone();
    cv::rectangle(f, change, cv::Scalar(255), cv::FILLED);
    std::vector<BlobFeatures> blobs(1);
    blobs[0].bbox = change;
    blob_context(f, g, 0, 0, 6, 32, blobs);
    EXPECT_EQ(blobs[0].touched_ref, ref) << change;
    EXPECT_EQ(blobs[0].touched_frame, frame) << change;
  }
}

// A spur whose ragged copper encloses a speck of board: counted, the speck is a new component
// (and a hole), as a short's split would be; under min_component_px it is not.
TEST(BlobContext, SpecksUnderTheMinimumAreNotComponents) {
  const cv::Mat g = reference();
  cv::Mat f = g.clone();
  const cv::Rect spur(60, 8, 8, 12);
  cv::rectangle(f, spur, cv::Scalar(255), cv::FILLED);
  cv::rectangle(f, cv::Rect(62, 11, 2, 2), cv::Scalar(0), cv::FILLED);  // a 4 px speck inside
  std::vector<BlobFeatures> blobs(1);
  blobs[0].bbox = spur;
  blob_context(f, g, 0, 0, 6, 32, blobs);
  EXPECT_EQ(blobs[0].holes_delta, 1);
  blobs[0] = BlobFeatures{};
  blobs[0].bbox = spur;
  blob_context(f, g, 0, 0, 6, 32, blobs, 20);
  EXPECT_EQ(blobs[0].holes_delta, 0);
  EXPECT_EQ(blobs[0].components_delta, 0);
}

TEST(BlobContext, EdgeLineHasNoCore) {
  const cv::Mat g = reference();
  cv::Mat f = g.clone();
  cv::line(f, {10, 19}, {100, 19}, cv::Scalar(255));  // conductor A one pixel wider
  std::vector<BlobFeatures> blobs(1);
  blobs[0].bbox = {10, 19, 91, 1};
  blob_context(f, g, 0, 0, 6, 32, blobs);
  EXPECT_DOUBLE_EQ(blobs[0].core_fraction, 0.0);
}

TEST(BlobContext, FlatWindowLeavesFieldsZero) {
  const cv::Mat g(40, 40, CV_8UC1, cv::Scalar(0));
  std::vector<BlobFeatures> blobs(1);
  blobs[0].bbox = {10, 10, 5, 5};
  blobs[0].components_delta = 7;
  blob_context(g, g, 0, 0, 6, 32, blobs);
  EXPECT_EQ(blobs[0].components_delta, 0);
  EXPECT_DOUBLE_EQ(blobs[0].core_fraction, 0.0);
}

TEST(BlobContext, ShiftedReferenceIsCompared) {
  // The frame is the reference moved by (3, 2) plus a speck: only the speck is a change.
  const cv::Mat g = reference();
  cv::Mat f(g.size(), CV_8UC1, cv::Scalar(0));
  g(cv::Rect(0, 0, 157, 118)).copyTo(f(cv::Rect(3, 2, 157, 118)));
  cv::rectangle(f, cv::Rect(100, 58, 6, 6), cv::Scalar(255), cv::FILLED);
  std::vector<BlobFeatures> blobs(1);
  blobs[0].bbox = {100, 58, 6, 6};
  blob_context(f, g, 3, 2, 6, 32, blobs);
  EXPECT_EQ(blobs[0].components_delta, 1);
  EXPECT_DOUBLE_EQ(blobs[0].added_fraction, 1.0);
}

TEST(BlobContext, RejectsBadInput) {
  const cv::Mat g = reference();
  std::vector<BlobFeatures> blobs;
  EXPECT_THROW(blob_context(g, g, 0, 0, 0, 32, blobs), std::invalid_argument);
  EXPECT_THROW(blob_context(g, cv::Mat(10, 10, CV_8UC1), 0, 0, 6, 32, blobs),
               std::invalid_argument);
}

// The reference moved right by one pixel (a misregistration the alignment cannot remove: the
// conductors' left edges stay put, the plane's right edge moves) with a spur on conductor A, a
// hole in the plane and a spur on the plane's moved edge (joined to its edge line).
cv::Mat misregistered_frame(const cv::Mat& g) {
  cv::Mat f = g.clone();
  g(cv::Rect(40, 0, 119, 120)).copyTo(f(cv::Rect(41, 0, 119, 120)));
  cv::rectangle(f, cv::Rect(80, 12, 6, 8), cv::Scalar(255), cv::FILLED);   // spur, joins A
  cv::rectangle(f, cv::Rect(90, 85, 5, 5), cv::Scalar(0), cv::FILLED);     // hole in the plane
  cv::rectangle(f, cv::Rect(141, 80, 6, 6), cv::Scalar(255), cv::FILLED);  // spur on the edge
  return f;
}

DetectionSpec binary_spec() {
  DetectionSpec s;
  s.threshold_sigma = 0;
  s.min_threshold = 100;
  s.min_area_px = 4;
  s.max_shift_px = 0;
  return s;
}

TEST(TolerantBlobs, RadiusZeroGivesDetectsBlobs) {
  const cv::Mat g = reference();
  const cv::Mat f = misregistered_frame(g);
  const DetectOutput det = detect(f, g, binary_spec(), Checkpoint{});
  ASSERT_GT(det.blobs.size(), 2u);  // the two defects and edge lines
  std::vector<BlobFeatures> blobs = det.blobs;
  tolerant_blobs(f, g, det.dx, det.dy, det.threshold, 0, 4, blobs);
  const auto key = [](const BlobFeatures& b) { return std::tie(b.bbox.y, b.bbox.x, b.area_px); };
  std::vector<BlobFeatures> expected = det.blobs;
  std::sort(expected.begin(), expected.end(),
            [&](const auto& a, const auto& b) { return key(a) < key(b); });
  ASSERT_EQ(blobs.size(), expected.size());
  for (std::size_t i = 0; i < blobs.size(); ++i) {
    EXPECT_EQ(blobs[i].bbox, expected[i].bbox);
    EXPECT_EQ(blobs[i].area_px, expected[i].area_px);
    EXPECT_NEAR(blobs[i].centroid.x, expected[i].centroid.x, 1e-9);
    EXPECT_NEAR(blobs[i].centroid.y, expected[i].centroid.y, 1e-9);
    EXPECT_NEAR(blobs[i].elongation, expected[i].elongation, 1e-9);
    EXPECT_EQ(blobs[i].polarity, expected[i].polarity);
    EXPECT_NEAR(blobs[i].contrast, expected[i].contrast, 1e-9);
    EXPECT_EQ(blobs[i].max_contrast, expected[i].max_contrast);
  }
}

TEST(TolerantBlobs, OnePixelToleranceKeepsOnlyTheDefects) {
  const cv::Mat g = reference();
  const cv::Mat f = misregistered_frame(g);
  const DetectOutput det = detect(f, g, binary_spec(), Checkpoint{});
  std::vector<BlobFeatures> blobs = det.blobs;
  tolerant_blobs(f, g, det.dx, det.dy, det.threshold, 1, 4, blobs);
  // Plain difference: the edge spur and the plane's edge line are one blob.
  const auto joined = std::find_if(det.blobs.begin(), det.blobs.end(), [](const BlobFeatures& b) {
    return b.bbox.contains({141, 80}) && b.bbox.contains({140, 70});
  });
  EXPECT_NE(joined, det.blobs.end());
  ASSERT_EQ(blobs.size(), 3u);
  // The spur's row next to the conductor is within a pixel of copper in the reference.
  EXPECT_EQ(blobs[0].bbox, cv::Rect(80, 12, 6, 7));
  EXPECT_EQ(blobs[0].polarity, Polarity::bright);
  EXPECT_EQ(blobs[1].bbox, cv::Rect(141, 80, 6, 6));
  EXPECT_EQ(blobs[1].area_px, 36);
  EXPECT_EQ(blobs[2].bbox, cv::Rect(90, 85, 5, 5));
  EXPECT_EQ(blobs[2].area_px, 25);
  EXPECT_EQ(blobs[2].polarity, Polarity::dark);
}

TEST(TolerantBlobs, RejectsBadInput) {
  const cv::Mat g = reference();
  std::vector<BlobFeatures> blobs;
  EXPECT_THROW(tolerant_blobs(g, g, 0, 0, 100, -1, 4, blobs), std::invalid_argument);
  EXPECT_THROW(tolerant_blobs(g, g, 0, 0, 255, 1, 4, blobs), std::invalid_argument);
  EXPECT_THROW(tolerant_blobs(g, cv::Mat(10, 10, CV_8UC1), 0, 0, 100, 1, 4, blobs),
               std::invalid_argument);
}

BlobFeatures blob(cv::Rect box, int area, Polarity p, double contrast) {
  BlobFeatures b;
  b.bbox = box;
  b.area_px = area;
  b.centroid = {box.x + box.width / 2.0, box.y + box.height / 2.0};
  b.polarity = p;
  b.contrast = contrast;
  b.max_contrast = contrast;
  return b;
}

TEST(MergeBlobs, NearbyPiecesBecomeOneTransitively) {
  std::vector<BlobFeatures> blobs{blob({0, 0, 10, 10}, 50, Polarity::dark, 100),
                                  blob({100, 100, 5, 5}, 10, Polarity::bright, 50),
                                  blob({13, 0, 10, 10}, 150, Polarity::bright, 200),
                                  blob({26, 0, 4, 4}, 16, Polarity::dark, 100)};
  merge_blobs(4, blobs);
  ASSERT_EQ(blobs.size(), 2u);
  EXPECT_EQ(blobs[0].bbox, cv::Rect(0, 0, 30, 10));
  EXPECT_EQ(blobs[0].area_px, 216);
  EXPECT_EQ(blobs[0].polarity, Polarity::bright);  // of the largest piece
  EXPECT_DOUBLE_EQ(blobs[0].contrast, (50 * 100 + 150 * 200 + 16 * 100) / 216.0);
  EXPECT_DOUBLE_EQ(blobs[0].fill, 216.0 / 300.0);
  EXPECT_EQ(blobs[1].bbox, cv::Rect(100, 100, 5, 5));
}

TEST(MergeBlobs, NegativeDistanceKeepsAll) {
  std::vector<BlobFeatures> blobs{blob({0, 0, 10, 10}, 50, Polarity::dark, 1),
                                  blob({0, 0, 10, 10}, 50, Polarity::dark, 1)};
  merge_blobs(-1, blobs);
  EXPECT_EQ(blobs.size(), 2u);
}

TEST(GrowBoxes, GrowsAndClips) {
  std::vector<BlobFeatures> blobs{blob({2, 50, 10, 10}, 1, Polarity::dark, 1)};
  grow_boxes(5, {0, 0, 64, 58}, blobs);
  EXPECT_EQ(blobs[0].bbox, cv::Rect(0, 45, 17, 13));
}

}  // namespace
}  // namespace ws::kernels
