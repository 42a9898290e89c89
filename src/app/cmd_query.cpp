// `waferscan runs`, `show` and `export`: reading stored runs.
#include "app/commands.hpp"
#include "app/json_views.hpp"
#include "store/run_owner.hpp"
#include "waferscan/error.hpp"
#include "waferscan/export.hpp"
#include "waferscan/store.hpp"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

namespace ws::app {

namespace {

int cmd_runs(const std::string& db, bool json) {
  Store store(db);
  recover_interrupted_runs(store);  // a run whose process died shows as Interrupted
  const auto runs = store.runs();
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : runs) out.push_back(app::run_json(r));
    std::cout << out.dump(2) << std::endl;
    return 0;
  }
  std::printf("%6s  %-12s %-15s %-24s %7s %10s %7s  %s\n", "id", "state", "stop_reason",
              "started_at", "sites", "unreliable", "defects", "recipe");
  for (const auto& r : runs) {
    std::printf(
        "%6lld  %-12s %-15s %-24s %3d/%-3d %10d %7d  %s\n", static_cast<long long>(r.id),
        std::string(to_string(r.state)).c_str(),
        r.stop_reason == StopReason::none ? "-" : std::string(to_string(r.stop_reason)).c_str(),
        r.started_at.c_str(), r.sites.done, r.sites.total, r.sites.unreliable, r.defects,
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
  recover_interrupted_runs(store);  // a run whose process died shows as Interrupted
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
  recover_interrupted_runs(store);  // a run whose process died shows as Interrupted
  const RunRecord run = find_run(store, id);
  const bool to_stdout = out.empty() || out == "-";
  if (format == "json") {
    const std::string text = app::export_json(run, store.sites(id)).dump(2) + "\n";
    if (to_stdout) {
      std::cout << text << std::flush;
      return 0;
    }
    std::ofstream f(out);
    if (!f) throw ConfigError(out, 0, "--out", "cannot open for writing");
    f << text;
    return 0;
  }
  const auto f = export_format_from_string(format);
  if (!f) throw ConfigError("", 0, "--format", "unknown format '" + format + "'");
  if (to_stdout) {
    std::ostringstream text;
    export_run(store, id, *f, text);
    std::cout << text.str() << std::flush;
  } else {
    export_run(store, id, *f, std::filesystem::path(out));
  }
  return 0;
}

}  // namespace

void add_db_option(CLI::App* sub, std::string& db) {
  sub->add_option("--db", db, "Results store (SQLite)")->capture_default_str();
}

Command add_runs_command(CLI::App& app) {
  struct Args {
    std::string db = "waferscan.db";
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  auto* sub = app.add_subcommand("runs", "List stored runs");
  add_db_option(sub, a->db);
  sub->add_flag("--json", a->json, "JSON output");
  return {sub, [a] { return cmd_runs(a->db, a->json); }};
}

Command add_show_command(CLI::App& app) {
  struct Args {
    std::string db = "waferscan.db";
    RunId id = 0;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  auto* sub = app.add_subcommand("show", "Show one run");
  sub->add_option("RUN_ID", a->id, "Run id")->required();
  add_db_option(sub, a->db);
  sub->add_flag("--json", a->json, "JSON output");
  return {sub, [a] { return cmd_show(a->db, a->id, a->json); }};
}

Command add_export_command(CLI::App& app) {
  struct Args {
    std::string db = "waferscan.db";
    RunId id = 0;
    std::string format;
    std::string out;
  };
  auto a = std::make_shared<Args>();
  auto* sub = app.add_subcommand("export", "Export one run's results");
  sub->add_option("RUN_ID", a->id, "Run id")->required();
  sub->add_option("--format", a->format, "Output format")
      ->required()
      ->check(CLI::IsMember({"json", "klarf", "klarf12", "csv", "png"}));
  sub->add_option("--out", a->out, "Output file (default stdout; required for png)");
  add_db_option(sub, a->db);
  return {sub, [a] { return cmd_export(a->db, a->id, a->format, a->out); }};
}

}  // namespace ws::app
