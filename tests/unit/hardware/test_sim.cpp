// Pins down the simulated machine: deterministic frames and truth, truth that matches the pixels,
// scaled device timing, prompt aborts from another thread, travel limits, park and light state.
#include "waferscan/error.hpp"
#include "waferscan/recipe.hpp"
#include "waferscan/sim/sim_machine.hpp"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <chrono>
#include <cmath>
#include <future>
#include <limits>
#include <map>
#include <set>
#include <thread>
#include <tuple>

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

/// A small, instant machine with a few defects per die.
ws::Recipe test_recipe(std::uint64_t seed = 7) {
  ws::Recipe r;
  r.name = "test_sim";
  r.seed = seed;
  r.time_scale = 0.0;
  r.camera.width = 512;
  r.camera.height = 512;
  r.simulation.defects_per_site = 3.0;
  return r;
}

/// Die (i, j) centre in stage coordinates.
cv::Point2d die_centre(const ws::Recipe& r, int i, int j) {
  return {r.wafer.die_origin_x_um + (i + 0.5) * r.wafer.die_pitch_x_um,
          r.wafer.die_origin_y_um + (j + 0.5) * r.wafer.die_pitch_y_um};
}

bool same(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0.0;
}

bool same(const std::vector<ws::TrueDefect>& a, const std::vector<ws::TrueDefect>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t k = 0; k < a.size(); ++k)
    if (a[k].bbox != b[k].bbox || a[k].class_name != b[k].class_name) return false;
  return true;
}

