// Pins down where the exports get a run's geometry: the recipe for a live run, the recorded set's
// manifest for a reprocessed run, the class names from the run's model; a recipe or set that is
// gone is a ConfigError naming it; and the inspected-area and density arithmetic.
#include "common/run_fixture.hpp"
#include "publish/run_geometry.hpp"
#include "synthetic_run.hpp"
#include "waferscan/error.hpp"
#include "waferscan/recorded_set.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace ws::testing {
namespace {

std::string config_error_of(const RunRecord& run) {
  try {
    (void)publish::load_run_geometry(run);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no ConfigError";
}

TEST(RunGeometry, LiveRunTakesTheRecipeAndTheRunsModel) {
  RunRecord run;
  run.id = 1;
  run.recipe_path = source_path("data/recipes/quick.yaml").string();
  run.model_path = source_path("data/models/sim.json").string();
  const auto g = publish::load_run_geometry(run);
  EXPECT_EQ(g.lot_id, "DEMO-LOT-01");
  EXPECT_DOUBLE_EQ(g.die_origin_x_um, -100000);
  EXPECT_DOUBLE_EQ(g.pixel_size_um, 5);
  EXPECT_EQ(g.frame_width, 1024);
  EXPECT_FALSE(g.model_classes.empty());
}

TEST(RunGeometry, ReprocessedRunTakesTheSetsManifest) {
  TempDir dir;
  for (const char* f : {"golden.png", "f0.png"}) std::ofstream(dir.path() / f) << "x";
  Manifest m;
  m.dir = dir.path();
  m.path = dir.path() / "manifest.yaml";
  m.lot_id = "SET-LOT";
  m.wafer_id = "W11";
  m.wafer_diameter_mm = 150;
  m.die_pitch_x_um = 7000;
  m.die_pitch_y_um = 6000;
  m.die_origin_x_um = -70000;
  m.die_origin_y_um = -60000;
  m.frame_width = 640;
  m.frame_height = 480;
  m.pixel_size_um = 3;
  m.golden = dir.path() / "golden.png";
  m.classes = {"open", "short"};
  FrameEntry e;
  e.image = dir.path() / "f0.png";
  e.name = "f0";
  m.frames.push_back(e);
  save_manifest(m);

  RunRecord run;
  run.id = 2;
  run.recipe_path = m.path.string();
  run.set_path = dir.path().string();
  const auto g = publish::load_run_geometry(run);
  EXPECT_EQ(g.lot_id, "SET-LOT");
  EXPECT_EQ(g.wafer_id, "W11");
  EXPECT_DOUBLE_EQ(g.wafer_diameter_mm, 150);
  EXPECT_DOUBLE_EQ(g.die_pitch_x_um, 7000);
  EXPECT_DOUBLE_EQ(g.die_origin_y_um, -60000);
  EXPECT_EQ(g.frame_height, 480);
  EXPECT_DOUBLE_EQ(g.pixel_size_um, 3);
  EXPECT_EQ(g.model_classes, (std::vector<std::string>{"open", "short"}));

  std::filesystem::remove_all(dir.path());
  EXPECT_NE(config_error_of(run).find(dir.path().string()), std::string::npos)
      << config_error_of(run);
}

TEST(RunGeometry, RunWithoutItsRecipeFileIsAConfigErrorNamingIt) {
  RunRecord run;
  run.id = 3;
  run.recipe_path = "/nonexistent/waferscan/recipe-gone.yaml";
  const std::string what = config_error_of(run);
  EXPECT_NE(what.find("recipe-gone.yaml"), std::string::npos) << what;
  EXPECT_NE(what.find("run 3"), std::string::npos) << what;
}

TEST(RunGeometry, InspectedAreaIsTheFieldOfViewClippedToTheDie) {
  auto g = synthetic_geometry();  // FOV 2000 x 1600 um in a 10000 x 8000 um die
  EXPECT_DOUBLE_EQ(publish::inspected_area_per_site_um2(g), 2000.0 * 1600.0);
  g.pixel_size_um = 20;  // FOV 20000 x 16000 um: clipped to the die
  EXPECT_DOUBLE_EQ(publish::inspected_area_per_site_um2(g), 10000.0 * 8000.0);
}

TEST(RunGeometry, DensityCountsOnlyInspectedSites) {
  const auto r = synthetic_run();
  EXPECT_EQ(publish::inspected_sites(r.sites), 2);
  EXPECT_FALSE(publish::completely_inspected(r.sites));
  EXPECT_DOUBLE_EQ(publish::defect_density_per_cm2(synthetic_geometry(), r.sites), 46.875);
  EXPECT_DOUBLE_EQ(publish::defect_density_per_cm2(synthetic_geometry(), {}), 0.0);
}

TEST(RunGeometry, ClassTableNumbersModelClassesFirstThenOthers) {
  const auto r = synthetic_run();
  const publish::ClassTable t(synthetic_geometry(), r.sites);
  EXPECT_EQ(t.names(),
            (std::vector<std::string>{"unclassified", "particle", "scratch", "mystery"}));
  EXPECT_EQ(t.number(""), 0);
  EXPECT_EQ(t.number("scratch"), 2);
  EXPECT_EQ(t.number("mystery"), 3);
}

}  // namespace
}  // namespace ws::testing
