// Pins down how injected hardware faults end: a hung call is aborted by the watchdog (site error,
// run goes on); a call that ignores its abort faults the device (run Failed, reason timeout, the
// safe-stop steps that can run have run, later runs refused until an operator reset); an interlock
// is an emergency stop; a corrupt frame or a failing move is a site error. Every case has a
// deadline: a fault may never hang the suite.
#include "common/run_fixture.hpp"
#include "pipeline/live_source.hpp"
#include "waferscan/error.hpp"
#include "waferscan/sim/fault_spec.hpp"

#include "hardware/timeout_policy.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <condition_variable>
#include <future>
#include <limits>
#include <mutex>
#include <sstream>

namespace ws::testing {
namespace {

using namespace std::chrono_literals;

class Faults : public RunFixture {
 protected:
  /// Rebuilds the machine with `specs` injected (short abort grace to keep the suite quick).
  void inject(std::initializer_list<const char*> specs) {
    Recipe r = quick_recipe();
    for (const char* s : specs) r.faults.push_back(parse_fault_spec(s));
    make(r, AgentOptions{std::chrono::milliseconds(300)});
  }

  /// Runs with a deadline: a hang is a test failure, not a stuck suite.
  RunReport run_with_deadline(std::chrono::seconds deadline = 60s) {
    return run_with_deadline(request(), deadline);
  }
  RunReport run_with_deadline(RunRequest req, std::chrono::seconds deadline = 60s) {
    return run_with_deadline(std::move(req), RunHooks{}, deadline);
  }
  RunReport run_with_deadline(RunRequest req, RunHooks hooks, std::chrono::seconds deadline = 60s) {
    auto future =
        std::async(std::launch::async, [this, req, hooks] { return controller_->run(req, hooks); });
    if (future.wait_for(deadline) != std::future_status::ready) {
      sim_->release_hangs();
      ADD_FAILURE() << "the run did not end within " << deadline.count() << " s";
    }
    return future.get();
  }

  const SiteResult& site(const RunReport& r, int index) {
    sites_ = controller_->store().sites(r.id);
    return sites_.at(static_cast<std::size_t>(index));
  }

