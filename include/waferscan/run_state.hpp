// The run state machine: Idle -> Starting -> Running -> Stopping -> Completed | Canceled | Failed.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ws {

enum class RunState : std::uint8_t {
  idle,
  starting,
  running,
  stopping,
  completed,
  canceled,
  failed,
  interrupted,  ///< found in the store with its process gone (a crash); set only on recovery
};

/// "Idle", "Starting", ..., as in the store and JSON.
std::string_view to_string(RunState s) noexcept;
std::optional<RunState> run_state_from_string(std::string_view name) noexcept;

/// True if the state machine allows from -> to. Legal: idle->starting, starting->running,
/// starting->stopping, running->stopping, stopping->completed/canceled/failed, and any state
/// between starting and stopping -> interrupted (crash recovery), and canceled/interrupted ->
/// starting (`waferscan resume`: the same run continues from its sites not done). Every run passes
/// through stopping: the safe-stop sequence runs on completion as well as on cancellation.
bool is_legal_transition(RunState from, RunState to) noexcept;
bool is_terminal(RunState s) noexcept;

}  // namespace ws
