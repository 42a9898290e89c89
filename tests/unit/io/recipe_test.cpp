// Valid recipes parse: the shipped demo/quick recipes, defaults, and the `sites: all` die map.
#include "waferscan/recipe.hpp"
#include "waferscan/error.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <set>
#include <string>

namespace ws {
namespace {

const std::filesystem::path kRecipes = std::filesystem::path(WS_SOURCE_DIR) / "data" / "recipes";

// A minimal valid recipe body: everything defaulted except the sites.
const std::string kMinimal = "sites:\n  - {die: [0, 0]}\n";

TEST(RecipeFiles, DemoParsesWithItsDocumentedSettings) {
  const Recipe r = load_recipe(kRecipes / "demo.yaml");
  EXPECT_EQ(r.name, "demo");
  EXPECT_EQ(r.seed, 42U);
  EXPECT_DOUBLE_EQ(r.time_scale, 1.0);
  EXPECT_DOUBLE_EQ(r.wafer.wafer_diameter_mm, 200.0);
  EXPECT_DOUBLE_EQ(r.wafer.die_pitch_x_um, 10000.0);
  EXPECT_DOUBLE_EQ(r.wafer.die_pitch_y_um, 10000.0);
  EXPECT_EQ(r.camera.width, 1024);
  EXPECT_EQ(r.camera.height, 1024);
  EXPECT_DOUBLE_EQ(r.camera.pixel_size_um, 5.0);
  EXPECT_DOUBLE_EQ(r.stage.speed_um_per_s, 100000.0);
  EXPECT_DOUBLE_EQ(r.stage.settle_ms, 40.0);
  EXPECT_DOUBLE_EQ(r.stage.position_jitter_um, 20.0);
  EXPECT_DOUBLE_EQ(r.camera.exposure_ms, 20.0);
  EXPECT_DOUBLE_EQ(r.camera.readout_ms, 10.0);
  EXPECT_DOUBLE_EQ(r.light.switch_ms, 5.0);
  EXPECT_DOUBLE_EQ(r.simulation.noise_sigma, 3.0);
  EXPECT_DOUBLE_EQ(r.simulation.defects_per_site, 2.0);
  EXPECT_EQ(r.model, (kRecipes / "../models/sim.json").lexically_normal());
  EXPECT_GE(r.sites.size(), 60U);
  EXPECT_LE(r.sites.size(), 120U);

  // The run should last 10-30 s at real timing: sum move + settle + light + exposure + readout.
  double seconds = 0;
  double x = r.stage.park_x_um;
  double y = r.stage.park_y_um;
  for (const SiteSpec& s : r.sites) {
    seconds += std::hypot(s.x_um - x, s.y_um - y) / r.stage.speed_um_per_s;
    seconds +=
        (r.stage.settle_ms + r.light.switch_ms + r.camera.exposure_ms + r.camera.readout_ms) /
        1000.0;
    x = s.x_um;
    y = s.y_um;
  }
  EXPECT_GT(seconds, 10.0);
  EXPECT_LT(seconds, 30.0);
  EXPECT_EQ(r.timeouts.abort_grace_ms, 1000);
  EXPECT_EQ(r.monitor.period_ms, 500);
  EXPECT_EQ(r.monitor.temperature_limit_c, 45);
  EXPECT_EQ(r.monitor.on_alarm, AlarmAction::stop);
}

TEST(RecipeFiles, QuickHasTwelveSitesAndFastTiming) {
  const Recipe r = load_recipe(kRecipes / "quick.yaml");
  EXPECT_EQ(r.name, "quick");
  ASSERT_EQ(r.sites.size(), 12U);
  EXPECT_DOUBLE_EQ(r.time_scale, 0.02);
  EXPECT_EQ(r.sites[8].name, "centre");
  EXPECT_EQ(r.sites[0].name, "r9c7");
  for (std::size_t k = 0; k < r.sites.size(); ++k) EXPECT_EQ(r.sites[k].index, static_cast<int>(k));
}

TEST(RecipeFiles, MissingFileIsAConfigErrorNamingIt) {
  try {
    (void)load_recipe("/nonexistent/dir/recipe.yaml");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), "/nonexistent/dir/recipe.yaml");
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/recipe.yaml"), std::string::npos);
  }
}

