// Pins down the health monitor: edge-triggered alarms with hysteresis, sensor errors reported once
// per outage, a first reading before the constructor returns, a prompt stop whatever the period,
// and the simulated sensor's overheat fault. Readings are handshakes (a scripted sensor that
// counts them), never sleeps; every wait has a deadline.
#include "hardware/health_monitor.hpp"
#include "waferscan/error.hpp"
#include "waferscan/recipe.hpp"
#include "waferscan/sim/fault_spec.hpp"
#include "waferscan/sim/sim_machine.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ws {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
constexpr auto kDeadline = 10s;

/// Returns the scripted readings in order (nullopt: the read throws), then repeats the last one.
/// Counts readings so a test can wait for the n-th.
class ScriptedSensor final : public HealthSensor {
 public:
  explicit ScriptedSensor(std::vector<std::optional<double>> script)
      : script_(script.begin(), script.end()) {}

  double temperature_c() override {
    std::optional<double> v;
    {
      std::lock_guard lock(mutex_);
      v = script_.front();
      if (script_.size() > 1) script_.pop_front();
      ++reads_;
    }
    read_.notify_all();
    if (!v) throw HardwareError("sensor bus timeout");
    return *v;
  }

  /// Waits until at least n readings were taken; false after the deadline.
  bool wait_reads(int n) {
    std::unique_lock lock(mutex_);
    return read_.wait_for(lock, kDeadline, [&] { return reads_ >= n; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable read_;
  std::deque<std::optional<double>> script_;
  int reads_ = 0;
};

/// Collects what the listener was told.
struct Events {
  std::mutex mutex;
  std::vector<HealthEvent> seen;
  HealthMonitor::Listener listener() {
    return [this](const HealthEvent& e) {
      std::lock_guard lock(mutex);
      seen.push_back(e);
    };
  }
  std::vector<HealthEvent> snapshot() {
    std::lock_guard lock(mutex);
    return seen;
  }
};

HealthMonitor::Options fast(double limit = 45.0, double hysteresis = 2.0) {
  HealthMonitor::Options o;
  o.period = 1ms;
  o.temperature_limit_c = limit;
  o.hysteresis_c = hysteresis;
  return o;
}

TEST(HealthMonitor, AlarmsAreEdgeTriggeredWithHysteresis) {
  // 44 is over limit - hysteresis (43), so it does not clear; 42 does; 50 alarms again.
  auto sensor = std::make_shared<ScriptedSensor>(
      std::vector<std::optional<double>>{30, 50, 51, 44, 42, 50, 30});
  Events events;
  HealthMonitor monitor(sensor, fast(), events.listener());
  ASSERT_TRUE(sensor->wait_reads(8));  // the script and one repeat of its last reading
  monitor.stop();
  const auto seen = events.snapshot();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].kind, HealthEvent::Kind::alarm);
  EXPECT_DOUBLE_EQ(seen[0].temperature_c, 50.0);
  EXPECT_EQ(seen[0].message, "temperature 50.0 C over the limit of 45.0 C");
  EXPECT_EQ(seen[1].kind, HealthEvent::Kind::cleared);
  EXPECT_DOUBLE_EQ(seen[1].temperature_c, 42.0);
  EXPECT_EQ(seen[2].kind, HealthEvent::Kind::alarm);
  EXPECT_EQ(seen[3].kind, HealthEvent::Kind::cleared);
  const auto stats = monitor.stats();
  EXPECT_GE(stats.readings, 8u);
  EXPECT_DOUBLE_EQ(stats.max_temperature_c, 51.0);
  EXPECT_EQ(stats.alarms, 2u);
}

TEST(HealthMonitor, TheFirstReadingIsTakenBeforeTheConstructorReturns) {
  auto sensor = std::make_shared<ScriptedSensor>(std::vector<std::optional<double>>{90});
  Events events;
  HealthMonitor::Options slow = fast();
  slow.period = 1h;  // no second reading during this test
  HealthMonitor monitor(sensor, slow, events.listener());
  const auto seen = events.snapshot();  // no wait: already reported
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].kind, HealthEvent::Kind::alarm);
  EXPECT_EQ(monitor.stats().readings, 1u);
}

