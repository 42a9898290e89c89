// Pins down the safe-stop sequence: every step runs in order whatever an earlier step did (throw,
// fail, time out), each is timed, and running the sequence twice changes nothing.
#include "run/safe_stop.hpp"

#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace ws {
namespace {

using std::chrono::milliseconds;

using Id = SafeStopStepId;

SafeStopStep ok_step(Id id, std::vector<std::string>& log) {
  return {id, milliseconds(500), [&log, id](milliseconds) {
            log.emplace_back(to_string(id));
            return CallResult{};
          }};
}

TEST(SafeStop, AFailingOrThrowingStepDoesNotStopTheLaterSteps) {
  std::vector<std::string> log;
  std::vector<SafeStopStep> steps;
  steps.push_back(ok_step(Id::abort_capture, log));
  steps.push_back({Id::park_stage, milliseconds(500), [&](milliseconds) -> CallResult {
                     log.emplace_back("throws");
                     throw std::runtime_error("driver exploded");
                   }});
  steps.push_back({Id::light_off, milliseconds(500), [&](milliseconds) {
                     log.emplace_back("fails");
                     return CallResult{CallOutcome::failed, "no"};
                   }});
  steps.push_back(ok_step(Id::release_hardware, log));
  std::vector<std::string> reported;
  const auto results = run_safe_stop(
      steps, [&](const SafeStopStepResult& r) { reported.emplace_back(to_string(r.id)); });
  EXPECT_EQ(log,
            (std::vector<std::string>{"abort_capture", "throws", "fails", "release_hardware"}));
  EXPECT_EQ(reported, (std::vector<std::string>{"abort_capture", "park_stage", "light_off",
                                                "release_hardware"}));
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0].outcome, CallOutcome::ok);
  EXPECT_EQ(results[1].outcome, CallOutcome::failed);
  EXPECT_EQ(results[1].message, "driver exploded");
  EXPECT_EQ(results[2].outcome, CallOutcome::failed);
  EXPECT_EQ(results[3].outcome, CallOutcome::ok);
}

TEST(SafeStop, AStepThatHangsTimesOutAndTheNextStepStillRuns) {
  auto release = std::make_shared<std::promise<void>>();
  auto released = release->get_future().share();
  std::vector<std::string> log;
  std::vector<SafeStopStep> steps;
  steps.push_back({Id::abort_capture, milliseconds(50), [released](milliseconds t) {
                     // A driver call that never returns by itself: abandoned after its timeout.
                     return run_with_timeout([released] { released.wait(); }, t);
                   }});
  steps.push_back(ok_step(Id::stop_stage, log));
  const auto results = run_safe_stop(steps);
  EXPECT_EQ(results[0].outcome, CallOutcome::timed_out);
  EXPECT_GE(results[0].duration_ms, 50.0);
  EXPECT_EQ(results[1].outcome, CallOutcome::ok);
  EXPECT_EQ(log, (std::vector<std::string>{"stop_stage"}));
  release->set_value();  // let the abandoned helper thread finish
}

TEST(SafeStop, ReportingFailureDoesNotStopCleanup) {
  std::vector<std::string> log;
  std::vector<SafeStopStep> steps{ok_step(Id::abort_capture, log), ok_step(Id::stop_stage, log)};
  run_safe_stop(steps, [](const SafeStopStepResult&) { throw std::runtime_error("sink broke"); });
  EXPECT_EQ(log, (std::vector<std::string>{"abort_capture", "stop_stage"}));
}

TEST(SafeStop, RunningTwiceOnSafeStateIsHarmless) {
  // An idempotent sequence over a tiny state machine: light off, stage parked.
  struct State {
    bool light = true;
    bool parked = false;
    int changes = 0;
  } s;
  std::vector<SafeStopStep> steps;
  steps.push_back({Id::light_off, milliseconds(100), [&](milliseconds) {
                     if (s.light) ++s.changes;
                     s.light = false;
                     return CallResult{};
                   }});
  steps.push_back({Id::park_stage, milliseconds(100), [&](milliseconds) {
                     if (!s.parked) ++s.changes;
                     s.parked = true;
                     return CallResult{};
                   }});
  run_safe_stop(steps);
  EXPECT_EQ(s.changes, 2);
  const auto again = run_safe_stop(steps);
  EXPECT_EQ(s.changes, 2);
  for (const auto& r : again) EXPECT_EQ(r.outcome, CallOutcome::ok);
}

}  // namespace
}  // namespace ws