/// Spins (yielding) until `counter` reaches `value` or 10 s pass; the handshake that makes sure a
/// blocking call is inside the driver before the test aborts it.
bool wait_for_count(const std::atomic<int>& counter, int value) {
  const auto deadline = Clock::now() + 10s;
  while (counter.load() < value) {
    if (Clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

/// |frame / flat - golden shifted by `shift`| as CV_32F, over the whole frame (the `shift` border
/// where golden has no data is set to 0).
cv::Mat corrected_diff(const cv::Mat& frame, const ws::Machine& m, cv::Point shift) {
  cv::Mat corrected;
  frame.convertTo(corrected, CV_32F);
  cv::divide(corrected, m.flat, corrected);
  cv::Mat golden;
  m.golden.convertTo(golden, CV_32F);
  const cv::Mat moved = cv::Mat::zeros(golden.size(), CV_32F);
  const cv::Mat M = (cv::Mat_<double>(2, 3) << 1, 0, shift.x, 0, 1, shift.y);
  cv::warpAffine(golden, moved, M, golden.size(), cv::INTER_NEAREST, cv::BORDER_CONSTANT);
  cv::Mat diff;
  cv::absdiff(corrected, moved, diff);
  const int b = std::max(std::abs(shift.x), std::abs(shift.y));
  cv::Mat inner = cv::Mat::zeros(diff.size(), CV_8U);
  inner(cv::Rect(b, b, diff.cols - 2 * b, diff.rows - 2 * b)).setTo(255);
  diff.setTo(0, ~inner);
  return diff;
}

/// The placement shift of a frame, found as a detector would: the best match within +-max_shift.
cv::Point find_shift(const cv::Mat& frame, const ws::Machine& m, int max_shift) {
  cv::Mat corrected;
  frame.convertTo(corrected, CV_32F);
  cv::divide(corrected, m.flat, corrected);
  cv::Mat golden;
  m.golden.convertTo(golden, CV_32F);
  const cv::Rect inner(max_shift, max_shift, frame.cols - 2 * max_shift,
                       frame.rows - 2 * max_shift);
  cv::Point best;
  double best_score = std::numeric_limits<double>::max();
  for (int dy = -max_shift; dy <= max_shift; ++dy) {
    for (int dx = -max_shift; dx <= max_shift; ++dx) {
      // Frame pixel q shows die pixel q - shift.
      const double score =
          cv::norm(corrected(inner), golden(inner - cv::Point(dx, dy)), cv::NORM_L1);
      if (score < best_score) {
        best_score = score;
        best = {dx, dy};
      }
    }
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// Determinism

TEST(SimDeterminism, SameSeedGivesIdenticalFramesAndTruth) {
  const ws::SimMachine a(test_recipe(11));
  const ws::SimMachine b(test_recipe(11));
  for (const auto& [i, j] : {std::pair{0, 0}, {3, -2}, {-5, 7}}) {
    EXPECT_TRUE(same(a.render(i, j), b.render(i, j))) << "die " << i << "," << j;
    EXPECT_TRUE(same(a.truth(i, j), b.truth(i, j))) << "die " << i << "," << j;
    EXPECT_TRUE(same(a.render(i, j), a.render(i, j))) << "render is not repeatable";
  }
  EXPECT_TRUE(same(a.machine().golden, b.machine().golden));
  EXPECT_TRUE(same(a.machine().flat, b.machine().flat));
}

TEST(SimDeterminism, DifferentSeedOrDieGivesDifferentFrames) {
  const ws::SimMachine a(test_recipe(11));
  const ws::SimMachine b(test_recipe(12));
  bool truth_differs = false;
  for (const auto& [i, j] : {std::pair{0, 0}, {3, -2}, {-5, 7}}) {
    EXPECT_FALSE(same(a.render(i, j), b.render(i, j))) << "die " << i << "," << j;
    truth_differs = truth_differs || !same(a.truth(i, j), b.truth(i, j));
  }
  EXPECT_TRUE(truth_differs);
  EXPECT_FALSE(same(a.render(0, 0), a.render(0, 1)));
}

// ---------------------------------------------------------------------------------------------
// Truth matches the rendering

class SimTruth : public ::testing::TestWithParam<std::tuple<std::uint64_t, double>> {};

TEST_P(SimTruth, TrueBoxesHoldClearDifferencesAndTheRestIsNoise) {
  const auto [seed, jitter_um] = GetParam();
  ws::Recipe r = test_recipe(seed);
  r.stage.position_jitter_um = jitter_um;
  const ws::SimMachine sim(r);
  const ws::Machine m = sim.machine();
  const int max_shift = static_cast<int>(std::lround(jitter_um / r.camera.pixel_size_um));
  int defects = 0;
  std::set<cv::Point, decltype([](cv::Point a, cv::Point b) {
             return std::tie(a.x, a.y) < std::tie(b.x, b.y);
           })>
      shifts;
  for (int die = 0; die < 6; ++die) {
    const cv::Mat frame = sim.render(die, 1 - die);
    const cv::Point shift = find_shift(frame, m, max_shift);
    shifts.insert(shift);
    const cv::Mat diff = corrected_diff(frame, m, shift);
    cv::Mat outside(frame.size(), CV_8U, cv::Scalar(255));
    for (const auto& t : sim.truth(die, 1 - die)) {
      ++defects;
      SCOPED_TRACE(t.class_name + " at " + std::to_string(t.bbox.x) + "," +
                   std::to_string(t.bbox.y));
      const int border = 20 + max_shift;
      EXPECT_GE(t.bbox.x, border);
      EXPECT_GE(t.bbox.y, border);
      EXPECT_LE(t.bbox.br().x, frame.cols - border);
      EXPECT_LE(t.bbox.br().y, frame.rows - border);
      const cv::Mat inside = diff(t.bbox);
      double peak = 0.0;
      cv::minMaxLoc(inside, nullptr, &peak);
      EXPECT_GE(peak, 30.0);
      EXPECT_GE(cv::countNonZero(inside > 20.0F), 6);
      // The box is tight: its first and last rows and columns all touch the defect.
      EXPECT_GT(cv::countNonZero(inside.row(0) > 20.0F), 0);
      EXPECT_GT(cv::countNonZero(inside.row(inside.rows - 1) > 20.0F), 0);
      EXPECT_GT(cv::countNonZero(inside.col(0) > 20.0F), 0);
      EXPECT_GT(cv::countNonZero(inside.col(inside.cols - 1) > 20.0F), 0);
      outside(t.bbox).setTo(0);
    }
    double worst = 0.0;
    cv::minMaxLoc(diff, nullptr, &worst, nullptr, nullptr, outside);
    // Noise 3 grey levels times a gain up to ~1.08, plus rounding: 6 sigma is about 20.
    EXPECT_LT(worst, 20.0) << "die " << die;
  }
  EXPECT_GT(defects, 6);
  if (max_shift > 0) {
    EXPECT_GT(shifts.size(), 1U) << "jitter should move the pattern";
  } else {
    EXPECT_EQ(shifts.size(), 1U);
  }
}

INSTANTIATE_TEST_SUITE_P(SeedsAndJitter, SimTruth,
                         ::testing::Combine(::testing::Values(1U, 99U),
                                            ::testing::Values(0.0, 40.0)));

TEST(SimTruthStats, DefectsFollowTheRecipeClassesAndSizes) {
  ws::Recipe r = test_recipe(5);
  r.camera.width = 1024;
  r.camera.height = 1024;
  r.simulation.defects_per_site = 2.0;
  const ws::SimMachine sim(r);
  std::map<std::string, int> count;
  const int dies = 200;
  for (int die = 0; die < dies; ++die) {
    for (const auto& t : sim.truth(die, 0)) {
      ++count[t.class_name];
      const int longest = std::max(t.bbox.width, t.bbox.height);
      if (t.class_name == "particle") {
        EXPECT_GE(longest, 4);
        EXPECT_LE(longest, 12);
      } else if (t.class_name == "scratch") {
        EXPECT_GE(longest, 40 / 2);  // a 40 px line at 45 degrees spans 29 px
        EXPECT_LE(longest, 205);
        EXPECT_LE(std::min(t.bbox.width, t.bbox.height), 205);
      } else if (t.class_name == "residue") {
        EXPECT_GE(longest, 10);
        EXPECT_LE(longest, 60);
      } else {
        EXPECT_EQ(t.class_name, "pattern");
        EXPECT_LE(longest, 30);
      }
    }
  }
  int total = 0;
  for (const auto& name : r.simulation.defect_classes) {
    EXPECT_GT(count[name], dies / 10) << name;
    total += count[name];
  }
  EXPECT_EQ(count.size(), 4U);
  EXPECT_NEAR(static_cast<double>(total) / dies, 2.0, 0.4);

  r.simulation.defect_classes = {"scratch"};
  const ws::SimMachine scratches(r);
  for (int die = 0; die < 20; ++die)
    for (const auto& t : scratches.truth(die, 0)) EXPECT_EQ(t.class_name, "scratch");

  r.simulation.defect_classes = {"particle", "crack"};
  EXPECT_THROW(ws::SimMachine{r}, ws::ConfigError);
}

// ---------------------------------------------------------------------------------------------
// Calibration and what the camera sees

TEST(SimCalibration, GoldenTimesFlatIsTheCleanFrame) {
  ws::Recipe r = test_recipe();
  r.simulation.noise_sigma = 0.0;
  r.simulation.defects_per_site = 0.0;
  const ws::SimMachine sim(r);
  const ws::Machine m = sim.machine();
  ASSERT_EQ(m.golden.type(), CV_8UC1);
  ASSERT_EQ(m.flat.type(), CV_32FC1);
  EXPECT_EQ(m.golden.size(), cv::Size(r.camera.width, r.camera.height));
  EXPECT_EQ(m.flat.size(), m.golden.size());
  EXPECT_NEAR(cv::mean(m.flat)[0], 1.0, 0.01);
  double lo = 0.0;
  double hi = 0.0;
  cv::minMaxLoc(m.flat, &lo, &hi);
  EXPECT_NEAR(hi - lo, r.simulation.illumination_gradient, 0.01);
  // Three grey levels of pattern, with real texture.
  cv::minMaxLoc(m.golden, &lo, &hi);
  EXPECT_LT(lo, 80.0);
  EXPECT_GT(hi, 150.0);

  cv::Mat expected;
  cv::Mat golden;
  m.golden.convertTo(golden, CV_32F);
  cv::multiply(golden, m.flat, expected);
  expected.convertTo(expected, CV_8U);
  EXPECT_LE(cv::norm(sim.render(4, 4), expected, cv::NORM_INF), 1.0);
  EXPECT_TRUE(sim.truth(4, 4).empty());
}

TEST(SimCamera, CapturesTheDieUnderTheStageAndIsDarkWithoutLight) {
  const ws::Recipe r = test_recipe();
  const ws::SimMachine sim(r);
  const ws::Machine m = sim.machine();
  const cv::Point2d c = die_centre(r, 2, 3);
  m.stage->move_to(c.x, c.y);
  m.light->set_on(true);
  const cv::Mat lit = m.camera->capture();
  EXPECT_TRUE(m.camera->acquiring());
  EXPECT_TRUE(same(lit, sim.render(2, 3)));
  // Anywhere inside the die is the same die.
  m.stage->move_to(c.x + 0.4 * r.wafer.die_pitch_x_um, c.y - 0.4 * r.wafer.die_pitch_y_um);
  EXPECT_TRUE(same(m.camera->capture(), sim.render(2, 3)));

  m.light->set_on(false);
  const cv::Mat dark = m.camera->capture();
  EXPECT_LT(cv::mean(dark)[0], 0.2 * cv::mean(lit)[0]);
  EXPECT_EQ(sim.counters().captures.load(), 3);
  m.camera->release();
  EXPECT_FALSE(m.camera->acquiring());
  m.camera->release();  // harmless twice
}

// ---------------------------------------------------------------------------------------------
// Timing

TEST(SimTiming, ZeroTimeScaleMakesEveryCallInstant) {
  ws::Recipe r = test_recipe();
  // Hours of device time: only time_scale 0 lets this finish before the 10 s guard below.
  r.stage.settle_ms = 1e7;
  r.stage.speed_um_per_s = 1e-3;
  r.camera.exposure_ms = 1e7;
  r.light.switch_ms = 1e7;
  const ws::SimMachine sim(r);
  const ws::Machine m = sim.machine();
  auto calls = std::async(std::launch::async, [&] {
    m.stage->move_to(1000.0, 2000.0);
    m.light->set_on(true);
    (void)m.camera->capture();
    m.stage->park();
  });
  ASSERT_EQ(calls.wait_for(10s), std::future_status::ready);
  calls.get();
  EXPECT_TRUE(m.stage->parked());
  EXPECT_EQ(sim.counters().moves.load(), 1);
  EXPECT_EQ(sim.counters().captures.load(), 1);
  EXPECT_EQ(sim.counters().parks.load(), 1);
  EXPECT_EQ(sim.counters().light_switches.load(), 1);
  EXPECT_EQ(sim.counters().max_busy_calls.load(), 1);
}

class SimTimingScaled : public ::testing::TestWithParam<double> {};

TEST_P(SimTimingScaled, CallsTakeAtLeastTheirScaledDeviceTime) {
  const double scale = GetParam();
  ws::Recipe r = test_recipe();
  r.time_scale = scale;
  r.stage.speed_um_per_s = 100000.0;
  r.stage.settle_ms = 20.0;
  r.camera.exposure_ms = 15.0;
  r.camera.readout_ms = 5.0;
  r.light.switch_ms = 10.0;
  r.stage.park_x_um = 0.0;
  r.stage.park_y_um = 0.0;
  const ws::SimMachine sim(r);
  const ws::Machine m = sim.machine();
  using ms = std::chrono::duration<double, std::milli>;

  auto t0 = Clock::now();
  m.stage->move_to(3000.0, 4000.0);  // 5000 um at 100000 um/s = 50 ms, + 20 ms settle
  EXPECT_GE(ms(Clock::now() - t0).count(), 70.0 * scale);
  EXPECT_EQ(m.stage->position_um(), cv::Point2d(3000.0, 4000.0));

  t0 = Clock::now();
  m.light->set_on(true);
  EXPECT_GE(ms(Clock::now() - t0).count(), 10.0 * scale);

  t0 = Clock::now();
  (void)m.camera->capture();
  EXPECT_GE(ms(Clock::now() - t0).count(), 20.0 * scale);

  t0 = Clock::now();
  m.stage->park();
  EXPECT_GE(ms(Clock::now() - t0).count(), 70.0 * scale);
  EXPECT_EQ(sim.counters().max_busy_calls.load(), 1);
}

INSTANTIATE_TEST_SUITE_P(Scales, SimTimingScaled, ::testing::Values(0.5, 1.0));

// ---------------------------------------------------------------------------------------------
// Abort paths

TEST(SimAbort, CameraAbortEndsALongCaptureOnAnotherThread) {
  ws::Recipe r = test_recipe();
  r.time_scale = 1.0;
  r.camera.exposure_ms = 1e9;  // eleven days
  const ws::SimMachine sim(r);
  const ws::Machine m = sim.machine();
  auto capture = std::async(std::launch::async, [&] { return m.camera->capture(); });
  ASSERT_TRUE(wait_for_count(sim.counters().busy_calls, 1));
  m.camera->abort();
  ASSERT_EQ(capture.wait_for(5s), std::future_status::ready) << "abort did not end the capture";
  EXPECT_THROW(capture.get(), ws::HardwareAborted);
  EXPECT_EQ(sim.counters().camera_aborts.load(), 1);
  EXPECT_EQ(sim.counters().captures.load(), 1);
  EXPECT_EQ(sim.counters().busy_calls.load(), 0);
}

TEST(SimAbort, StageStopEndsALongMoveWhereTheStageIs) {
  ws::Recipe r = test_recipe();
  r.time_scale = 1.0;
  r.stage.speed_um_per_s = 1.0;  // the move below takes 1000 s
  r.stage.settle_ms = 0.0;
  r.stage.park_x_um = 0.0;
  r.stage.park_y_um = 0.0;
  const ws::SimMachine sim(r);
  const ws::Machine m = sim.machine();
  auto move = std::async(std::launch::async, [&] { m.stage->move_to(1000.0, 0.0); });
  ASSERT_TRUE(wait_for_count(sim.counters().busy_calls, 1));
  m.stage->stop();
  ASSERT_EQ(move.wait_for(5s), std::future_status::ready) << "stop did not end the move";
  EXPECT_THROW(move.get(), ws::HardwareAborted);
  const cv::Point2d held = m.stage->position_um();
  EXPECT_GE(held.x, 0.0);
  EXPECT_LT(held.x, 1000.0);
  EXPECT_EQ(held.y, 0.0);
  EXPECT_EQ(sim.counters().stage_stops.load(), 1);
  // The stage is usable after a stop: park (a few ms back at 1 um/s) completes.
  m.stage->park();
  EXPECT_TRUE(m.stage->parked());
}

TEST(SimAbort, AbortAndStopWhenIdleAreHarmless) {
  ws::Recipe r = test_recipe();
  r.time_scale = 1.0;
  r.camera.exposure_ms = 1.0;
  r.camera.readout_ms = 1.0;
  r.stage.settle_ms = 1.0;
  r.stage.park_x_um = 0.0;
  r.stage.park_y_um = 0.0;
  const ws::SimMachine sim(r);
  const ws::Machine m = sim.machine();
  m.camera->abort();
  m.stage->stop();
  EXPECT_NO_THROW((void)m.camera->capture());
  EXPECT_NO_THROW(m.stage->move_to(100.0, 100.0));
  EXPECT_EQ(m.stage->position_um(), cv::Point2d(100.0, 100.0));
  // Aborting from another thread while idle, repeatedly, is just as harmless.
  std::thread([&] {
    for (int k = 0; k < 3; ++k) {
      m.camera->abort();
      m.stage->stop();
    }
  }).join();
  EXPECT_NO_THROW((void)m.camera->capture());
  EXPECT_EQ(sim.counters().camera_aborts.load(), 4);
  EXPECT_EQ(sim.counters().stage_stops.load(), 4);
}

TEST(SimAbort, MoveOutsideTravelThrowsHardwareErrorWithoutMoving) {
  const ws::Recipe r = test_recipe();
  const ws::SimMachine sim(r);
  const ws::Machine m = sim.machine();
  const cv::Point2d before = m.stage->position_um();
  for (const auto& [x, y] : {std::pair{r.stage.x_max_um + 1.0, 0.0},
                             {0.0, r.stage.y_min_um - 1.0},
                             {std::numeric_limits<double>::quiet_NaN(), 0.0}}) {
    try {
      m.stage->move_to(x, y);
      ADD_FAILURE() << "move to " << x << "," << y << " did not throw";
    } catch (const ws::HardwareAborted&) {
      ADD_FAILURE() << "an out-of-travel move is an error, not an abort";
    } catch (const ws::HardwareError& e) {
      EXPECT_NE(std::string(e.what()).find("travel"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(m.stage->position_um(), before);
  EXPECT_TRUE(m.stage->parked());
  EXPECT_EQ(sim.counters().moves.load(), 0);
}

// ---------------------------------------------------------------------------------------------
// Park and light state

TEST(SimState, ParkReturnsToTheParkPosition) {
  const ws::Recipe r = test_recipe();
  const ws::SimMachine sim(r);
  const ws::Machine m = sim.machine();
  EXPECT_TRUE(m.stage->parked()) << "the stage starts parked";
  EXPECT_EQ(m.stage->position_um(), cv::Point2d(r.stage.park_x_um, r.stage.park_y_um));
  m.stage->move_to(1000.0, 1000.0);
  EXPECT_FALSE(m.stage->parked());
  m.stage->park();
  EXPECT_TRUE(m.stage->parked());
  EXPECT_EQ(m.stage->position_um(), cv::Point2d(r.stage.park_x_um, r.stage.park_y_um));
  m.stage->park();  // harmless when parked
  EXPECT_TRUE(m.stage->parked());
  EXPECT_EQ(sim.counters().parks.load(), 2);
  EXPECT_EQ(sim.counters().moves.load(), 1);
}

TEST(SimState, LightSwitchesOnlyOnChange) {
  const ws::SimMachine sim(test_recipe());
  const ws::Machine m = sim.machine();
  EXPECT_FALSE(m.light->is_on()) << "the light starts off";
  m.light->set_on(true);
  EXPECT_TRUE(m.light->is_on());
  m.light->set_on(true);
  EXPECT_EQ(sim.counters().light_switches.load(), 1);
  m.light->set_on(false);
  EXPECT_FALSE(m.light->is_on());
  EXPECT_EQ(sim.counters().light_switches.load(), 2);
}

TEST(SimConfig, RejectsRecipesItCannotSimulate) {
  ws::Recipe r = test_recipe();
  r.camera.width = 64;
  EXPECT_THROW(ws::SimMachine{r}, ws::ConfigError);
  r = test_recipe();
  r.time_scale = -1.0;
  EXPECT_THROW(ws::SimMachine{r}, ws::ConfigError);
  r = test_recipe();
  r.stage.park_x_um = r.stage.x_max_um + 1.0;
  EXPECT_THROW(ws::SimMachine{r}, ws::ConfigError);
}

}  // namespace