  std::vector<SiteResult> sites_;
};

TEST_F(Faults, AHungCaptureIsAbortedByTheWatchdogAndTheRunGoesOn) {
  inject({"camera.capture=hang@site:3"});
  const RunReport r = run_with_deadline();
  EXPECT_EQ(r.state, RunState::completed);
  EXPECT_EQ(site(r, 3).status, SiteStatus::error);
  EXPECT_NE(site(r, 3).reason.find("timed out"), std::string::npos) << site(r, 3).reason;
  EXPECT_EQ(r.sites.done, 11);
  EXPECT_FALSE(controller_->device_faulted(Device::camera));
  expect_consistent(r);
  expect_hardware_safe(r);
}

TEST_F(Faults, ACaptureThatIgnoresItsAbortFaultsTheCameraAndFailsTheRun) {
  inject({"camera.capture=hang@site:2", "camera.capture=ignore_abort@site:2"});
  const RunReport r = run_with_deadline();
  EXPECT_EQ(r.state, RunState::failed);
  EXPECT_EQ(r.stop_reason, StopReason::timeout);
  EXPECT_EQ(exit_code_for(r), exit_code::timed_out);
  EXPECT_TRUE(controller_->device_faulted(Device::camera));
  EXPECT_EQ(controller_->abandoned_driver_threads(), 1u);
  expect_consistent(r);
  // The steps that do not need the camera ran; the camera's own step reports the fault.
  const Machine m = sim_->machine();
  EXPECT_FALSE(m.light->is_on());
  EXPECT_TRUE(m.stage->parked());
  for (const auto& step : r.safe_stop) {
    if (step.id == SafeStopStepId::release_hardware) {
      EXPECT_EQ(step.outcome, CallOutcome::failed);
      EXPECT_NE(step.message.find("Faulted"), std::string::npos) << step.message;
    } else {
      EXPECT_EQ(step.outcome, CallOutcome::ok) << to_string(step.id) << ": " << step.message;
    }
  }
  // The fault is persisted: later runs are refused until the operator resets the hardware.
  ASSERT_EQ(controller_->store().faults().size(), 1u);
  EXPECT_EQ(controller_->store().faults()[0].device, "camera");
  EXPECT_THROW(controller_->run(request()), RunRejected);
  sim_->release_hangs();  // the operator fixed the camera
  EXPECT_EQ(controller_->reset_hardware("test operator"), 1);
  const RunReport after = run_with_deadline();
  EXPECT_EQ(after.state, RunState::completed);
}

TEST_F(Faults, AFaultRecordedByAnEarlierProcessRefusesRuns) {
  controller_->store().record_fault("stage", "stuck in a test", 0);
  make(quick_recipe());  // a new controller on the same store: the fault is restored
  EXPECT_TRUE(controller_->device_faulted(Device::stage));
  EXPECT_THROW(controller_->run(request()), RunRejected);
  controller_->reset_hardware("test operator");
  EXPECT_EQ(run_with_deadline().state, RunState::completed);
}

TEST_F(Faults, AStageThatIgnoresStopFaultsTheStage) {
  inject({"stage.move=hang@site:4", "stage.stop=ignore_abort@call:1"});
  const RunReport r = run_with_deadline();
  EXPECT_EQ(r.state, RunState::failed);
  EXPECT_EQ(r.stop_reason, StopReason::timeout);
  EXPECT_TRUE(controller_->device_faulted(Device::stage));
  expect_consistent(r);
  EXPECT_FALSE(sim_->machine().light->is_on());  // light off still ran
  // The Faulted stage could not be parked: the machine is not safe, and the run says so.
  EXPECT_FALSE(r.machine_safe);
  EXPECT_EQ(exit_code_for(r), exit_code::unsafe);
  EXPECT_NE(r.message.find("the machine is not safe: park_stage failed"), std::string::npos)
      << r.message;
}

TEST_F(Faults, AHungLampFaultsTheLight) {
  inject({"light.on=hang@call:1"});
  const RunReport r = run_with_deadline();
  EXPECT_EQ(r.state, RunState::failed);
  EXPECT_EQ(r.stop_reason, StopReason::timeout);
  EXPECT_TRUE(controller_->device_faulted(Device::light));
  expect_consistent(r);
  EXPECT_TRUE(sim_->machine().stage->parked());
  EXPECT_FALSE(r.machine_safe);  // a Faulted lamp was not turned off
  EXPECT_EQ(exit_code_for(r), exit_code::unsafe);
}

// The watchdog never blocks in a driver: an abort path that hangs too is abandoned after the
// grace, the device Faulted, and the run goes on to its safe stop and its final state.
TEST_F(Faults, AHungCaptureWhoseAbortHangsTooFaultsTheCamera) {
  inject({"camera.capture=hang@site:2", "camera.abort=hang@call:1"});
  const RunReport r = run_with_deadline();
  EXPECT_EQ(r.state, RunState::failed);
  EXPECT_EQ(r.stop_reason, StopReason::timeout);
  EXPECT_EQ(exit_code_for(r), exit_code::timed_out);
  EXPECT_TRUE(r.machine_safe);
  EXPECT_TRUE(controller_->device_faulted(Device::camera));
  EXPECT_NE(controller_->store().faults().at(0).reason.find("the abort itself did not return"),
            std::string::npos)
      << controller_->store().faults().at(0).reason;
  EXPECT_EQ(controller_->abandoned_driver_threads(), 2u);  // the capture's and the abort's
  EXPECT_EQ(controller_->store().run(r.id)->state, RunState::failed);
  expect_consistent(r);
  EXPECT_TRUE(sim_->machine().stage->parked());
  EXPECT_FALSE(sim_->machine().light->is_on());
  sim_->release_hangs();
}

TEST_F(Faults, AHungMoveWhoseStopHangsTooFaultsTheStageAndLeavesTheMachineUnsafe) {
  inject({"stage.move=hang@site:2", "stage.stop=hang@call:1"});
  const RunReport r = run_with_deadline();
  EXPECT_EQ(r.state, RunState::failed);
  EXPECT_TRUE(controller_->device_faulted(Device::stage));
  EXPECT_FALSE(r.machine_safe);  // a Faulted stage is not parked
  EXPECT_EQ(exit_code_for(r), exit_code::unsafe);
  EXPECT_FALSE(sim_->machine().light->is_on());
  expect_consistent(r);
  sim_->release_hangs();
}

// A failure in the safe stop itself: the run that was about to complete fails as unsafe, the
// device is Faulted in the store, and the next run is refused until an operator reset.
class SafeStopFailures : public Faults, public ::testing::WithParamInterface<const char*> {};

TEST_P(SafeStopFailures, LeaveTheMachineUnsafeAndTheDeviceFaulted) {
  const std::string specs = GetParam();
  Recipe recipe = quick_recipe();
  std::stringstream list(specs);
  for (std::string spec; std::getline(list, spec, ' ');) {
    recipe.faults.push_back(parse_fault_spec(spec));
  }
  make(recipe, AgentOptions{std::chrono::milliseconds(300)});
  const RunReport r = run_with_deadline();
  const Device device = specs.rfind("stage", 0) == 0 ? Device::stage : Device::light;
  EXPECT_EQ(r.state, RunState::failed) << specs;
  EXPECT_EQ(r.sites.done, 12);  // every site was inspected: only the stop failed
  EXPECT_FALSE(r.machine_safe);
  EXPECT_EQ(exit_code_for(r), exit_code::unsafe);
  EXPECT_NE(r.message.find("the machine is not safe"), std::string::npos) << r.message;
  EXPECT_TRUE(controller_->device_faulted(device));
  const auto stored = controller_->store().run(r.id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->state, RunState::failed);
  EXPECT_EQ(stored->stop_reason, StopReason::fault);
  ASSERT_EQ(controller_->store().faults().size(), 1u);
  EXPECT_EQ(controller_->store().faults()[0].device, to_string(device));
  EXPECT_THROW(controller_->run(request()), RunRejected);
  sim_->release_hangs();
  controller_->reset_hardware("test operator");
  EXPECT_EQ(run_with_deadline().state, RunState::completed);
}

INSTANTIATE_TEST_SUITE_P(Faults, SafeStopFailures,
                         ::testing::Values("stage.park=hang@call:1 stage.park=ignore_abort@call:1",
                                           "stage.park=error@call:1", "light.off=hang@call:1",
                                           "light.off=error@call:1"));

TEST_F(Faults, AnInterlockIsAnEmergencyStop) {
  inject({"machine.estop=fire@site:4"});
  const RunReport r = run_with_deadline();
  EXPECT_EQ(r.state, RunState::canceled);
  EXPECT_EQ(r.stop_reason, StopReason::emergency_stop);
  EXPECT_EQ(r.stop_strength, StopStrength::abort);  // no drain
  EXPECT_EQ(exit_code_for(r), exit_code::emergency_stop);
  EXPECT_LT(r.sites.done, 12);
  expect_consistent(r);
  expect_hardware_safe(r);
}

TEST_F(Faults, ACorruptFrameIsASiteErrorAndTheRunGoesOn) {
  inject({"frame.corrupt=fire@site:1"});
  const RunReport r = run_with_deadline();
  EXPECT_EQ(r.state, RunState::completed);
  EXPECT_EQ(site(r, 1).status, SiteStatus::error);
  EXPECT_NE(site(r, 1).reason.find("bad frame"), std::string::npos) << site(r, 1).reason;
  EXPECT_EQ(r.sites.done, 11);
  expect_consistent(r);
}

TEST_F(Faults, AFailingMoveIsASiteError) {
  inject({"stage.move=error@site:2"});
  const RunReport r = run_with_deadline();
  EXPECT_EQ(r.state, RunState::completed);
  EXPECT_EQ(site(r, 2).status, SiteStatus::error);
  EXPECT_NE(site(r, 2).reason.find("injected fault"), std::string::npos) << site(r, 2).reason;
  expect_consistent(r);
  expect_hardware_safe(r);
}

TEST_F(Faults, AnAbortPathThatThrowsDoesNotStopTheCleanup) {
  inject({"camera.abort=error@call:1", "stage.stop=error@call:1"});
  auto req = request();
  RunHooks hooks;
  hooks.probe = [&](std::string_view node, std::size_t seq) {
    if (node == "detect" && seq == 2) {
      controller_->request_stop(std::nullopt, StopReason::operator_request, StopStrength::abort);
    }
  };
  const RunReport r = controller_->run(req, hooks);
  EXPECT_EQ(r.state, RunState::canceled);
  expect_consistent(r);
  const Machine m = sim_->machine();
  EXPECT_FALSE(m.light->is_on());
  EXPECT_TRUE(m.stage->parked());
}

TEST_F(Faults, AFullDiskFailsTheRunAndKeepsWhatWasStored) {
  // The simulator's wiring: its store.write faults decorate the run's site writer.
  sim_->add_fault(parse_fault_spec("store.write=error@site:4"));
  RunHooks hooks;
  hooks.decorate_site_writer = [this](SiteWriter w) {
    return sim_->decorate_site_writer(std::move(w));
  };
  const RunReport r = controller_->run(request(), hooks);
  EXPECT_EQ(r.state, RunState::failed);
  EXPECT_EQ(r.stop_reason, StopReason::fault);
  EXPECT_NE(r.message.find("disk full"), std::string::npos) << r.message;
  // The refused write stored nothing; the safe-stop marks the acquired site as abandoned.
  EXPECT_EQ(site(r, 4).status, SiteStatus::incomplete);
  EXPECT_TRUE(site(r, 4).defects.empty());
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(site(r, i).status, SiteStatus::done) << "site " << i << " was stored before";
  }
  expect_consistent(r);
  expect_hardware_safe(r);
}

// The health monitor (recipe `monitor:`) and the simulated sensor's machine.overheat fault.
class Monitor : public Faults {
 protected:
  void make_with(const char* fault, AlarmAction action, double period_ms = 5) {
    Recipe r = quick_recipe();
    r.faults.push_back(parse_fault_spec(fault));
    r.monitor.period_ms = period_ms;
    r.monitor.on_alarm = action;
    make(r, AgentOptions{std::chrono::milliseconds(300)});
  }
  RunRequest request_with_events() {
    auto req = request();
    req.event_sinks.push_back(&events_);
    return req;
  }
  /// The JSON lines of one event type.
  std::vector<nlohmann::json> events(const std::string& type) {
    std::vector<nlohmann::json> out;
    std::istringstream in(events_.str());
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line);
      if (j.value("type", "") == type) out.push_back(std::move(j));
    }
    return out;
  }
  std::ostringstream events_;
};

