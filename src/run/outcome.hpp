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
};

/// A failure (an exception out of a node body or the graph) fails the run, reason fault unless a
/// stop gave one; a stop that came after every site was done changed nothing (Completed, no
/// reason); an operator stop, a shutdown or an emergency stop cancel it; a timeout or a fault
/// fails it. The message is the failure, or the origin of a fault stop (the health monitor).
RunOutcome settle_outcome(const std::optional<StopInfo>& stop, const std::string& failure,
                          const SiteCounts& sites);

// exit_code_for(state, reason), the other half of the mapping, is public: waferscan/run.hpp.

}  // namespace ws
