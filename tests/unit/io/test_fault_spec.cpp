// Fault specs TARGET=BEHAVIOUR@WHEN: every valid form parses to the right FaultSpec and prints back
// to a spec that parses to the same value; every malformed one is a ConfigError at --inject (or at
// the recipe's faults[k], with its line) that says what was expected.
#include "waferscan/error.hpp"
#include "waferscan/recipe.hpp"
#include "waferscan/sim/fault_spec.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ws {
namespace {

struct ValidSpec {
  std::string text;
  FaultSpec expected;
  std::string canonical;  ///< to_string of the parsed spec
};

void PrintTo(const ValidSpec& c, std::ostream* os) {
  *os << c.text;
}

FaultSpec make(FaultTarget t, FaultBehaviour b, FaultWhen w, std::uint32_t n, double p = 0.0,
               std::uint32_t slow_ms = 0) {
  FaultSpec f;
  f.target = t;
  f.behaviour = b;
  f.when = w;
  f.n = n;
  f.p = p;
  f.slow_ms = slow_ms;
  return f;
}

class FaultSpecValid : public ::testing::TestWithParam<ValidSpec> {};

TEST_P(FaultSpecValid, ParsesAndRoundTrips) {
  const ValidSpec& c = GetParam();
  const FaultSpec f = parse_fault_spec(c.text);
  EXPECT_EQ(f, c.expected);
  const std::string printed = to_string(f);
  EXPECT_EQ(printed, c.canonical);
  EXPECT_EQ(parse_fault_spec(printed), f) << printed;
}

using B = FaultBehaviour;
using T = FaultTarget;
using W = FaultWhen;

INSTANTIATE_TEST_SUITE_P(
    FaultSpec, FaultSpecValid,
    ::testing::Values(
        ValidSpec{"camera.capture=hang@site:3", make(T::camera_capture, B::hang, W::site, 3),
                  "camera.capture=hang@site:3"},
        ValidSpec{"stage.stop=ignore_abort@call:1",
                  make(T::stage_stop, B::ignore_abort, W::call, 1),
                  "stage.stop=ignore_abort@call:1"},
        ValidSpec{"machine.estop=fire@site:5", make(T::machine_estop, B::fire, W::site, 5),
                  "machine.estop=fire@site:5"},
        // error is a synonym of fire on the machine-level targets; it prints as fire
        ValidSpec{"store.write=error@site:4", make(T::store_write, B::fire, W::site, 4),
                  "store.write=fire@site:4"},
        ValidSpec{"frame.corrupt=error@call:2", make(T::frame_corrupt, B::fire, W::call, 2),
                  "frame.corrupt=fire@call:2"},
        ValidSpec{"machine.overheat=fire@site:2", make(T::machine_overheat, B::fire, W::site, 2),
                  "machine.overheat=fire@site:2"},
        ValidSpec{"frame.corrupt=fire@p:0.25",
                  make(T::frame_corrupt, B::fire, W::probability, 0, 0.25),
                  "frame.corrupt=fire@p:0.25"},
        ValidSpec{"camera.abort=hang@call:7", make(T::camera_abort, B::hang, W::call, 7),
                  "camera.abort=hang@call:7"},
        ValidSpec{"camera.abort=ignore_abort@p:1",
                  make(T::camera_abort, B::ignore_abort, W::probability, 0, 1.0),
                  "camera.abort=ignore_abort@p:1"},
        ValidSpec{"camera.capture=ignore_abort@site:0",
                  make(T::camera_capture, B::ignore_abort, W::site, 0),
                  "camera.capture=ignore_abort@site:0"},
        ValidSpec{"stage.move=slow:250@site:0", make(T::stage_move, B::slow, W::site, 0, 0.0, 250),
                  "stage.move=slow:250@site:0"},
        ValidSpec{"stage.park=error@call:1", make(T::stage_park, B::error, W::call, 1),
                  "stage.park=error@call:1"},
        ValidSpec{"stage.park=ignore_abort@call:2",
                  make(T::stage_park, B::ignore_abort, W::call, 2),
                  "stage.park=ignore_abort@call:2"},
        ValidSpec{"light.on=slow:3600000@p:0.01",
                  make(T::light_on, B::slow, W::probability, 0, 0.01, 3600000),
                  "light.on=slow:3600000@p:0.01"},
        ValidSpec{"light.off=hang@call:1", make(T::light_off, B::hang, W::call, 1),
                  "light.off=hang@call:1"},
        ValidSpec{"light.off=error@site:12", make(T::light_off, B::error, W::site, 12),
                  "light.off=error@site:12"},
        // blanks around the whole spec are ignored; leading zeros and exponents read as numbers
        ValidSpec{"  camera.capture=error@call:1\t", make(T::camera_capture, B::error, W::call, 1),
                  "camera.capture=error@call:1"},
        ValidSpec{"stage.move=error@site:007", make(T::stage_move, B::error, W::site, 7),
                  "stage.move=error@site:7"},
        ValidSpec{"stage.move=error@p:1e-3",
                  make(T::stage_move, B::error, W::probability, 0, 0.001),
                  "stage.move=error@p:0.001"}),
    [](const ::testing::TestParamInfo<ValidSpec>& param) {
      return "Case" + std::to_string(param.index);
    });

struct InvalidSpec {
  std::string label;
  std::string text;
  std::string says;  ///< a fragment the message must contain
};

void PrintTo(const InvalidSpec& c, std::ostream* os) {
  *os << c.label;
}

class FaultSpecInvalid : public ::testing::TestWithParam<InvalidSpec> {};

TEST_P(FaultSpecInvalid, IsAConfigErrorSayingWhatWasExpected) {
  const InvalidSpec& c = GetParam();
  try {
    (void)parse_fault_spec(c.text);
    FAIL() << "accepted: " << c.text;
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_EQ(e.file(), "");
    EXPECT_EQ(e.line(), 0);
    EXPECT_EQ(e.key(), "--inject");
    EXPECT_NE(what.find(c.says), std::string::npos) << what;
  }
}

INSTANTIATE_TEST_SUITE_P(
    FaultSpec, FaultSpecInvalid,
    ::testing::Values(
        InvalidSpec{"Empty", "", "expected TARGET=BEHAVIOUR@WHEN"},
        InvalidSpec{"Blank", "   ", "expected TARGET=BEHAVIOUR@WHEN"},
        InvalidSpec{"NoEquals", "camera.capture hang@site:3", "expected TARGET=BEHAVIOUR@WHEN"},
        InvalidSpec{"NoAt", "camera.capture=hang", "expected TARGET=BEHAVIOUR@WHEN"},
        InvalidSpec{"AtBeforeEquals", "camera@capture=hang", "expected TARGET=BEHAVIOUR@WHEN"},
        InvalidSpec{"UnknownTarget", "camera.grab=hang@site:3",
                    "expected one of camera.capture, camera.abort, stage.move"},
        InvalidSpec{"EmptyTarget", "=hang@site:3", "unknown target ''"},
        InvalidSpec{"TargetCase", "Camera.Capture=hang@site:3", "unknown target"},
        InvalidSpec{"UnknownBehaviour", "camera.capture=freeze@site:3",
                    "expected one of hang, slow:MS, error, ignore_abort"},
        InvalidSpec{"EmptyBehaviour", "camera.capture=@site:3", "unknown behaviour ''"},
        InvalidSpec{"FireOnDevice", "stage.move=fire@call:1",
                    "'fire' is for machine.estop, store.write, frame.corrupt and machine.overheat"},
        InvalidSpec{"HangOnEstop", "machine.estop=hang@site:1", "expects 'fire' (or 'error')"},
        InvalidSpec{"SlowOnStore", "store.write=slow:10@site:1", "expects 'fire' (or 'error')"},
        InvalidSpec{"IgnoreAbortOnCorrupt", "frame.corrupt=ignore_abort@call:1",
                    "expects 'fire' (or 'error')"},
        InvalidSpec{"UnknownOnEstop", "machine.estop=boom@site:1", "expected 'fire' (or 'error')"},
        InvalidSpec{"IgnoreAbortOnLight", "light.on=ignore_abort@call:1", "needs an abort path"},
        InvalidSpec{"LightOnAtASite", "light.on=hang@site:3", "site:N would never fire"},
        InvalidSpec{"SlowNoArg", "stage.move=slow@call:1", "expected slow:MS"},
        InvalidSpec{"SlowEmptyArg", "stage.move=slow:@call:1", "expected slow:MS"},
        InvalidSpec{"SlowZero", "stage.move=slow:0@call:1", "in [1, 3600000]"},
        InvalidSpec{"SlowTooLong", "stage.move=slow:3600001@call:1", "in [1, 3600000]"},
        InvalidSpec{"SlowNegative", "stage.move=slow:-5@call:1", "expected slow:MS"},
        InvalidSpec{"SlowFraction", "stage.move=slow:1.5@call:1", "expected slow:MS"},
        InvalidSpec{"SlowOverflow", "stage.move=slow:99999999999@call:1", "expected slow:MS"},
        InvalidSpec{"UnknownWhen", "camera.capture=hang@die:3",
                    "expected site:N (0-based site index), call:N (1-based call number) or p:P"},
        InvalidSpec{"EmptyWhen", "camera.capture=hang@", "unknown WHEN ''"},
        InvalidSpec{"SiteNoArg", "camera.capture=hang@site", "expected site:N"},
        InvalidSpec{"SiteNegative", "camera.capture=hang@site:-1", "expected site:N"},
        InvalidSpec{"SiteSign", "camera.capture=hang@site:+1", "expected site:N"},
        InvalidSpec{"SiteTrailing", "camera.capture=hang@site:3x", "expected site:N"},
        InvalidSpec{"SiteBlank", "camera.capture=hang@site: 3", "expected site:N"},
        InvalidSpec{"CallZero", "camera.capture=hang@call:0", "expected call:N"},
        InvalidSpec{"CallOverflow", "camera.capture=hang@call:4294967296", "expected call:N"},
        InvalidSpec{"ProbabilityZero", "camera.capture=hang@p:0", "expected p:P"},
        InvalidSpec{"ProbabilityAboveOne", "camera.capture=hang@p:1.01", "expected p:P"},
        InvalidSpec{"ProbabilityNegative", "camera.capture=hang@p:-0.5", "expected p:P"},
        InvalidSpec{"ProbabilityNaN", "camera.capture=hang@p:nan", "expected p:P"},
        InvalidSpec{"ProbabilityInf", "camera.capture=hang@p:inf", "expected p:P"},
        InvalidSpec{"ProbabilityPlus", "camera.capture=hang@p:+0.5", "expected p:P"},
        InvalidSpec{"ProbabilityPercent", "camera.capture=hang@p:1%", "expected p:P"},
        InvalidSpec{"TwoAts", "camera.capture=hang@site:3@call:1", "unknown behaviour"},
        InvalidSpec{"TwoEquals", "camera.capture=hang=error@site:3", "unknown behaviour"}),
    [](const ::testing::TestParamInfo<InvalidSpec>& param) { return param.param.label; });

TEST(FaultSpecMessage, QuotesTheSpec) {
  try {
    (void)parse_fault_spec("camera.capture=freeze@site:3");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(
        std::string(e.what()).rfind("--inject: bad fault spec 'camera.capture=freeze@site:3'", 0),
        0U)
        << e.what();
  }
}

TEST(FaultSpecMessage, NamesTheFileLineAndKeyWhenGiven) {
  try {
    (void)parse_fault_spec("camera.capture=freeze@site:3", "r.yaml", 7, "faults[2]");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), "r.yaml");
    EXPECT_EQ(e.line(), 7);
    EXPECT_EQ(e.key(), "faults[2]");
  }
}