TEST_F(Monitor, AnOverheatStopsTheRunWithReasonFault) {
  make_with("machine.overheat=fire@site:3", AlarmAction::stop);
  auto req = request_with_events();
  // Handshake: site 6's move waits until the monitor has seen the heat (it fired as the stage was
  // sent to site 3) and stopped the run, so the test does not depend on the monitor's period.
  RunHooks hooks;
  hooks.probe = [this](std::string_view point, std::size_t seq) {
    if (point != "acquire.move.before" || seq != 6) return;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!controller_->active_token().stop_requested()) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "no alarm stopped the run";
      std::this_thread::yield();
    }
  };
  const RunReport r = run_with_deadline(req, hooks);
  EXPECT_EQ(r.state, RunState::failed);  // stopped for a fault: not an operator's cancel
  EXPECT_EQ(r.stop_reason, StopReason::fault);
  EXPECT_EQ(r.stop_strength, StopStrength::stop);
  EXPECT_EQ(exit_code_for(r), exit_code::failed);
  EXPECT_NE(r.message.find("health monitor: temperature"), std::string::npos) << r.message;
  EXPECT_GE(r.sites.not_started, 5);  // sites 7.. never started
  expect_consistent(r);
  expect_hardware_safe(r);
  const auto alarms = events("alarm");
  ASSERT_FALSE(alarms.empty());
  EXPECT_EQ(alarms[0]["kind"], "alarm");
  EXPECT_GT(alarms[0]["temperature_c"].get<double>(), recipe_.monitor.temperature_limit_c);
  const auto summary = events("monitor");
  ASSERT_EQ(summary.size(), 1u);
  EXPECT_GE(summary[0]["alarms"].get<int>(), 1);
  EXPECT_EQ(controller_->store().run(r.id)->message, r.message);  // persisted with the run
}

