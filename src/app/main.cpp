// The `waferscan` command line.
#include "app/json_views.hpp"
#include "app/progress_printer.hpp"
#include "app/signals.hpp"
#include "classify/classifier.hpp"
#include "run/run_controller.hpp"
#include "waferscan/error.hpp"
#include "waferscan/graph_spec.hpp"
#include "waferscan/recipe.hpp"
#include "waferscan/sim_machine.hpp"
#include "waferscan/store.hpp"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

namespace {

using namespace ws;

struct RunArgs {
  std::string recipe;
  std::string graph = "graphs/inspect.yaml";
  std::string db = "waferscan.db";
  std::string events;
  std::size_t in_flight = 0;
  double time_scale = -1;  ///< < 0: keep the recipe's
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
  RunController controller(sim.machine(), a.db);
  app::SignalStopper signals(controller);
  app::ProgressPrinter progress(stderr, a.quiet);

  RunRequest request;
  request.recipe = std::move(recipe);
  request.graph = graph;
  request.classifier = &classifier;
  request.event_sinks = sinks;
  request.progress = [&progress](const Progress& p) { progress(p); };
  const RunReport report = controller.run(request);
  progress.finish();
  std::cerr << summary_line(report) << std::endl;
  return exit_code_for(report);
}

int cmd_runs(const std::string& db, bool json) {
  Store store(db);
  const auto runs = store.runs();
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : runs) out.push_back(app::run_json(r));
    std::cout << out.dump(2) << std::endl;
    return 0;
  }
  std::printf("%6s  %-12s %-15s %-24s %7s %7s  %s\n", "id", "state", "stop_reason", "started_at",
              "sites", "defects", "recipe");
  for (const auto& r : runs) {
    std::printf("%6lld  %-12s %-15s %-24s %3d/%-3d %7d  %s\n", static_cast<long long>(r.id),
                std::string(to_string(r.state)).c_str(),
                r.stop_reason == StopReason::none ? "-"
                                                  : std::string(to_string(r.stop_reason)).c_str(),
                r.started_at.c_str(), r.sites.done, r.sites.total, r.defects,
                r.recipe_name.c_str());
  }
  return 0;
}

RunRecord find_run(Store& store, RunId id) {
  auto run = store.run(id);
  if (!run) throw ConfigError("", 0, "RUN_ID", "no run " + std::to_string(id) + " in the store");
  return *run;
}

int cmd_show(const std::string& db, RunId id, bool json) {
  Store store(db);
  const RunRecord run = find_run(store, id);
  const auto j = app::run_json(run);
  if (json) {
    std::cout << j.dump(2) << std::endl;
  } else {
    for (const auto& [k, v] : j.items()) std::cout << k << ": " << v.dump() << "\n";
  }
  return 0;
}

int cmd_export(const std::string& db, RunId id, const std::string& format, const std::string& out) {
  Store store(db);
  const RunRecord run = find_run(store, id);
  if (format != "json") {
    throw ConfigError("", 0, "--format", "unsupported export format '" + format + "'");
  }
  const std::string text = app::export_json(run, store.sites(id)).dump(2);
  if (out.empty() || out == "-") {
    std::cout << text << std::endl;
  } else {
    std::ofstream f(out);
    if (!f) throw ConfigError(out, 0, "--out", "cannot open for writing");
    f << text << '\n';
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  ws::app::block_stop_signals();
  spdlog::set_pattern("%^%l%$: %v");

  CLI::App app{"waferscan: wafer inspection as a oneTBB flow graph"};
  app.require_subcommand(1);
  std::string db = "waferscan.db";

  RunArgs run_args;
  auto* run = app.add_subcommand("run", "Run an inspection on the simulated machine");
  run->add_option("RECIPE", run_args.recipe, "Recipe (YAML)")->required();
  run->add_option("--graph", run_args.graph, "Graph spec (YAML)")->capture_default_str();
  run->add_option("--db", run_args.db, "Results store (SQLite)")->capture_default_str();
  run->add_option("--events", run_args.events, "Write JSON-lines events to FILE, or '-' for stdout");
  run->add_option("--in-flight", run_args.in_flight, "Override the graph's in-flight cap")
      ->check(CLI::Range(1, 1024));
  run->add_option("--time-scale", run_args.time_scale,
                  "Override the recipe's hardware time scale (0 = instant)")
      ->check(CLI::Range(0.0, 100.0));
  run->add_flag("--quiet", run_args.quiet, "No progress output");

  bool runs_json = false;
  auto* runs = app.add_subcommand("runs", "List stored runs");
  runs->add_option("--db", db, "Results store")->capture_default_str();
  runs->add_flag("--json", runs_json, "JSON output");

  ws::RunId show_id = 0;
  bool show_json = false;
  auto* show = app.add_subcommand("show", "Show one run");
  show->add_option("RUN_ID", show_id, "Run id")->required();
  show->add_option("--db", db, "Results store")->capture_default_str();
  show->add_flag("--json", show_json, "JSON output");

  ws::RunId export_id = 0;
  std::string format;
  std::string out;
  auto* exp = app.add_subcommand("export", "Export one run's results");
  exp->add_option("RUN_ID", export_id, "Run id")->required();
  exp->add_option("--format", format, "Output format")->required()->check(CLI::IsMember({"json"}));
  exp->add_option("--out", out, "Output file (default stdout)");
  exp->add_option("--db", db, "Results store")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : ws::exit_code::usage;
  }

  try {
    if (*run) return cmd_run(run_args);
    if (*runs) return cmd_runs(db, runs_json);
    if (*show) return cmd_show(db, show_id, show_json);
    if (*exp) return cmd_export(db, export_id, format, out);
  } catch (const ws::ConfigError& e) {
    std::cerr << "error: " << e.what() << std::endl;
    return ws::exit_code::usage;
  } catch (const ws::RunRejected& e) {
    std::cerr << "error: " << e.what() << std::endl;
    return ws::exit_code::failed;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << std::endl;
    return ws::exit_code::failed;
  }
  return ws::exit_code::usage;
}