TEST(RecipeDefaults, MissingKeysTakeTheStructDefaults) {
  const Recipe r = parse_recipe(kMinimal, "dir/minimal.yaml");
  const Recipe d;
  EXPECT_EQ(r.name, "minimal");  // no `recipe:` key: the file stem
  EXPECT_EQ(r.path, "dir/minimal.yaml");
  EXPECT_EQ(r.seed, d.seed);
  EXPECT_EQ(r.time_scale, d.time_scale);
  EXPECT_EQ(r.camera.width, d.camera.width);
  EXPECT_EQ(r.stage.x_min_um, d.stage.x_min_um);
  EXPECT_EQ(r.detection.band_rows, d.detection.band_rows);
  EXPECT_EQ(r.simulation.defect_classes, d.simulation.defect_classes);
  EXPECT_TRUE(r.model.empty());
}

TEST(RecipeTimeouts, OverridesAndMonitorSettingsAreRead) {
  const Recipe r = parse_recipe(R"(
timeouts: {light_ms: 500, capture_ms: 800.5, move_ms: 900, park_ms: 3000, abort_ms: 700,
           abort_grace_ms: 250}
monitor: {period_ms: 20, temperature_limit_c: 40, hysteresis_c: 1, on_alarm: abort}
simulation: {temperature_c: 30, light_heating_c: 2}
sites: [{die: [0, 0]}]
)",
                                "t.yaml");
  EXPECT_EQ(r.timeouts.light_ms, 500);
  EXPECT_EQ(r.timeouts.capture_ms, 800.5);
  EXPECT_EQ(r.timeouts.move_ms, 900);
  EXPECT_EQ(r.timeouts.park_ms, 3000);
  EXPECT_EQ(r.timeouts.abort_ms, 700);
  EXPECT_EQ(r.timeouts.abort_grace_ms, 250);
  EXPECT_EQ(r.monitor.period_ms, 20);
  EXPECT_EQ(r.monitor.temperature_limit_c, 40);
  EXPECT_EQ(r.monitor.hysteresis_c, 1);
  EXPECT_EQ(r.monitor.on_alarm, AlarmAction::abort);
  EXPECT_EQ(r.simulation.temperature_c, 30);
  EXPECT_EQ(r.simulation.light_heating_c, 2);
  // Without the sections: derived timeouts (0) and a monitor that only records alarms.
  const Recipe d = parse_recipe("sites: [{die: [0, 0]}]\n", "d.yaml");
  EXPECT_EQ(d.timeouts.capture_ms, 0);
  EXPECT_EQ(d.timeouts.abort_grace_ms, 0);
  EXPECT_EQ(d.monitor.period_ms, 500);
  EXPECT_EQ(d.monitor.on_alarm, AlarmAction::record);
}

TEST(RecipeSites, ListEntriesTakeDieCentreNameAndOverride) {
  const Recipe r = parse_recipe(R"(
wafer: {die_pitch_um: [8000, 6000], die_origin_um: [-1000, 2000]}
model: models/m.json
sites:
  - {die: [2, 3]}
  - {die: [-1, 0], name: left}
  - {die: [4, 4], position_um: [123.5, -456]}
)",
                                "/r/x.yaml");
  ASSERT_EQ(r.sites.size(), 3U);
  EXPECT_EQ(r.sites[0].name, "r3c2");
  EXPECT_DOUBLE_EQ(r.sites[0].x_um, -1000 + 2.5 * 8000);
  EXPECT_DOUBLE_EQ(r.sites[0].y_um, 2000 + 3.5 * 6000);
  EXPECT_EQ(r.sites[1].name, "left");
  EXPECT_EQ(r.sites[1].index, 1);
  EXPECT_DOUBLE_EQ(r.sites[1].x_um, -1000 - 0.5 * 8000);
  EXPECT_EQ(r.sites[2].die_i, 4);
  EXPECT_DOUBLE_EQ(r.sites[2].x_um, 123.5);
  EXPECT_DOUBLE_EQ(r.sites[2].y_um, -456);
  EXPECT_EQ(r.model, std::filesystem::path("/r/models/m.json"));
}

