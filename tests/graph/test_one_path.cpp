// Pins down the one frame-to-defects path: the inspection graph (reprocessing real DeepPCB pairs
// through RunController) and the training/crossval path (detect_frames, then the classifier) give
// identical defects on the same pairs, because both run FrameInspector's steps.
#include "common/run_fixture.hpp"
#include "inspect/evaluation.hpp"
#include "io/import_pairs.hpp"
#include "waferscan/inspect.hpp"
#include "waferscan/recorded_set.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <numeric>
#include <tuple>
#include <vector>

namespace ws::testing {
namespace {

namespace fs = std::filesystem;

// x, y, w, h, class, confidence (rounded: both paths compute it the same way)
using DefectKey = std::tuple<int, int, int, int, std::string, long>;

std::vector<DefectKey> keys(const std::vector<Defect>& defects) {
  std::vector<DefectKey> out;
  for (const Defect& d : defects) {
    const cv::Rect& b = d.features.bbox;
    out.emplace_back(b.x, b.y, b.width, b.height, d.class_name, std::lround(d.confidence * 1e6));
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(OnePath, TheGraphAndCrossvalFindTheSameDefectsOnTheSamePairs) {
  TempDir dir;
  const std::vector<std::string> classes{"open", "short",  "mousebite",
                                         "spur", "copper", "pin-hole"};
  Manifest m = io::import_pairs(source_path("data/deeppcb"), dir.path() / "set", classes);
  io::record_frame_sizes(m, source_path("data/deeppcb"));
  save_manifest(m);
  const auto model = classify::Classifier::load(source_path("data/models/deeppcb.json"));

  // The crossval path: detect every frame once, then classify its blobs.
  const auto frames = inspect::load_labelled_frames(m);
  ASSERT_EQ(frames.size(), m.frames.size());
  const inspect::FrameInspector inspector =
      inspect::FrameInspector::for_model(model, Recipe{}.detection);
  const auto detections = inspect::detect_frames(frames, inspector);
  std::map<int, std::vector<DefectKey>> crossval;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    ASSERT_TRUE(detections[i].step.ok()) << detections[i].step.reason;
    auto defects = inspect::as_defects(detections[i].blobs);
    model.classify(defects);
    crossval[frames[i].site_index] = keys(defects);
  }

  // The graph: the same pairs reprocessed as a recorded set, no hardware.
  Recipe recipe;
  recipe.camera.width = m.frame_width;
  recipe.camera.height = m.frame_height;
  recipe.time_scale = 0;
  for (const FrameEntry& f : m.frames) {
    recipe.sites.push_back(SiteSpec{f.site_index, f.name, f.die_i, f.die_j, f.x_um, f.y_um});
  }
  RunController controller(Machine{}, dir.path() / "runs.db");
  RunRequest req;
  req.recipe = recipe;
  req.graph = default_graph();
  req.classifier = &model;
  req.set = std::make_shared<Manifest>(m);
  const RunReport r = controller.run(req);
  ASSERT_EQ(r.state, RunState::completed) << r.message;
  std::map<int, std::vector<DefectKey>> graph;
  for (const SiteResult& s : controller.store().sites(r.id)) {
    ASSERT_EQ(s.status, SiteStatus::done) << s.reason;
    graph[s.site.index] = keys(s.defects);
  }
  EXPECT_EQ(graph, crossval);
  const std::size_t found =
      std::accumulate(graph.begin(), graph.end(), std::size_t{0},
                      [](std::size_t n, const auto& site) { return n + site.second.size(); });
  EXPECT_GT(found, 0U) << "the comparison must compare something";
}

}  // namespace
}  // namespace ws::testing
