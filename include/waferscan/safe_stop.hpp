// The safe-stop sequence as a run reports it: which steps, and how each ended. The sequence runs
// after every run, also after completion or failure (src/run/safe_stop_plan.cpp).
#pragma once

#include "waferscan/hardware.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace ws {

/// The steps of the sequence, in the order a run takes them.
enum class SafeStopStepId : std::uint8_t {
  abort_capture,     ///< the camera's abort path, called directly
  stop_stage,        ///< the stage's stop path, called directly
  park_stage,        ///< through the agent, after whatever it is finishing
  light_off,         ///< through the agent
  flush_publisher,   ///< the event sinks
  persist_sites,     ///< sites that never reached the publisher: incomplete or not_started
  release_hardware,  ///< the camera, through the agent
};
std::string_view to_string(SafeStopStepId id) noexcept;
/// Whether the step acts on a device (skipped when a run has no hardware).
bool touches_hardware(SafeStopStepId id) noexcept;

/// How one step ended, and how long it took.
struct SafeStopStepResult {
  SafeStopStepId id = SafeStopStepId::abort_capture;
  CallOutcome outcome = CallOutcome::ok;
  std::string message;
  double duration_ms = 0;
};

}  // namespace ws
