// How a run ends: its terminal state, reason and message from what stopped it and how its sites
// ended, and the command line's exit code for that outcome. The one mapping every command uses.
#pragma once

#include "waferscan/cancel.hpp"
#include "waferscan/run_state.hpp"
#include "waferscan/store.hpp"

#include <optional>
#include <string>

namespace ws {

struct RunOutcome {
  RunState state = RunState::completed;
  StopReason reason = StopReason::none;
  std::string message;
  bool machine_safe = true;  ///< false: the stage did not park or the light did not go off
};

/// What the safe stop left behind: the park and light-off steps that did not succeed ("light_off
/// failed (...)"), and the devices Faulted at the end of the run ("camera: REASON"), each joined
/// with "; ". Empty strings: all well.
struct MachineSafety {
  std::string unsafe;
  std::string faulted;
};

/// A failure (an exception out of a node body or the graph) fails the run, reason fault unless a
/// stop gave one; a stop that came after every site was done changed nothing (Completed, no
/// reason); an operator stop, a shutdown or an emergency stop cancel it; a timeout or a fault
/// fails it. The message is the failure, or the origin of a fault stop (the health monitor).
/// A machine left unsafe fails the run whatever else happened (reason fault unless it had one,
/// machine_safe false, the message says what was not made safe); a device Faulted during a run
/// that would otherwise be Completed fails it with reason timeout (the watchdog's fault can reach
/// the run after its last site).
RunOutcome settle_outcome(const std::optional<StopInfo>& stop, const std::string& failure,
                          const SiteCounts& sites, const MachineSafety& safety = {});

// exit_code_for(state, reason), the other half of the mapping, is public: waferscan/run.hpp.

}  // namespace ws