TEST_F(Monitor, AnAlarmIsOnlyRecordedWhenTheRecipeSaysRecord) {
  make_with("machine.overheat=fire@call:1", AlarmAction::record);  // hot from the first reading
  const RunReport r = run_with_deadline(request_with_events());
  EXPECT_EQ(r.state, RunState::completed);
  EXPECT_EQ(r.sites.done, 12);
  ASSERT_EQ(events("alarm").size(), 1u);  // edge-triggered: one alarm, however many readings
  EXPECT_GT(events("monitor").at(0)["max_temperature_c"].get<double>(), 60.0);
}

TEST_F(Monitor, AMachineAlreadyOverItsLimitStartsNoSite) {
  make_with("machine.overheat=fire@call:1", AlarmAction::abort);
  const RunReport r = run_with_deadline(request_with_events());
  EXPECT_EQ(r.state, RunState::failed);
  EXPECT_EQ(r.stop_reason, StopReason::fault);
  EXPECT_EQ(r.stop_strength, StopStrength::abort);
  EXPECT_EQ(r.sites.not_started, 12);
  EXPECT_EQ(sim_->counters().moves.load(), 0);  // the first reading comes before any site
  expect_consistent(r);
  expect_hardware_safe(r);
  // The machine stays hot (the simulated overheat does not cool down): the next run is stopped
  // the same way, and starts cleanly otherwise.
  EXPECT_EQ(run_with_deadline().stop_reason, StopReason::fault);
}

