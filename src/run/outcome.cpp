#include "run/outcome.hpp"

#include "waferscan/run.hpp"

#include "waferscan/error.hpp"

namespace ws {

namespace {
RunState terminal_state_for(StopReason reason, bool failed) {
  if (failed) return RunState::failed;
  switch (reason) {
    case StopReason::none:
      return RunState::completed;
    case StopReason::operator_request:
    case StopReason::shutdown:
    case StopReason::emergency_stop:
      return RunState::canceled;
    case StopReason::timeout:
    case StopReason::fault:
      return RunState::failed;
  }
  return RunState::failed;
}
}  // namespace

RunOutcome settle_outcome(const std::optional<StopInfo>& stop, const std::string& failure,
                          const SiteCounts& sites, const MachineSafety& safety) {
  StopReason reason = stop ? stop->reason : StopReason::none;
  if (failure.empty() && sites.done == sites.total) reason = StopReason::none;
  const bool failed = !failure.empty();
  RunOutcome out;
  out.state = terminal_state_for(reason, failed);
  out.reason = failed && reason == StopReason::none ? StopReason::fault : reason;
  // A stop for a fault (the health monitor) says why, as a failure would.
  out.message = failure.empty() && stop && reason == StopReason::fault ? stop->origin : failure;
  const auto prefix = [&out](const std::string& what) {
    out.message = what + (out.message.empty() ? "" : "; " + out.message);
  };
  if (!safety.unsafe.empty()) {
    out.state = RunState::failed;
    if (out.reason == StopReason::none) out.reason = StopReason::fault;
    out.machine_safe = false;
    prefix("the machine is not safe: " + safety.unsafe);
  } else if (out.state == RunState::completed && !safety.faulted.empty()) {
    out.state = RunState::failed;
    out.reason = StopReason::timeout;
    prefix("Faulted during the run: " + safety.faulted);
  }
  return out;
}

int exit_code_for(RunState state, StopReason reason) noexcept {
  switch (state) {
    case RunState::completed:
      return exit_code::completed;
    case RunState::canceled:
      switch (reason) {
        case StopReason::shutdown:
          return exit_code::canceled_shutdown;
        case StopReason::emergency_stop:
          return exit_code::emergency_stop;
        default:
          return exit_code::canceled_operator;
      }
    default:
      if (reason == StopReason::timeout) return exit_code::timed_out;
      return exit_code::failed;
  }
}

}  // namespace ws
