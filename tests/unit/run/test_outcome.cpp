// Pins down how a run's outcome follows from its stop, its failure, its sites and what the safe
// stop left behind: a machine left unsafe always fails the run (exit 6); a device Faulted during
// a run that would otherwise complete fails it (the watchdog's fault may come after the last site).
#include "run/outcome.hpp"

#include "waferscan/error.hpp"
#include "waferscan/run.hpp"

#include <gtest/gtest.h>

namespace ws {
namespace {

SiteCounts all_done() {
  SiteCounts c;
  c.total = 12;
  c.done = 12;
  return c;
}

SiteCounts five_done() {
  SiteCounts c = all_done();
  c.done = 5;
  c.not_started = 7;
  return c;
}

StopInfo operator_stop() {
  StopInfo s;
  s.reason = StopReason::operator_request;
  s.strength = StopStrength::stop;
  s.origin = "SIGINT";
  return s;
}

TEST(Outcome, AllDoneAndSafeCompletes) {
  const RunOutcome o = settle_outcome(std::nullopt, "", all_done(), {});
  EXPECT_EQ(o.state, RunState::completed);
  EXPECT_EQ(o.reason, StopReason::none);
  EXPECT_TRUE(o.machine_safe);
}

TEST(Outcome, AMachineLeftUnsafeFailsEvenACompletedRun) {
  const RunOutcome o =
      settle_outcome(std::nullopt, "", all_done(), {"light_off failed (lamp stuck)", ""});
  EXPECT_EQ(o.state, RunState::failed);
  EXPECT_EQ(o.reason, StopReason::fault);
  EXPECT_FALSE(o.machine_safe);
  EXPECT_EQ(o.message, "the machine is not safe: light_off failed (lamp stuck)");
  RunReport r;
  r.state = o.state;
  r.stop_reason = o.reason;
  r.machine_safe = o.machine_safe;
  EXPECT_EQ(exit_code_for(r), exit_code::unsafe);
}

TEST(Outcome, AnUnsafeMachineKeepsTheStopsReasonButFails) {
  const RunOutcome o =
      settle_outcome(operator_stop(), "", five_done(), {"park_stage timed_out", ""});
  EXPECT_EQ(o.state, RunState::failed);
  EXPECT_EQ(o.reason, StopReason::operator_request);
  EXPECT_FALSE(o.machine_safe);
}

TEST(Outcome, ADeviceFaultedAfterTheLastSiteStillFailsTheRun) {
  // The watchdog's stop request lost the race with the last site: no stop, every site done.
  const RunOutcome o = settle_outcome(std::nullopt, "", all_done(), {"", "camera: hung"});
  EXPECT_EQ(o.state, RunState::failed);
  EXPECT_EQ(o.reason, StopReason::timeout);
  EXPECT_TRUE(o.machine_safe);
  EXPECT_NE(o.message.find("camera: hung"), std::string::npos) << o.message;
}

TEST(Outcome, AFaultedDeviceDoesNotTurnACanceledRunIntoAFailure) {
  const RunOutcome o = settle_outcome(operator_stop(), "", five_done(), {"", "camera: hung"});
  EXPECT_EQ(o.state, RunState::canceled);
}

}  // namespace
}  // namespace ws
