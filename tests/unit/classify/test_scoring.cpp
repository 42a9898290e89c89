// Scoring with the DeepPCB rule (IoU > 0.33 with a true box of the same class, one-to-one):
// exact IoU boundary, class mismatch, duplicates as false positives, precision/recall/F arithmetic;
// and blob labelling by coverage of the blob's box.
#include "classify/scoring.hpp"

#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

namespace ws::classify {
namespace {

Defect det(cv::Rect box, std::string cls, double confidence = 0.9) {
  Defect d;
  d.features.bbox = box;
  d.class_name = std::move(cls);
  d.confidence = confidence;
  return d;
}

TEST(Iou, KnownValues) {
  EXPECT_DOUBLE_EQ(iou({0, 0, 10, 10}, {0, 0, 10, 10}), 1.0);
  EXPECT_DOUBLE_EQ(iou({0, 0, 10, 10}, {10, 0, 10, 10}), 0.0);  // touching, no overlap
  EXPECT_DOUBLE_EQ(iou({0, 0, 10, 10}, {5, 0, 10, 10}), 50.0 / 150.0);
  EXPECT_DOUBLE_EQ(iou({0, 0, 0, 0}, {0, 0, 0, 0}), 0.0);
}

// A 100x10 true box and a detection that shares `overlap` columns of it, with the detection's
// width chosen so that IoU is exactly overlap*10 / (1000 + width*10 - overlap*10).
struct BoundaryCase {
  int det_x;
  int det_w;
  bool correct;
};
class IouBoundary : public ::testing::TestWithParam<BoundaryCase> {};

TEST_P(IouBoundary, StrictlyAboveOneThirdCounts) {
  const auto [x, w, correct] = GetParam();
  const cv::Rect truth(0, 0, 100, 10);
  Scorer s(1.0 / 3.0);
  s.add({det({x, 0, w, 10}, "open")}, {{truth, "open"}});
  EXPECT_EQ(s.overall().correct, correct ? 1 : 0) << "IoU " << iou({x, 0, w, 10}, truth);
}

// Detection [0, 50): IoU 50/100 = 0.5. Detection [50, 100): 0.5. [0, 100) shifted by 50: 50/150
// = 1/3 exactly (not > 1/3). Shifted by 49: 51/149 > 1/3.
INSTANTIATE_TEST_SUITE_P(Scoring, IouBoundary,
                         ::testing::Values(BoundaryCase{0, 50, true}, BoundaryCase{50, 50, true},
                                           BoundaryCase{50, 100, false},
                                           BoundaryCase{49, 100, true},
                                           BoundaryCase{100, 100, false}));

TEST(Scorer, DataSetThresholdIsStrict) {
  // 0.33 itself: a detection with IoU exactly 0.33 is not correct.
  const cv::Rect truth(0, 0, 100, 1);
  Scorer s(0.33);
  s.add({det({0, 0, 33, 1}, "spur")}, {{truth, "spur"}});  // 33 / 100
  EXPECT_EQ(s.overall().correct, 0);
  Scorer t(0.33);
  t.add({det({0, 0, 34, 1}, "spur")}, {{truth, "spur"}});
  EXPECT_EQ(t.overall().correct, 1);
}

TEST(Scorer, ClassMismatchIsAFalsePositiveAndAMiss) {
  Scorer s;
  s.add({det({0, 0, 10, 10}, "short")}, {{{0, 0, 10, 10}, "open"}});
  const auto classes = s.per_class();
  ASSERT_EQ(classes.size(), 2u);
  EXPECT_EQ(classes[0].name, "open");
  EXPECT_EQ(classes[0].truths, 1);
  EXPECT_EQ(classes[0].correct, 0);
  EXPECT_DOUBLE_EQ(classes[0].recall(), 0.0);
  EXPECT_EQ(classes[1].name, "short");
  EXPECT_EQ(classes[1].detections, 1);
  EXPECT_DOUBLE_EQ(classes[1].precision(), 0.0);
  EXPECT_DOUBLE_EQ(s.overall().f_score(), 0.0);
}

TEST(Scorer, DuplicatesAreFalsePositives) {
  Scorer s;
  s.add({det({0, 0, 10, 10}, "open", 0.5), det({1, 0, 10, 10}, "open", 0.9)},
        {{{0, 0, 10, 10}, "open"}});
  const ClassScore o = s.overall();
  EXPECT_EQ(o.detections, 2);
  EXPECT_EQ(o.correct, 1);
  EXPECT_DOUBLE_EQ(o.precision(), 0.5);
  EXPECT_DOUBLE_EQ(o.recall(), 1.0);
  EXPECT_DOUBLE_EQ(o.f_score(), 2 * 0.5 * 1.0 / 1.5);
}

TEST(Scorer, HigherConfidenceTakesTheBox) {
  // Two true boxes; the confident detection overlaps both but best matches the second one.
  Scorer s;
  s.add({det({0, 0, 10, 10}, "pin-hole", 0.2), det({4, 0, 10, 10}, "pin-hole", 0.8)},
        {{{0, 0, 10, 10}, "pin-hole"}, {{5, 0, 10, 10}, "pin-hole"}});
  EXPECT_EQ(s.overall().correct, 2);
}

TEST(Scorer, AccumulatesFramesIndependently) {
  Scorer s;
  s.add({det({0, 0, 10, 10}, "copper")}, {{{0, 0, 10, 10}, "copper"}});
  // Same box in another frame: it may not match the first frame's truth.
  s.add({det({0, 0, 10, 10}, "copper")}, {});
  s.add({}, {{{50, 50, 10, 10}, "copper"}});
  const ClassScore o = s.overall();
  EXPECT_EQ(s.frames(), 3);
  EXPECT_EQ(o.truths, 2);
  EXPECT_EQ(o.detections, 2);
  EXPECT_EQ(o.correct, 1);
  EXPECT_DOUBLE_EQ(o.f_score(), 0.5);
}

TEST(Scorer, EmptyIsPerfect) {
  Scorer s;
  s.add({}, {});
  EXPECT_DOUBLE_EQ(s.overall().f_score(), 1.0);
}

TEST(LabelBlobs, CoverageOfTheBlobDecides) {
  const std::vector<LabelledDefect> truth{{{0, 0, 40, 40}, "open"}, {{100, 100, 40, 40}, "short"}};
  std::vector<BlobFeatures> blobs(4);
  blobs[0].bbox = {10, 10, 5, 5};      // inside the open box: IoU tiny, coverage 1
  blobs[1].bbox = {130, 130, 20, 20};  // a quarter inside short: below 0.5
  blobs[2].bbox = {300, 300, 5, 5};    // on nothing
  blobs[3].bbox = {35, 0, 70, 40};     // touches both a little
  const auto labels = label_blobs(blobs, truth, 0.5);
  ASSERT_EQ(labels.size(), 4u);
  EXPECT_EQ(labels[0], std::optional<std::string>("open"));
  EXPECT_FALSE(labels[1]);
  EXPECT_FALSE(labels[2]);
  EXPECT_FALSE(labels[3]);
  EXPECT_EQ(label_blobs(blobs, truth, 0.25)[1], std::optional<std::string>("short"));
}

}  // namespace
}  // namespace ws::classify
