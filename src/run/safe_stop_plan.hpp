// The safe-stop plan of a run: which steps, in which order, on which deadlines, and what each
// journals. run_safe_stop() (safe_stop.hpp) carries it out.
#pragma once

#include "hardware/hardware_agent.hpp"
#include "pipeline/frame_source.hpp"
#include "pipeline/site_tracker.hpp"
#include "publish/journal.hpp"
#include "run/safe_stop.hpp"
#include "waferscan/recipe.hpp"

#include <vector>

namespace ws {

/// abort_capture and stop_stage call the drivers' abort paths directly (they must work while the
/// agent is blocked in a driver); park_stage, light_off and release_hardware go through the agent
/// after whatever it is finishing; flush_publisher flushes the event sinks; persist_sites stores
/// the sites that never reached the publisher (incomplete if acquired, else left not_started).
/// Deadlines: DeviceTimeouts::from(recipe). Without hardware (a recorded set) the device steps
/// report `skipped`. The steps hold references to `agent`, `journal`, `tracker` and `recipe`.
std::vector<SafeStopStep> safe_stop_plan(HardwareAgent& agent, Journal& journal,
                                         pipeline::SiteTracker& tracker, const Recipe& recipe);

/// Calls `probe("safe_stop.<step>", step number)` before each step (tests: a stop may land during
/// the safe-stop sequence itself).
void probe_steps(std::vector<SafeStopStep>& steps, const pipeline::NodeProbe& probe);

/// Journals a step's result as a `safe_stop_step` event (and warns when it did not succeed).
void journal_step(Journal& journal, const SafeStopStepResult& r);

}  // namespace ws
