// The one run wiring of the command line, shared by `run`, `reprocess` and `resume`: event sinks,
// signals, progress, the summary line, the simulator's interlock, hang release and store faults,
// and the mapping of the run's end (or its refusal) to the exit code.
#pragma once

#include "base/output_file.hpp"
#include "hardware/machine_lock.hpp"
#include "waferscan/run.hpp"
#include "waferscan/sim/sim_machine.hpp"

#include <optional>
#include <string>

namespace ws::app {

/// How a command wants its run shown and stored.
struct RunOutput {
  std::string db = "waferscan.db";
  std::string events;  ///< JSON-lines events to this file, "-" for stdout, empty for none
  bool quiet = false;  ///< no progress output
  bool force = false;  ///< an events file already at `events` is replaced (else refused, exit 2)
};

/// Adds every file of `set` (manifest, golden, flat, frames, references) to `files`.
void protect_set(ProtectedFiles& files, const Manifest& set);

/// One line that says how the run ended: id, state, reason, sites by status, defects by class,
/// duration, the stop latency of a stopped run and its message.
std::string summary_line(const RunReport& r);

/// One machine, one owner: takes the (simulated) machine's lock into `lock` for `command`. When
/// another process holds it, prints "error: COMMAND refused: ..." and returns false: the caller
/// exits with exit_code::busy, having touched nothing.
bool take_machine(std::optional<MachineLock>& lock, const std::string& command);

/// Runs `request` on `machine` as the command line does and returns its exit code: a refused
/// run (another in progress, a Faulted device) prints why and exits 5; otherwise the summary line
/// goes to stderr and the run's outcome gives the code (exit_code_for). With a simulated machine
/// (`sim`, may be null for a recorded set) its interlock is an emergency stop of the run, its
/// `store.write` faults decorate the site writer, and no simulated call stays blocked at exit.
/// Throws ConfigError (exit 2) before the run exists when the events file cannot be opened, names
/// the store or a file the run reads, or exists without `out.force`. A run that cannot write its
/// events file (a full disk) still runs to its end; the file is left as it was and the command
/// exits 1 unless the run's own outcome gave another code.
int execute_run(Machine machine, SimMachine* sim, RunRequest request, const RunOutput& out);

}  // namespace ws::app
