// blob_context tells the six PCB defect kinds apart by topology on synthetic binary pairs (open
// splits, short joins, pin-hole encloses, copper stands alone, mousebite/spur touch an edge), edge
// lines have no core; merge_blobs and grow_boxes combine and clip boxes.
#include "kernels/blob_context.hpp"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include <string>
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
