// Pins down detection quality on the simulator's ground truth: a full demo-recipe run through the
// real graph finds >= 95% of the injected defects with >= 90% precision (a detection counts when
// its box overlaps a true box), and classifies most of them as their true class.
#include "common/run_fixture.hpp"

#include <gtest/gtest.h>

namespace ws::testing {
namespace {

class DetectionAccuracy : public RunFixture {
 protected:
  void SetUp() override {
    Recipe r = load_recipe(source_path("data/recipes/demo.yaml"));
    r.time_scale = 0;  // compute only
    make(r);
  }
};

TEST_F(DetectionAccuracy, DemoRecipeMeetsRecallAndPrecision) {
  const RunReport report = controller_->run(request());
  ASSERT_EQ(report.state, RunState::completed);
  const auto sites = controller_->store().sites(report.id);
  int truths = 0;
  int found = 0;
  int detections = 0;
  int true_detections = 0;
  int class_right = 0;
  for (const auto& site : sites) {
    ASSERT_EQ(site.status, SiteStatus::done) << site.reason;
    const auto truth = sim_->truth(site.site.die_i, site.site.die_j);
    truths += static_cast<int>(truth.size());
    for (const auto& t : truth) {
      bool hit = false;
      bool same_class = false;
      for (const auto& d : site.defects) {
        if ((d.features.bbox & t.bbox).area() > 0) {
          hit = true;
          same_class = same_class || d.class_name == t.class_name;
        }
      }
      found += hit ? 1 : 0;
      class_right += same_class ? 1 : 0;
    }
    for (const auto& d : site.defects) {
      ++detections;
      for (const auto& t : truth) {
        if ((d.features.bbox & t.bbox).area() > 0) {
          ++true_detections;
          break;
        }
      }
    }
  }
  ASSERT_GT(truths, 100) << "the demo must inject enough defects to measure";
  const double recall = static_cast<double>(found) / truths;
  const double precision = static_cast<double>(true_detections) / detections;
  const double class_accuracy = static_cast<double>(class_right) / truths;
  RecordProperty("recall", std::to_string(recall));
  RecordProperty("precision", std::to_string(precision));
  RecordProperty("class_accuracy", std::to_string(class_accuracy));
  std::printf("truth %d, detections %d: recall %.3f precision %.3f class accuracy %.3f\n", truths,
              detections, recall, precision, class_accuracy);
  EXPECT_GE(recall, 0.95);
  EXPECT_GE(precision, 0.90);
  EXPECT_GE(class_accuracy, 0.85);
}

}  // namespace
}  // namespace ws::testing
