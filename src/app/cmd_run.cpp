// `waferscan run`: an inspection on the simulated machine, stoppable with SIGINT/SIGTERM.
#include "app/commands.hpp"
#include "app/progress_printer.hpp"
#include "app/signals.hpp"
#include "classify/classifier.hpp"
#include "run/run_controller.hpp"
#include "waferscan/error.hpp"
#include "waferscan/fault_spec.hpp"
#include "waferscan/graph_spec.hpp"
#include "waferscan/recipe.hpp"
#include "waferscan/sim_machine.hpp"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

namespace ws::app {

namespace {

struct RunArgs {
  std::string recipe;
  std::string graph = "graphs/inspect.yaml";
  std::string db = "waferscan.db";
  std::string events;
  std::size_t in_flight = 0;
  double time_scale = -1;           ///< < 0: keep the recipe's
  std::string record;               ///< --record DIR: also write a recorded set
  std::vector<std::string> inject;  ///< fault-injection specs (TARGET=BEHAVIOUR@WHEN)
  bool quiet = false;
};

std::string summary_line(const RunReport& r) {
  std::ostringstream s;
  s << "run " << r.id << " " << to_string(r.state);
  if (r.stop_reason != StopReason::none) s << " (" << to_string(r.stop_reason) << ")";
  s << ": " << r.sites.done << "/" << r.sites.total << " sites done";
  s << " [incomplete " << r.sites.incomplete << ", error " << r.sites.error << ", not started "
    << r.sites.not_started << "], " << r.defects << " defects";
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

int cmd_run(const RunArgs& a) {
  // Everything is validated before any hardware exists, let alone moves.
  Recipe recipe = load_recipe(a.recipe);
  GraphSpec graph = load_graph_spec(a.graph);
  if (a.in_flight > 0) graph.in_flight = a.in_flight;
  if (a.time_scale >= 0) recipe.time_scale = a.time_scale;
  if (recipe.model.empty()) {
    throw ConfigError(recipe.path.string(), 0, "model", "the recipe names no classifier model");
  }
  const auto classifier = classify::Classifier::load(recipe.model);
  std::vector<FaultSpec> injected;
  for (const auto& spec : a.inject) injected.push_back(parse_fault_spec(spec));

  std::ofstream events_file;
  std::vector<std::ostream*> sinks;
  if (a.events == "-") {
    sinks.push_back(&std::cout);
  } else if (!a.events.empty()) {
    events_file.open(a.events, std::ios::out | std::ios::trunc);
    if (!events_file) throw ConfigError(a.events, 0, "--events", "cannot open for writing");
    sinks.push_back(&events_file);
  }

  SimMachine sim(recipe);
  for (auto& f : injected) sim.add_fault(std::move(f));
  RunController controller(sim.machine(), a.db);
  // The machine's interlock aborts the run at once (emergency stop).
  sim.on_interlock([&controller](const std::string& why) { controller.emergency_stop(why); });
  struct Unhook {     // no interlock may reach the controller once it is gone, and no simulated
    SimMachine& sim;  // driver call may stay blocked by an injected hang at exit
    ~Unhook() {
      sim.on_interlock({});
      sim.release_hangs();
    }
  } unhook{sim};
  app::SignalStopper signals(controller);
  app::ProgressPrinter progress(stderr, a.quiet);

  RunRequest request;
  request.recipe = std::move(recipe);
  request.graph = graph;
  request.classifier = &classifier;
  request.store_faults = sim.faults_for("store.write");
  request.event_sinks = sinks;
  request.record_dir = a.record;
  request.graph_path = std::filesystem::absolute(a.graph).string();  // for `waferscan resume`
  request.model_path = std::filesystem::absolute(request.recipe.model).string();
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

}  // namespace

Command add_run_command(CLI::App& app) {
  auto a = std::make_shared<RunArgs>();
  auto* run = app.add_subcommand("run", "Run an inspection on the simulated machine");
  run->add_option("RECIPE", a->recipe, "Recipe (YAML)")->required();
  run->add_option("--graph", a->graph, "Graph spec (YAML)")->capture_default_str();
  add_db_option(run, a->db);
  run->add_option("--events", a->events, "Write JSON-lines events to FILE, or '-' for stdout");
  run->add_option("--in-flight", a->in_flight, "Override the graph's in-flight cap")
      ->check(CLI::Range(1, 1024));
  run->add_option("--time-scale", a->time_scale,
                  "Override the recipe's hardware time scale (0 = instant)")
      ->check(CLI::Range(0.0, 100.0));
  run->add_option("--inject", a->inject,
                  "Inject a fault into the simulated machine: TARGET=BEHAVIOUR@WHEN (repeatable), "
                  "e.g. camera.capture=hang@site:3");
  run->add_option("--record", a->record,
                  "Also write a recorded set (frames, golden, manifest.yaml) into DIR");
  run->add_flag("--quiet", a->quiet, "No progress output");
  return {run, [a] { return cmd_run(*a); }};
}

}  // namespace ws::app
