// Pins down how injected hardware faults end: a hung call is aborted by the watchdog (site error,
// run goes on); a call that ignores its abort faults the device (run Failed, reason timeout, the
// safe-stop steps that can run have run, later runs refused until an operator reset); an interlock
// is an emergency stop; a corrupt frame or a failing move is a site error. Every case has a
// deadline: a fault may never hang the suite.
#include "common/run_fixture.hpp"
#include "waferscan/error.hpp"
#include "waferscan/fault_spec.hpp"

#include <gtest/gtest.h>

#include <future>

namespace ws::testing {
namespace {

using namespace std::chrono_literals;

class Faults : public RunFixture {
 protected:
  /// Rebuilds the machine with `specs` injected (short abort grace to keep the suite quick).
  void inject(std::initializer_list<const char*> specs) {
    Recipe r = quick_recipe();
    for (const char* s : specs) r.faults.push_back(parse_fault_spec(s));
    make(r, HardwareAgent::Options{std::chrono::milliseconds(300)});
  }

  /// Runs with a deadline: a hang is a test failure, not a stuck suite.
  RunReport run_with_deadline(std::chrono::seconds deadline = 60s) {
    auto req = request();
    auto future = std::async(std::launch::async, [this, req] { return controller_->run(req); });
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
  EXPECT_FALSE(controller_->agent().faulted(Device::camera));
  expect_consistent(r);
  expect_hardware_safe(r);
}

TEST_F(Faults, ACaptureThatIgnoresItsAbortFaultsTheCameraAndFailsTheRun) {
  inject({"camera.capture=hang@site:2", "camera.capture=ignore_abort@site:2"});
  const RunReport r = run_with_deadline();
  EXPECT_EQ(r.state, RunState::failed);
  EXPECT_EQ(r.stop_reason, StopReason::timeout);
  EXPECT_EQ(exit_code_for(r), exit_code::timed_out);
  EXPECT_TRUE(controller_->agent().faulted(Device::camera));
  EXPECT_EQ(controller_->agent().abandoned_threads(), 1u);
  expect_consistent(r);
  // The steps that do not need the camera ran; the camera's own step reports the fault.
  const Machine m = sim_->machine();
  EXPECT_FALSE(m.light->is_on());
  EXPECT_TRUE(m.stage->parked());
  for (const auto& step : r.safe_stop) {
    if (step.name == "release_hardware") {
      EXPECT_EQ(step.outcome, CallOutcome::failed);
      EXPECT_NE(step.message.find("Faulted"), std::string::npos) << step.message;
    } else {
      EXPECT_EQ(step.outcome, CallOutcome::ok) << step.name << ": " << step.message;
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
  EXPECT_TRUE(controller_->agent().faulted(Device::stage));
  EXPECT_THROW(controller_->run(request()), RunRejected);
  controller_->reset_hardware("test operator");
  EXPECT_EQ(run_with_deadline().state, RunState::completed);
}

TEST_F(Faults, AStageThatIgnoresStopFaultsTheStage) {
  inject({"stage.move=hang@site:4", "stage.stop=ignore_abort@call:1"});
  const RunReport r = run_with_deadline();
  EXPECT_EQ(r.state, RunState::failed);
  EXPECT_EQ(r.stop_reason, StopReason::timeout);
  EXPECT_TRUE(controller_->agent().faulted(Device::stage));
  expect_consistent(r);
  EXPECT_FALSE(sim_->machine().light->is_on());  // light off still ran
}

TEST_F(Faults, AHungLampFaultsTheLight) {
  inject({"light.on=hang@call:1"});
  const RunReport r = run_with_deadline();
  EXPECT_EQ(r.state, RunState::failed);
  EXPECT_EQ(r.stop_reason, StopReason::timeout);
  EXPECT_TRUE(controller_->agent().faulted(Device::light));
  expect_consistent(r);
  EXPECT_TRUE(sim_->machine().stage->parked());
}

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
  req.probe = [&](std::string_view node, std::size_t seq) {
    if (node == "detect" && seq == 2) {
      controller_->request_stop(std::nullopt, StopReason::operator_request, StopStrength::abort);
    }
  };
  const RunReport r = controller_->run(req);
  EXPECT_EQ(r.state, RunState::canceled);
  expect_consistent(r);
  const Machine m = sim_->machine();
  EXPECT_FALSE(m.light->is_on());
  EXPECT_TRUE(m.stage->parked());
}

TEST_F(Faults, AFullDiskFailsTheRunAndKeepsWhatWasStored) {
  auto req = request();
  req.store_faults.push_back(parse_fault_spec("store.write=error@site:4"));
  const RunReport r = controller_->run(req);
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

}  // namespace
}  // namespace ws::testing
