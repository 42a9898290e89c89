// `waferscan runs`, `show` and `export`: reading stored runs.
#include "app/commands.hpp"
#include "app/json_views.hpp"
#include "base/json_text.hpp"
#include "base/output_file.hpp"
#include "store/run_owner.hpp"
#include "waferscan/error.hpp"
#include "waferscan/export.hpp"
#include "waferscan/store.hpp"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

namespace ws::app {

namespace {

int cmd_runs(const std::string& db, bool json) {
  Store store = open_store_for_reading(db, std::cerr);  // a dead process's run: Interrupted
  const auto runs = store.runs();
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : runs) out.push_back(app::run_json(r));
    std::cout << json_text(out, 2) << std::endl;
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
  Store store = open_store_for_reading(db, std::cerr);  // a dead process's run: Interrupted
  const RunRecord run = find_run(store, id);
  const auto j = app::run_json(run);
  if (json) {
    std::cout << json_text(j, 2) << std::endl;
  } else {
    for (const auto& [k, v] : j.items()) std::cout << k << ": " << json_text(v) << "\n";
  }
  return 0;
}

// What an export must never be written over: the store it reads and the files its run was made
// from.
ProtectedFiles export_inputs(const std::string& db, const RunRecord& run) {
  ProtectedFiles inputs;
  inputs.add_store(db);
  inputs.add(run.recipe_path, "the recipe of run " + std::to_string(run.id));
  inputs.add(run.model_path, "the model of run " + std::to_string(run.id));
  inputs.add(run.graph_path, "the graph spec of run " + std::to_string(run.id));
  if (!run.set_path.empty()) {
    inputs.add(run.set_path, "the recorded set of run " + std::to_string(run.id));
    inputs.add(std::filesystem::path(run.set_path) / "manifest.yaml",
               "the manifest of run " + std::to_string(run.id));
  }
  return inputs;
}

struct ExportArgs {
  std::string db = "waferscan.db";
  RunId id = 0;
  std::string format;
  std::string out;
  bool force = false;
};

int cmd_export(const ExportArgs& a) {
  Store store = open_store_for_reading(a.db, std::cerr);  // a dead process's run: Interrupted
  const RunRecord run = find_run(store, a.id);
  const bool to_stdout = a.out.empty() || a.out == "-";
  const auto overwrite = a.force ? Overwrite::replace : Overwrite::refuse;
  if (!to_stdout) export_inputs(a.db, run).check(a.out, "--out");
  const bool to_stream = !to_stdout && is_stream_target(a.out);  // a FIFO, /dev/stdout: as is
  if (!to_stdout && !to_stream) check_output_target(a.out, "--out", overwrite);
  std::optional<ExportFormat> format;
  if (a.format != "json") {
    format = export_format_from_string(a.format);
    if (!format) throw ConfigError("", 0, "--format", "unknown format '" + a.format + "'");
  }
  if (format && !to_stdout && !to_stream) {
    export_run(store, a.id, *format, std::filesystem::path(a.out));  // atomic; png too
    return 0;
  }
  std::ostringstream text;  // all of it first: a run that cannot be exported leaves no file
  if (format) {
    export_run(store, a.id, *format, text);
  } else {
    text << json_text(app::export_json(run, store.sites(a.id)), 2) << "\n";
  }
  if (to_stdout) {
    std::cout << text.str() << std::flush;
  } else if (to_stream) {
    std::ofstream stream(a.out, std::ios::binary);  // blocks until a FIFO has a reader
    stream << text.str() << std::flush;
    if (!stream) throw OutputError(a.out + ": --out: write failed");
  } else {
    write_file_atomically(a.out, "--out", text.str(), overwrite);
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
  auto a = std::make_shared<ExportArgs>();
  auto* sub = app.add_subcommand("export", "Export one run's results");
  sub->add_option("RUN_ID", a->id, "Run id")->required();
  sub->add_option("--format", a->format, "Output format")
      ->required()
      ->check(CLI::IsMember({"json", "klarf", "klarf12", "csv", "png"}));
  sub->add_option("--out", a->out,
                  "Output file (default stdout; required for png), written atomically; never "
                  "the store or an input of the run");
  sub->add_flag("--force", a->force, "Replace a file already at --out");
  add_db_option(sub, a->db);
  return {sub, [a] { return cmd_export(*a); }};
}

}  // namespace ws::app
