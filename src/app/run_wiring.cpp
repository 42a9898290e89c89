#include "app/run_wiring.hpp"

#include "app/progress_printer.hpp"
#include "app/signals.hpp"
#include "waferscan/error.hpp"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

namespace ws::app {

namespace {

// Opens the `--events` sink: "-" is stdout, a path a file opened now (before the run exists).
void open_event_sink(const std::string& events, std::ofstream& file, RunRequest& request) {
  if (events == "-") {
    request.event_sinks.push_back(&std::cout);
  } else if (!events.empty()) {
    file.open(events, std::ios::out | std::ios::trunc);
    if (!file) throw ConfigError(events, 0, "--events", "cannot open for writing");
    request.event_sinks.push_back(&file);
  }
}

RunHooks sim_hooks(SimMachine* sim) {
  RunHooks hooks;
  if (sim != nullptr) {
    hooks.decorate_site_writer = [sim](SiteWriter inner) {
      return sim->decorate_site_writer(std::move(inner));
    };
  }
  return hooks;
}

// While alive, the machine's interlock aborts the run at once (emergency stop); at the end no
// interlock may reach the controller once it is gone, and no simulated driver call may stay
// blocked by an injected hang.
class SimWiring {
 public:
  SimWiring(SimMachine* sim, RunController& controller) : sim_(sim) {
    if (sim_ == nullptr) return;
    sim_->on_interlock([&controller](const std::string& why) { controller.emergency_stop(why); });
  }
  ~SimWiring() {
    if (sim_ == nullptr) return;
    sim_->on_interlock({});
    sim_->release_hangs();
  }
  SimWiring(const SimWiring&) = delete;
  SimWiring& operator=(const SimWiring&) = delete;

 private:
  SimMachine* sim_;
};

}  // namespace

std::string summary_line(const RunReport& r) {
  std::ostringstream s;
  s << "run " << r.id << " " << to_string(r.state);
  if (r.stop_reason != StopReason::none) s << " (" << to_string(r.stop_reason) << ")";
  s << ": " << r.sites.done << "/" << r.sites.total << " sites done";
  s << " [incomplete " << r.sites.incomplete << ", error " << r.sites.error << ", unreliable "
    << r.sites.unreliable << ", not started " << r.sites.not_started << "], " << r.defects
    << " defects";
  if (!r.defects_by_class.empty()) {
    s << " (";
    bool first = true;
    for (const auto& [name, n] : r.defects_by_class) {
      s << (first ? "" : ", ") << name << " " << n;
      first = false;
    }
    s << ")";
  }
  char dur[32];
  std::snprintf(dur, sizeof dur, "%.1f s", r.duration_s);
  s << ", " << dur;
  if (r.graph_quiet_ms) {
    char lat[96];
    std::snprintf(lat, sizeof lat, ", stop latency: graph quiet %.0f ms, hardware safe %.0f ms",
                  *r.graph_quiet_ms, r.hardware_safe_ms.value_or(0.0));
    s << lat;
  }
  if (!r.message.empty()) s << ": " << r.message;
  return s.str();
}

bool take_machine(std::optional<MachineLock>& lock, const std::string& command) {
  try {
    lock.emplace(machine_lock_path("sim"), command);
    return true;
  } catch (const MachineBusy& e) {
    std::cerr << "error: " << command << " refused: " << e.what() << std::endl;
    return false;
  }
}

int execute_run(Machine machine, SimMachine* sim, RunRequest request, const RunOutput& out) {
  // Held from before the store is touched until the process is done.
  std::optional<MachineLock> machine_lock;
  const bool drives_machine = machine.stage || machine.light || machine.camera;
  if (drives_machine && !take_machine(machine_lock, "run")) return exit_code::busy;
  std::ofstream events_file;
  open_event_sink(out.events, events_file, request);
  RunController controller(std::move(machine), out.db, {}, sim_hooks(sim));
  SimWiring sim_wiring(sim, controller);
  SignalRouter::RunScope signals(controller);  // a signal from here on stops the run
  request.on_started = [&signals, started = std::move(request.on_started)](RunId id) {
    if (started) started(id);
    signals.run_started();
  };
  ProgressPrinter progress(stderr, out.quiet);
  request.progress = [&progress](const Progress& p) { progress(p); };
  RunReport report;
  try {
    report = controller.run(request);
  } catch (const RunRejected& e) {
    std::cerr << "error: run refused: " << e.what() << std::endl;
    return exit_code::fault;
  }
  progress.finish();
  std::cerr << summary_line(report) << std::endl;
  return exit_code_for(report);
}

}  // namespace ws::app