TEST_F(Monitor, NoMonitorWithPeriodZero) {
  make_with("machine.overheat=fire@call:1", AlarmAction::abort, 0);
  const RunReport r = run_with_deadline(request_with_events());
  EXPECT_EQ(r.state, RunState::completed);
  EXPECT_EQ(sim_->counters().health_readings.load(), 0);
  EXPECT_TRUE(events("monitor").empty());
}

// Recipe `timeouts:` replace the derived ones. Checked by what the run reports and by the
// watchdog's own event times, not by how long the whole run took (sanitizer builds are slow).
class Timeouts : public Monitor {
 protected:
  /// Seconds of the day of an event's "t" ("2026-11-26T09:08:23.465Z").
  static double seconds_of_day(const nlohmann::json& event) {
    const std::string t = event.at("t").get<std::string>();
    return std::stoi(t.substr(11, 2)) * 3600.0 + std::stoi(t.substr(14, 2)) * 60.0 +
           std::stod(t.substr(17, 6));
  }
  /// The first "hardware" event of `state` for the camera.
  nlohmann::json camera_event(const std::string& state) {
    for (const auto& e : events("hardware")) {
      if (e.value("device", "") == "camera" && e.value("state", "") == state) return e;
    }
    ADD_FAILURE() << "no camera '" << state << "' event";
    return {{"t", "1970-01-01T00:00:00.000Z"}};
  }
};

