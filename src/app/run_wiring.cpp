#include "app/run_wiring.hpp"

#include "app/progress_printer.hpp"
#include "app/signals.hpp"
#include "base/output_file.hpp"
#include "waferscan/error.hpp"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

namespace ws::app {

namespace {

// What a run's outputs must never be written over: its store and every file it reads.
ProtectedFiles run_inputs(const RunRequest& request, const RunOutput& out) {
  ProtectedFiles inputs;
  inputs.add_store(out.db);
  inputs.add(request.recipe.path, "the recipe");
  inputs.add(request.recipe.model, "the model");
  inputs.add(request.model_path, "the model");
  inputs.add(request.graph_path, "the graph spec");
  if (request.set) protect_set(inputs, *request.set);
  return inputs;
}

// The `--events` sink, opened before the run exists: "-" is stdout; a FIFO or a device (a live
// reader) is written as it is; a regular file is written atomically, renamed into place when the
// run ends (an existing one only with --force), so a full disk never leaves half a file.
class EventOutput {
 public:
  EventOutput(const RunOutput& out, const ProtectedFiles& inputs, RunRequest& request)
      : path_(out.events) {
    if (path_ == "-") {
      request.event_sinks.push_back(&std::cout);
      return;
    }
    if (path_.empty()) return;
    inputs.check(path_, "--events");
    if (is_stream_target(path_)) {  // a FIFO, /dev/stdout: written as it is
      direct_.open(path_, std::ios::out);
      if (!direct_) throw ConfigError(path_, 0, "--events", "cannot open for writing");
      request.event_sinks.push_back(&direct_);
      return;
    }
    file_.emplace(path_, "--events", out.force ? Overwrite::replace : Overwrite::refuse);
    request.event_sinks.push_back(&file_->stream());
  }

  // After the run: puts the file in place. False (having said why) when it could not be written;
  // every event is in the store all the same.
  bool finish() {
    if (!file_) return true;
    try {
      file_->commit();
      return true;
    } catch (const OutputError& e) {
      std::cerr << "error: " << e.what() << " (every event is in the store: waferscan show)"
                << std::endl;
      return false;
    }
  }

 private:
  std::string path_;
  std::ofstream direct_;
  std::optional<AtomicFile> file_;
};

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

void protect_set(ProtectedFiles& files, const Manifest& set) {
  files.add(set.path, "the recorded set's manifest");
  files.add(set.golden, "the recorded set's golden reference");
  files.add(set.flat, "the recorded set's flat field");
  for (const auto& f : set.frames) {
    files.add(f.image, "a frame of the recorded set");
    files.add(f.reference, "a reference of the recorded set");
  }
}

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
  EventOutput events(out, run_inputs(request, out), request);
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
  const int code = exit_code_for(report);
  // A run that did its work but could not write its events file fails (the run's own code wins).
  return (!events.finish() && code == exit_code::completed) ? exit_code::failed : code;
}

}  // namespace ws::app
