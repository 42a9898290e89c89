// `waferscan reprocess SET` (the inspection graph on a recorded set, no hardware) and
// `waferscan resume RUN_ID` (continue a canceled or interrupted run from its sites not done).
#include "app/commands.hpp"
#include "app/run_wiring.hpp"
#include "base/content_hash.hpp"
#include "store/run_owner.hpp"
#include "waferscan/classifier.hpp"
#include "waferscan/error.hpp"
#include "waferscan/graph_spec.hpp"
#include "waferscan/recipe.hpp"
#include "waferscan/recorded_set.hpp"
#include "waferscan/run.hpp"
#include "waferscan/sim/sim_machine.hpp"
#include "waferscan/store.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

namespace ws::app {

namespace {

constexpr const char* kDefaultModel = "data/models/sim.json";

struct ReprocessArgs {
  std::string set;
  std::string recipe;
  std::string graph = "graphs/inspect.yaml";
  std::string model;
  std::string db = "waferscan.db";
  std::string sites;
  std::string events;
  bool quiet = false;
  bool force = false;  // replace an events file already there
};

struct ResumeArgs {
  RunId id = 0;
  std::string db = "waferscan.db";
  std::string events;
  bool quiet = false;
  bool force = false;  // replace an events file already there
};

/// "0-9,15" -> {0..9, 15}. Throws ConfigError (key --sites) on anything else.
std::set<int> parse_site_ranges(const std::string& text) {
  std::set<int> out;
  std::stringstream in(text);
  std::string part;
  auto fail = [&](const std::string& why) -> void {
    std::string what = text;  // appended: GCC 12 -Wrestrict on "'" + s
    what += ": " + why;
    throw ConfigError("--sites", 0, "--sites", what);
  };
  auto number = [&](const std::string& s) {
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 7) {
      fail("expected site indices like 0-9,15, got '" + s + "'");
    }
    return std::stoi(s);
  };
  while (std::getline(in, part, ',')) {
    const auto dash = part.find('-');
    if (dash == std::string::npos) {
      out.insert(number(part));
      continue;
    }
    const int lo = number(part.substr(0, dash));
    const int hi = number(part.substr(dash + 1));
    if (hi < lo) fail("range " + part + " is empty");
    for (int k = lo; k <= hi; ++k) out.insert(k);
  }
  if (out.empty()) fail("no sites");
  return out;
}

/// The recipe at `path` for recipe_for_set; none when `path` is empty.
std::optional<Recipe> recipe_at(const std::string& path) {
  if (path.empty()) return std::nullopt;
  return load_recipe(path);
}

/// Decodes the set's golden reference and flat-field image now, so a bad one is a configuration
/// error (exit 2) before anything runs, not a failure of every site.
void load_set_images(const Manifest& m, RunRequest& request) {
  SetImage golden = read_golden(m);
  if (!golden.ok()) throw ConfigError(m.path.string(), 0, "golden", golden.error);
  SetImage flat = read_flat(m);
  if (!flat.ok()) throw ConfigError(m.path.string(), 0, "flat", flat.error);
  request.golden = std::move(golden.image);
  request.flat = std::move(flat.image);
}

int cmd_reprocess(const ReprocessArgs& a) {
  // Everything is validated before the run exists.
  auto set = std::make_shared<Manifest>(load_manifest(std::filesystem::absolute(a.set)));
  Recipe recipe = recipe_for_set(*set, recipe_at(a.recipe));
  if (!a.sites.empty()) {
    const std::set<int> wanted = parse_site_ranges(a.sites);
    std::vector<SiteSpec> chosen;
    for (const SiteSpec& s : recipe.sites) {
      if (wanted.count(s.index) != 0) chosen.push_back(s);
    }
    for (int k : wanted) {
      const bool found = std::any_of(recipe.sites.begin(), recipe.sites.end(),
                                     [k](const SiteSpec& s) { return s.index == k; });
      if (!found) {
        throw ConfigError("--sites", 0, "--sites",
                          "site " + std::to_string(k) + " has no frame in " + set->path.string());
      }
    }
    recipe.sites = std::move(chosen);
  }
  const GraphSpec graph = load_graph_spec(a.graph);
  std::filesystem::path model = a.model;
  if (model.empty()) model = recipe.model.empty() ? kDefaultModel : recipe.model;
  const auto classifier = classify::Classifier::load(model);

  RunRequest request;
  load_set_images(*set, request);
  request.recipe = std::move(recipe);
  request.graph = graph;
  request.classifier = &classifier;
  request.set = set;
  request.graph_path = std::filesystem::absolute(a.graph).string();
  request.model_path = std::filesystem::absolute(model).string();
  return execute_run(Machine{}, nullptr, std::move(request), {a.db, a.events, a.quiet, a.force});
}

/// `resume` continues a run only with the files it was made from: a recipe, recorded set, graph
/// spec or model whose content hash differs from the one stored with the run is refused.
void require_unchanged(const std::filesystem::path& file, const char* what, const std::string& now,
                       const std::string& stored, RunId id) {
  if (stored.empty() || now == stored) return;
  throw ConfigError(file.string(), 0, what,
                    std::string("the ") + what + " has changed since run " + std::to_string(id) +
                        " was made (content " + now + ", then " + stored +
                        "); resume continues a run only with the files it was made from: "
                        "restore it, or start a new run");
}

void require_inputs_unchanged(const RunRequest& request, const classify::Classifier& classifier,
                              const RunInputs& then, RunId id) {
  const Recipe& r = request.recipe;
  if (!r.source_text.empty()) {
    require_unchanged(r.path, "recipe", content_hash(r.source_text), then.recipe_hash, id);
  }
  if (request.set) {
    require_unchanged(request.set->path, "recorded set", request.set->source_hash, then.set_hash,
                      id);
  }
  require_unchanged(request.graph.path, "graph spec", request.graph.source_hash, then.graph_hash,
                    id);
  require_unchanged(request.model_path, "model", classifier.content_hash(), then.model_hash, id);
}

/// What `resume` reads of the run from the store: the run, the inputs it recorded, and the
/// indices of its sites that are not done.
struct ResumableRun {
  RunRecord run;
  std::optional<RunInputs> inputs;
  std::set<int> not_done;
};

void require_resumable(const ResumeArgs& a, const RunRecord& run) {
  if (run.state == RunState::starting || run.state == RunState::running ||
      run.state == RunState::stopping) {  // its process is alive: recovery left it alone
    throw RunBusy(a.db + ": run " + std::to_string(a.id) + " is " +
                  std::string(to_string(run.state)) + " in process " +
                  std::to_string(run.owner_pid) + ": a run is resumed by one process at a time");
  }
  if (run.state != RunState::canceled && run.state != RunState::interrupted) {
    throw ConfigError(a.db, 0, "RUN_ID",
                      "run " + std::to_string(a.id) + " is " + std::string(to_string(run.state)) +
                          "; only a Canceled or Interrupted run can be resumed");
  }
  if (run.graph_path.empty() || run.model_path.empty()) {
    throw ConfigError(a.db, 0, "RUN_ID",
                      "run " + std::to_string(a.id) +
                          " does not record its graph and model (made by an older version)");
  }
}

ResumableRun resumable_run(const ResumeArgs& a) {
  Store store(a.db);
  recover_interrupted_runs(store);  // a run whose process died is resumable as Interrupted
  std::optional<RunRecord> run = store.run(a.id);
  if (!run) throw ConfigError(a.db, 0, "RUN_ID", "no run " + std::to_string(a.id));
  require_resumable(a, *run);
  ResumableRun r{*run, store.run_inputs(a.id), {}};
  for (const SiteResult& s : store.sites(a.id)) {
    if (s.status != SiteStatus::done) r.not_done.insert(s.site.index);
  }
  return r;
}

/// The recipe the run was made from (its recorded set's, for a reprocessed run), cut to the sites
/// that are not done; the set's images go into `request`.
Recipe resume_recipe(const ResumableRun& r, RunId id, RunRequest& request) {
  Recipe recipe;
  if (!r.run.set_path.empty()) {
    auto set = std::make_shared<Manifest>(load_manifest(r.run.set_path));
    const bool own_recipe = r.run.recipe_path != set->path.string();
    recipe = recipe_for_set(*set, recipe_at(own_recipe ? r.run.recipe_path : std::string()));
    load_set_images(*set, request);
    request.set = set;
  } else {
    recipe = load_recipe(r.run.recipe_path);
  }
  std::vector<SiteSpec> again;
  for (const SiteSpec& s : recipe.sites) {
    if (r.not_done.count(s.index) != 0) again.push_back(s);
  }
  if (again.size() != r.not_done.size()) {
    throw ConfigError(
        r.run.set_path.empty() ? r.run.recipe_path : r.run.set_path, 0, "sites",
        "no longer has every site of run " + std::to_string(id) + " that is not done");
  }
  recipe.sites = std::move(again);
  return recipe;
}

int cmd_resume(const ResumeArgs& a) {
  const ResumableRun stored = resumable_run(a);
  const RunRecord* run = &stored.run;
  const std::optional<RunInputs>& inputs = stored.inputs;
  RunRequest request;
  Recipe recipe = resume_recipe(stored, a.id, request);
  std::unique_ptr<SimMachine> sim;
  const GraphSpec graph = load_graph_spec(run->graph_path);
  const auto classifier = classify::Classifier::load(run->model_path);

  Machine machine;
  if (!request.set) {
    sim = std::make_unique<SimMachine>(recipe);
    machine = sim->machine();
  }
  request.recipe = std::move(recipe);
  request.graph = graph;
  request.classifier = &classifier;
  request.resume = a.id;
  request.graph_path = run->graph_path;
  request.model_path = run->model_path;
  if (inputs) require_inputs_unchanged(request, classifier, *inputs, a.id);
  // A resumed live run is wired as `run` wires it: its interlock is an emergency stop.
  return execute_run(std::move(machine), sim.get(), std::move(request),
                     {a.db, a.events, a.quiet, a.force});
}

}  // namespace

