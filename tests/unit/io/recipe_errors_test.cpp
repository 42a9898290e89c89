// Bad recipes are rejected with a ConfigError whose message names the file, the line and the key.
#include "waferscan/error.hpp"
#include "waferscan/recipe.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ws {
namespace {

struct BadRecipe {
  std::string label;  ///< test-name suffix
  std::string yaml;
  std::string key;  ///< expected ConfigError::key()
  int line;         ///< expected ConfigError::line() (1-based)
};

void PrintTo(const BadRecipe& c, std::ostream* os) {
  *os << c.label;
}

class RecipeErrorTest : public ::testing::TestWithParam<BadRecipe> {};

TEST_P(RecipeErrorTest, NamesFileLineAndKey) {
  const BadRecipe& c = GetParam();
  const std::string file = "recipes/bad_recipe.yaml";
  try {
    (void)parse_recipe(c.yaml, file);
    FAIL() << "accepted:\n" << c.yaml;
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_EQ(e.file(), file);
    EXPECT_EQ(e.line(), c.line) << what;
    EXPECT_EQ(e.key(), c.key) << what;
    EXPECT_NE(what.find(file + ":" + std::to_string(c.line) + ": "), std::string::npos) << what;
    if (!c.key.empty()) {
      EXPECT_NE(what.find(": " + c.key + ": "), std::string::npos) << what;
    }
  }
}

const std::string kSite = "sites:\n  - {die: [0, 0]}\n";

INSTANTIATE_TEST_SUITE_P(
    Recipe, RecipeErrorTest,
    ::testing::Values(
        // malformed YAML: yaml-cpp's line, no key
        BadRecipe{"MalformedMapValue", "recipe: a\nseed: 1: 2\n" + kSite, "", 2},
        BadRecipe{"UnclosedFlowSequence", "camera:\n  width: [1, 2\nseed: 3\n", "", 3},
        BadRecipe{"DocumentIsASequence", "- a\n- b\n", "document", 1},
        // unknown keys, with their dotted path
        BadRecipe{"UnknownTopKey", "recipe: a\nseeed: 3\n" + kSite, "seeed", 2},
        BadRecipe{"UnknownCameraKey", "camera:\n  width: 64\n  widht: 64\n" + kSite, "camera.widht",
                  3},
        BadRecipe{"UnknownTravelAxis", "stage:\n  travel_um: {x: [0, 1], z: [0, 1]}\n" + kSite,
                  "stage.travel_um.z", 2},
        BadRecipe{"UnknownSiteKey", "sites:\n  - {die: [0, 0]}\n  - {dye: [1, 0]}\n",
                  "sites[1].dye", 3},
        BadRecipe{"DuplicateKey", "seed: 1\nseed: 2\n" + kSite, "seed", 2},
        // wrong types
        BadRecipe{"WidthNotANumber", "camera:\n  width: wide\n" + kSite, "camera.width", 2},
        BadRecipe{"WidthNotAnInteger", "camera:\n  width: 100.5\n" + kSite, "camera.width", 2},
        BadRecipe{"WidthNull", "camera:\n  width:\n  height: 64\n" + kSite, "camera.width", 2},
        BadRecipe{"SectionNotAMapping", "\nwafer: 200\n" + kSite, "wafer", 2},
        BadRecipe{"PitchNotAPair", "wafer:\n  die_pitch_um: 5000\n" + kSite, "wafer.die_pitch_um",
                  2},
        BadRecipe{"PitchElementNotANumber", "wafer:\n  die_pitch_um: [5000, x]\n" + kSite,
                  "wafer.die_pitch_um[1]", 2},
        BadRecipe{"SeedNegative", "seed: -1\n" + kSite, "seed", 1},
        BadRecipe{"TimeScaleNan", "time_scale: .nan\n" + kSite, "time_scale", 1},
        BadRecipe{"ModelNotAString", kSite + "model: [a, b]\n", "model", 3},
        BadRecipe{"ClassesNotAList", "simulation:\n  defect_classes: particle\n" + kSite,
                  "simulation.defect_classes", 2},
        BadRecipe{"DieNotAPair", "sites:\n  - {die: [1]}\n", "sites[0].die", 2},
        BadRecipe{"DieIndexNotInteger", "sites:\n  - {die: [1, 2.5]}\n", "sites[0].die[1]", 2},
        BadRecipe{"SitesNotAllOrList", "sites: some\n", "sites", 1},
        // out-of-range values
        BadRecipe{"TimeScaleNegative", "time_scale: -0.5\n" + kSite, "time_scale", 1},
        BadRecipe{"WidthTooSmall", "camera: {width: 8}\n" + kSite, "camera.width", 1},
        BadRecipe{"HeightTooLarge", "camera:\n\n  height: 16385\n" + kSite, "camera.height", 3},
        BadRecipe{"PitchZero", "wafer:\n  die_pitch_um: [0, 5000]\n" + kSite,
                  "wafer.die_pitch_um[0]", 2},
        BadRecipe{"PitchNegative", "wafer:\n  die_pitch_um: [5000, -1]\n" + kSite,
                  "wafer.die_pitch_um[1]", 2},
        BadRecipe{"DiameterZero", "wafer: {diameter_mm: 0}\n" + kSite, "wafer.diameter_mm", 1},
        BadRecipe{"SpeedZero", "stage:\n  speed_um_per_s: 0\n" + kSite, "stage.speed_um_per_s", 2},
        BadRecipe{"SettleNegative", "stage:\n  settle_ms: -1\n" + kSite, "stage.settle_ms", 2},
        // absurd times: each bounded, so that no deadline overflows and no safe-stop step waits
        // for hours (issue 15)
        BadRecipe{"SettleAbsurd", "stage:\n  settle_ms: 1e300\n" + kSite, "stage.settle_ms", 2},
        BadRecipe{"SettleOverTenMinutes", "stage:\n  settle_ms: 1e9\n" + kSite, "stage.settle_ms",
                  2},
        BadRecipe{"SpeedTiny", "stage:\n  speed_um_per_s: 1e-300\n" + kSite, "stage.speed_um_per_s",
                  2},
        BadRecipe{"SpeedTooSlowToCrossTheTravelInAnHour", "stage:\n  speed_um_per_s: 50\n" + kSite,
                  "stage.speed_um_per_s", 2},
        BadRecipe{"ExposureAbsurd", "camera:\n  exposure_ms: 1e9\n" + kSite, "camera.exposure_ms",
                  2},
        BadRecipe{"ReadoutInfinite", "camera:\n  readout_ms: .inf\n" + kSite, "camera.readout_ms",
                  2},
        BadRecipe{"LightSwitchAbsurd", "light:\n  switch_ms: 1e12\n" + kSite, "light.switch_ms", 2},
        BadRecipe{"DrainAbsurd", "drain_timeout_ms: 1e13\n" + kSite, "drain_timeout_ms", 1},
        BadRecipe{"TimeScaleAbsurd", "time_scale: 1e308\n" + kSite, "time_scale", 1},
        BadRecipe{"TravelInverted", "stage:\n  travel_um:\n    x: [10, -10]\n" + kSite,
                  "stage.travel_um.x", 3},
        BadRecipe{"ParkOutsideTravel", "stage:\n  park_um: [0, -200000]\n" + kSite, "stage.park_um",
                  2},
        BadRecipe{"BandRowsZero", "detection:\n  band_rows: 0\n" + kSite, "detection.band_rows", 2},
        BadRecipe{"NoiseNegative", "simulation:\n  noise_sigma: -3\n" + kSite,
                  "simulation.noise_sigma", 2},
        BadRecipe{"GradientAboveOne", "simulation: {illumination_gradient: 1.5}\n" + kSite,
                  "simulation.illumination_gradient", 1},
        BadRecipe{"NoDefectClasses", "simulation:\n  defect_classes: []\n" + kSite,
                  "simulation.defect_classes", 2},
        BadRecipe{"MinThresholdAbove255", "detection: {min_threshold: 256}\n" + kSite,
                  "detection.min_threshold", 1},
        BadRecipe{"LightNegative", "light:\n  switch_ms: -5\n" + kSite, "light.switch_ms", 2},
        BadRecipe{"TimeoutNegative", "timeouts:\n  capture_ms: -1\n" + kSite, "timeouts.capture_ms",
                  2},
        BadRecipe{"TimeoutBeyondAnHour", "timeouts: {abort_grace_ms: 3600001}\n" + kSite,
                  "timeouts.abort_grace_ms", 1},
        BadRecipe{"UnknownTimeout", "timeouts:\n  exposure_ms: 5\n" + kSite, "timeouts.exposure_ms",
                  2},
        BadRecipe{"MonitorPeriodNegative", "monitor: {period_ms: -5}\n" + kSite,
                  "monitor.period_ms", 1},
        BadRecipe{"MonitorUnknownAction", "monitor:\n  on_alarm: panic\n" + kSite,
                  "monitor.on_alarm", 2},
        BadRecipe{"MonitorActionNotText", "monitor:\n  on_alarm: [stop]\n" + kSite,
                  "monitor.on_alarm", 2},
        BadRecipe{"TemperatureOutOfRange", "simulation: {temperature_c: 1000}\n" + kSite,
                  "simulation.temperature_c", 1},
        // sites
        BadRecipe{"EmptySiteList", "seed: 1\nsites: []\n", "sites", 2},
        BadRecipe{"MissingSites", "seed: 1\n", "sites", 1},
        BadRecipe{"SiteWithoutDie", "sites:\n  - {name: a}\n", "sites[0].die", 2},
        BadRecipe{"DuplicateSiteName", "sites:\n  - {die: [0, 0]}\n  - {die: [1, 0], name: r0c0}\n",
                  "sites[1].name", 3},
        BadRecipe{"PositionOutsideTravel",
                  "sites:\n  - {die: [0, 0]}\n  - {die: [1, 0]}\n  - die: [2, 0]\n"
                  "    position_um: [0, 150001]\n",
                  "sites[2].position_um", 5},
        BadRecipe{"DieOutsideTravel",
                  "stage: {travel_um: {x: [-5000, 5000], y: [-5000, 5000]}, park_um: [0, 0]}\n"
                  "sites:\n  - {die: [0, 0]}\n  - {die: [1, 0]}\n",
                  "sites[1].die", 4},
        BadRecipe{"AllOutsideTravel",
                  "stage: {travel_um: {x: [-5000, 5000], y: [-5000, 5000]}, park_um: [0, 0]}\n"
                  "wafer: {diameter_mm: 50}\n\nsites: all\n",
                  "sites", 4},
        BadRecipe{"AllWithNoDieInside", "wafer: {diameter_mm: 5}\nsites: all\n", "sites", 2},
        BadRecipe{"AllTooManyDies", "wafer: {die_pitch_um: [1, 1]}\nsites: all\n", "sites", 2},
        // found by fuzz_recipe: die indices beyond int were a UB cast (UBSan in the asan preset)
        BadRecipe{"AllWithFarOffOrigin", "wafer: {die_origin_um: [-1e300, 1e20]}\nsites: all\n",
                  "sites", 2}),
    [](const ::testing::TestParamInfo<BadRecipe>& p) { return p.param.label; });

TEST(RecipeErrors, OutOfTravelMessageNamesSiteAndPosition) {
  try {
    (void)parse_recipe("sites:\n  - {die: [0, 0], name: edge, position_um: [-160000, 25]}\n",
                       "r.yaml");
    FAIL() << "accepted";
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'edge'"), std::string::npos) << what;
    EXPECT_NE(what.find("(-160000, 25)"), std::string::npos) << what;
    EXPECT_NE(what.find("outside the stage travel"), std::string::npos) << what;
  }
}

TEST(RecipeErrors, UnknownKeyMessageListsTheKnownKeys) {
  try {
    (void)parse_recipe("camera: {widht: 64}\nsites: all\n", "r.yaml");
    FAIL() << "accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("width"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ws