TEST(HealthMonitor, StopIsPromptWhateverThePeriodAndIdempotent) {
  auto sensor = std::make_shared<ScriptedSensor>(std::vector<std::optional<double>>{25});
  HealthMonitor::Options o = fast();
  o.period = 1h;
  HealthMonitor monitor(sensor, o, {});
  const auto t0 = Clock::now();
  monitor.stop();
  // The wait is cancellable: stop() does not sit out the hour (generous bound for loaded CI).
  EXPECT_LT(Clock::now() - t0, 2s);
  monitor.stop();  // again: harmless; the destructor stops a third time
  EXPECT_EQ(monitor.stats().readings, 1u);
}

TEST(HealthMonitor, ASensorOutageIsReportedOnceAndClearsWhenItReadsAgain) {
  auto sensor = std::make_shared<ScriptedSensor>(std::vector<std::optional<double>>{
      25, std::nullopt, std::nullopt, std::nullopt, 26, std::nullopt, 27});
  Events events;
  HealthMonitor monitor(sensor, fast(), events.listener());
  ASSERT_TRUE(sensor->wait_reads(8));
  monitor.stop();
  const auto seen = events.snapshot();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].kind, HealthEvent::Kind::sensor_error);
  EXPECT_NE(seen[0].message.find("sensor bus timeout"), std::string::npos) << seen[0].message;
  EXPECT_EQ(seen[1].kind, HealthEvent::Kind::cleared);
  EXPECT_EQ(seen[2].kind, HealthEvent::Kind::sensor_error);
  EXPECT_EQ(seen[3].kind, HealthEvent::Kind::cleared);
  EXPECT_EQ(monitor.stats().sensor_errors, 4u);
}

TEST(HealthMonitor, AListenerThatThrowsDoesNotEndTheLoop) {
  auto sensor =
      std::make_shared<ScriptedSensor>(std::vector<std::optional<double>>{50, 30, 50, 30});
  int calls = 0;  // monitor thread only until stop() joins it
  HealthMonitor monitor(sensor, fast(), [&calls](const HealthEvent&) {
    ++calls;
    throw std::runtime_error("listener bug");
  });
  ASSERT_TRUE(sensor->wait_reads(5));
  monitor.stop();
  EXPECT_EQ(calls, 4);
}

// The simulated sensor: ambient plus lamp heating, and machine.overheat from the fault injector.
Recipe two_site_recipe() {
  Recipe r = parse_recipe(
      "recipe: t\n"
      "time_scale: 0\n"
      "camera: {width: 128, height: 128}\n"
      "simulation: {temperature_c: 30, light_heating_c: 2}\n"
      "sites: [{die: [0, 0]}, {die: [1, 0]}, {die: [2, 0]}]\n",
      "t.yaml");
  return r;
}

TEST(SimHealthSensor, ReadsAmbientPlusLampHeating) {
  SimMachine sim(two_site_recipe());
  const Machine m = sim.machine();
  ASSERT_TRUE(m.health);
  EXPECT_NEAR(m.health->temperature_c(), 30.0, 0.051);
  m.light->set_on(true);
  EXPECT_NEAR(m.health->temperature_c(), 32.0, 0.051);
  EXPECT_EQ(sim.counters().health_readings.load(), 2);
}

TEST(SimHealthSensor, OverheatAtASiteFiresWhenTheStageIsSentThereAndStays) {
  Recipe r = two_site_recipe();
  r.faults.push_back(parse_fault_spec("machine.overheat=fire@site:1"));
  SimMachine sim(r);
  const Machine m = sim.machine();
  m.stage->move_to(r.sites[0].x_um, r.sites[0].y_um);
  EXPECT_LT(m.health->temperature_c(), 31.0);
  m.stage->move_to(r.sites[1].x_um, r.sites[1].y_um);  // no reading at site 1: it still fires
  m.stage->move_to(r.sites[2].x_um, r.sites[2].y_um);
  EXPECT_GT(m.health->temperature_c(), 69.0);
  EXPECT_GT(m.health->temperature_c(), 69.0);  // it stays
}

TEST(SimHealthSensor, OverheatAtTheNthReading) {
  Recipe r = two_site_recipe();
  r.faults.push_back(parse_fault_spec("machine.overheat=fire@call:3"));
  SimMachine sim(r);
  const Machine m = sim.machine();
  EXPECT_LT(m.health->temperature_c(), 31.0);
  EXPECT_LT(m.health->temperature_c(), 31.0);
  EXPECT_GT(m.health->temperature_c(), 69.0);
}

}  // namespace
}  // namespace ws