TEST(DeviceTimeouts, DeadlinesSaturateInsteadOfOverflowing) {
  using std::chrono::milliseconds;
  EXPECT_EQ(saturating_ms(1e300), kMaxDeadline);
  EXPECT_EQ(saturating_ms(std::numeric_limits<double>::infinity()), kMaxDeadline);
  EXPECT_EQ(saturating_ms(std::numeric_limits<double>::quiet_NaN()), milliseconds(0));
  EXPECT_EQ(saturating_ms(-5), milliseconds(0));
  EXPECT_EQ(saturating_ms(2.2), milliseconds(3));
  EXPECT_EQ(call_timeout(1e300), kMaxDeadline);
  EXPECT_EQ(call_timeout(0, 1e300), kMaxDeadline);
  DeviceTimeouts t;
  t.move_ms_per_um = 1e300;
  EXPECT_EQ(t.move(1e300), kMaxDeadline);
}

TEST(DeviceTimeouts, RecipeOverridesReplaceEachDerivedTimeout) {
  using std::chrono::milliseconds;
  Recipe r = quick_recipe();
  const auto derived = DeviceTimeouts::from(r);
  EXPECT_EQ(derived.capture, milliseconds(1000));  // time scale 0: 3 x 0 + 1 s
  EXPECT_GT(derived.move(1000.0), milliseconds(0));
  r.timeouts.light_ms = 120.2;  // rounded up
  r.timeouts.capture_ms = 130;
  r.timeouts.move_ms = 140;
  r.time_scale = 1.0;  // a derived move timeout would grow with the distance; an override not
  r.timeouts.park_ms = 150;
  r.timeouts.abort_ms = 160;
  const auto t = DeviceTimeouts::from(r);
  EXPECT_EQ(t.light, milliseconds(121));
  EXPECT_EQ(t.capture, milliseconds(130));
  EXPECT_EQ(t.move(0.0), milliseconds(140));
  EXPECT_EQ(t.move(100000.0), milliseconds(140));
  EXPECT_EQ(t.park, milliseconds(150));
  EXPECT_EQ(t.abort, milliseconds(160));
  EXPECT_EQ(derived.abort, kAbortPathTimeout);
  // The one rule: three times the expected duration plus a second, for every derived call.
  EXPECT_EQ(call_timeout(100.0), milliseconds(1300));
  r.timeouts = {};
  const auto scaled = DeviceTimeouts::from(r);
  EXPECT_EQ(scaled.light, call_timeout(r.light.switch_ms));
  EXPECT_EQ(scaled.capture, call_timeout(r.camera.exposure_ms + r.camera.readout_ms));
  EXPECT_GT(scaled.park, scaled.move(0.0));
}

TEST_F(Timeouts, RecipeTimeoutsReplaceTheDefaults) {
  Recipe r = quick_recipe();
  r.faults.push_back(parse_fault_spec("camera.capture=hang@site:3"));
  r.timeouts.capture_ms = 100;  // the derived one at time scale 0 is 1000 ms
  make(r, AgentOptions{std::chrono::milliseconds(300)});
  const RunReport hung = run_with_deadline(request_with_events());
  EXPECT_EQ(hung.state, RunState::completed);
  EXPECT_EQ(site(hung, 3).status, SiteStatus::error);
  EXPECT_NE(site(hung, 3).reason.find("capture after 100 ms"), std::string::npos)
      << site(hung, 3).reason;

  // The abort grace comes from the recipe too: 5 s in the agent's options, 100 ms in the recipe.
  // The watchdog journals the overrun, then the fault one grace later.
  r.faults.push_back(parse_fault_spec("camera.capture=ignore_abort@site:3"));
  r.timeouts.abort_grace_ms = 100;
  make(r, AgentOptions{std::chrono::milliseconds(5000)});
  events_.str("");
  const RunReport faulted = run_with_deadline(request_with_events());
  EXPECT_EQ(faulted.state, RunState::failed);
  EXPECT_EQ(faulted.stop_reason, StopReason::timeout);
  EXPECT_TRUE(controller_->device_faulted(Device::camera));
  const double grace_s =
      seconds_of_day(camera_event("faulted")) - seconds_of_day(camera_event("overrun"));
  EXPECT_GE(grace_s, 0.09);
  EXPECT_LT(grace_s, 2.5) << "the agent's 5 s grace was used, not the recipe's 100 ms";
}

}  // namespace
}  // namespace ws::testing
