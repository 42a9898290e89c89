// `waferscan run`: an inspection on the simulated machine, stoppable with SIGINT/SIGTERM.
#include "app/commands.hpp"
#include "app/run_wiring.hpp"
#include "waferscan/classifier.hpp"
#include "waferscan/error.hpp"
#include "waferscan/graph_spec.hpp"
#include "waferscan/recipe.hpp"
#include "waferscan/run.hpp"
#include "waferscan/sim/fault_spec.hpp"
#include "waferscan/sim/sim_machine.hpp"

#include <memory>

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
  bool force = false;  // replace an events file already there
};

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

  SimMachine sim(recipe);
  for (const auto& f : injected) sim.add_fault(f);

  RunRequest request;
  request.recipe = std::move(recipe);
  request.graph = graph;
  request.classifier = &classifier;
  request.record_dir = a.record;
  request.graph_path = std::filesystem::absolute(a.graph).string();  // for `waferscan resume`
  request.model_path = std::filesystem::absolute(request.recipe.model).string();
  return execute_run(sim.machine(), &sim, std::move(request), {a.db, a.events, a.quiet, a.force});
}

}  // namespace

Command add_run_command(CLI::App& app) {
  auto a = std::make_shared<RunArgs>();
  auto* run = app.add_subcommand("run", "Run an inspection on the simulated machine");
  run->add_option("RECIPE", a->recipe, "Recipe (YAML)")->required();
  run->add_option("--graph", a->graph, "Graph spec (YAML)")->capture_default_str();
  add_db_option(run, a->db);
  run->add_option("--events", a->events, "Write JSON-lines events to FILE, or '-' for stdout");
  run->add_flag("--force", a->force, "Replace an events file already at --events");
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
  return {run, [a] { return cmd_run(*a); }, true};
}

}  // namespace ws::app