TEST(RecipeSites, AllYieldsOnlyDiesInsideTheWaferInSerpentineOrder) {
  const Recipe r = parse_recipe(R"(
wafer: {diameter_mm: 100, die_pitch_um: [7000, 9000], die_origin_um: [-3000, -1000]}
sites: all
)",
                                "all.yaml");
  ASSERT_FALSE(r.sites.empty());
  const double radius = 50000;
  const auto inside = [&](double x, double y) { return x * x + y * y <= radius * radius; };
  std::set<std::pair<int, int>> seen;
  for (std::size_t k = 0; k < r.sites.size(); ++k) {
    const SiteSpec& s = r.sites[k];
    EXPECT_EQ(s.index, static_cast<int>(k));
    EXPECT_DOUBLE_EQ(s.x_um, -3000 + (s.die_i + 0.5) * 7000);
    EXPECT_DOUBLE_EQ(s.y_um, -1000 + (s.die_j + 0.5) * 9000);
    EXPECT_EQ(s.name, std::string("r")
                          .append(std::to_string(s.die_j))
                          .append("c")
                          .append(std::to_string(s.die_i)));
    const double x0 = -3000 + s.die_i * 7000.0;
    const double y0 = -1000 + s.die_j * 9000.0;
    EXPECT_TRUE(inside(x0, y0) && inside(x0 + 7000, y0) && inside(x0, y0 + 9000) &&
                inside(x0 + 7000, y0 + 9000))
        << s.name;
    EXPECT_TRUE(seen.insert({s.die_i, s.die_j}).second) << "die listed twice: " << s.name;
  }
  // Complete: every die of a generous grid that is inside appears.
  int expected = 0;
  for (int j = -20; j <= 20; ++j) {
    for (int i = -20; i <= 20; ++i) {
      const double x0 = -3000 + i * 7000.0;
      const double y0 = -1000 + j * 9000.0;
      if (inside(x0, y0) && inside(x0 + 7000, y0) && inside(x0, y0 + 9000) &&
          inside(x0 + 7000, y0 + 9000)) {
        ++expected;
        EXPECT_TRUE(seen.count({i, j})) << "missing die " << i << "," << j;
      }
    }
  }
  EXPECT_EQ(static_cast<int>(r.sites.size()), expected);

  // Serpentine: rows by ascending j, alternating direction, starting left to right.
  bool forward = true;
  for (std::size_t k = 1; k < r.sites.size(); ++k) {
    const SiteSpec& a = r.sites[k - 1];
    const SiteSpec& b = r.sites[k];
    if (a.die_j == b.die_j) {
      EXPECT_EQ(b.die_i, a.die_i + (forward ? 1 : -1)) << "at site " << k;
    } else {
      EXPECT_EQ(b.die_j, a.die_j + 1) << "rows must be consecutive, at site " << k;
      forward = !forward;
    }
  }
  EXPECT_LT(r.sites.front().die_i, r.sites[1].die_i);
}

TEST(RecipeSites, AllOnTheDemoWaferHas276Dies) {
  // 200 mm wafer, 10 mm dies on a grid aligned with the centre: the classic count.
  const Recipe r = parse_recipe(
      "wafer: {diameter_mm: 200, die_pitch_um: [10000, 10000], die_origin_um: [-100000, "
      "-100000]}\nsites: all\n",
      "all.yaml");
  EXPECT_EQ(r.sites.size(), 276U);
}

}  // namespace
}  // namespace ws