Command add_reprocess_command(CLI::App& app) {
  auto a = std::make_shared<ReprocessArgs>();
  auto* sub = app.add_subcommand("reprocess", "Run the inspection graph on a recorded image set");
  sub->add_option("SET", a->set, "Recorded set: a folder with manifest.yaml, or the manifest")
      ->required();
  sub->add_option("--recipe", a->recipe,
                  "Recipe for detection settings and model (default: built from the manifest)");
  sub->add_option("--graph", a->graph, "Graph spec (YAML)")->capture_default_str();
  sub->add_option(
      "--model", a->model,
      std::string("Classifier model (default: the recipe's, else ") + kDefaultModel + ")");
  add_db_option(sub, a->db);
  sub->add_option("--sites", a->sites, "Only these site indices, e.g. 0-9,15");
  sub->add_option("--events", a->events, "Write JSON-lines events to FILE, or '-' for stdout");
  sub->add_flag("--force", a->force, "Replace an events file already at --events");
  sub->add_flag("--quiet", a->quiet, "No progress output");
  return {sub, [a] { return cmd_reprocess(*a); }, true};
}

Command add_resume_command(CLI::App& app) {
  auto a = std::make_shared<ResumeArgs>();
  auto* sub = app.add_subcommand(
      "resume", "Continue a canceled or interrupted run from its sites that are not done");
  sub->add_option("RUN_ID", a->id, "Run id")->required();
  add_db_option(sub, a->db);
  sub->add_option("--events", a->events, "Write JSON-lines events to FILE, or '-' for stdout");
  sub->add_flag("--force", a->force, "Replace an events file already at --events");
  sub->add_flag("--quiet", a->quiet, "No progress output");
  return {sub, [a] { return cmd_resume(*a); }, true};
}

}  // namespace ws::app