// ---------------------------------------------------------------------------------------------
// The recipe's faults: key

const std::string kSites = "sites:\n  - {die: [0, 0]}\n  - {die: [1, 0]}\n";

TEST(RecipeFaults, AbsentMeansNone) {
  EXPECT_TRUE(parse_recipe(kSites, "r.yaml").faults.empty());
}

TEST(RecipeFaults, ReadsTheListInOrder) {
  const Recipe r = parse_recipe(kSites +
                                    "faults:\n"
                                    "  - camera.capture=hang@site:1\n"
                                    "  - store.write=error@site:0\n"
                                    "  - \"stage.stop=ignore_abort@call:1\"\n",
                                "r.yaml");
  ASSERT_EQ(r.faults.size(), 3U);
  EXPECT_EQ(r.faults[0], parse_fault_spec("camera.capture=hang@site:1"));
  EXPECT_EQ(r.faults[1], parse_fault_spec("store.write=fire@site:0"));
  EXPECT_EQ(r.faults[2], parse_fault_spec("stage.stop=ignore_abort@call:1"));
}

TEST(RecipeFaults, EmptyListIsAllowed) {
  EXPECT_TRUE(parse_recipe(kSites + "faults: []\n", "r.yaml").faults.empty());
}

struct BadFaults {
  std::string label;
  std::string yaml;  ///< appended after kSites (lines 1-3)
  std::string key;
  int line;
  std::string says;
};

