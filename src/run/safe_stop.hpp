// The safe-stop sequence: ordered steps, each with its own timeout, run to the end whatever fails.
#pragma once

#include "hardware/hardware_agent.hpp"
#include "waferscan/safe_stop.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ws {

/// One step. `action` is given the step's timeout and must return within about that long; it
/// reports failure by returning failed/timed_out or by throwing.
struct SafeStopStep {
  SafeStopStepId id = SafeStopStepId::abort_capture;
  std::chrono::milliseconds timeout{1000};
  std::function<CallResult(std::chrono::milliseconds timeout)> action;
};

/// Runs every step in order. A step that throws, fails or times out is recorded and the sequence
/// continues: cleanup is never skipped. `on_step` (optional) is called after each step.
/// The steps must be idempotent: running the sequence twice, or on hardware already safe, changes
/// nothing. It never looks at the run's stop token: it runs on its own per-step deadlines.
std::vector<SafeStopStepResult> run_safe_stop(
    const std::vector<SafeStopStep>& steps,
    const std::function<void(const SafeStopStepResult&)>& on_step = {});

/// Runs `fn` on a helper thread and waits at most `timeout`. On timeout the helper is abandoned
/// (never killed): it finishes on its own, touching only what `fn` owns.
CallResult run_with_timeout(std::function<void()> fn, std::chrono::milliseconds timeout);

}  // namespace ws