void PrintTo(const BadFaults& c, std::ostream* os) {
  *os << c.label;
}

class RecipeFaultsError : public ::testing::TestWithParam<BadFaults> {};

TEST_P(RecipeFaultsError, NamesFileLineAndKey) {
  const BadFaults& c = GetParam();
  try {
    (void)parse_recipe(kSites + c.yaml, "recipes/r.yaml");
    FAIL() << "accepted:\n" << c.yaml;
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_EQ(e.file(), "recipes/r.yaml");
    EXPECT_EQ(e.line(), c.line) << what;
    EXPECT_EQ(e.key(), c.key) << what;
    EXPECT_NE(what.find(c.says), std::string::npos) << what;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Recipe, RecipeFaultsError,
    ::testing::Values(
        BadFaults{"NotAList", "faults: camera.capture=hang@site:1\n", "faults", 4,
                  "expected a list of fault specs"},
        BadFaults{"Null", "faults:\n", "faults", 4, "expected a list of fault specs"},
        BadFaults{"MalformedSecond",
                  "faults:\n  - camera.capture=hang@site:1\n  - camera.grab=hang@site:1\n",
                  "faults[1]", 6, "unknown target 'camera.grab'"},
        BadFaults{"MappingItem", "faults:\n  - {camera.capture: hang}\n", "faults[0]", 5,
                  "expected a fault spec TARGET=BEHAVIOUR@WHEN"},
        BadFaults{"SitePastTheLast", "faults:\n  - camera.capture=hang@site:2\n", "faults[0]", 5,
                  "site:2 is not a site of this recipe: it has 2 sites"}),
    [](const ::testing::TestParamInfo<BadFaults>& param) { return param.param.label; });

}  // namespace
}  // namespace ws
