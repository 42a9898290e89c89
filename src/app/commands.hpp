// The subcommands of `waferscan`. Each file cmd_*.cpp registers one or a few subcommands.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace ws::app {

/// A registered subcommand and what runs when it was chosen (returns the exit code). The action
/// may throw ConfigError (exit 2) or any other exception (exit 1); main() maps them.
struct Command {
  CLI::App* sub = nullptr;
  std::function<int()> action;
  /// A run (run, reprocess, resume): its product is the store, and a broken `--events -` stream
  /// is a sink failure of the run, not of the command. For every other command the product is
  /// standard output, and a write to it that fails fails the command.
  bool runs_inspection = false;
};

Command add_run_command(CLI::App& app);        // cmd_run.cpp
Command add_runs_command(CLI::App& app);       // cmd_query.cpp
Command add_show_command(CLI::App& app);       // cmd_query.cpp
Command add_export_command(CLI::App& app);     // cmd_query.cpp
Command add_import_command(CLI::App& app);     // cmd_classify.cpp
Command add_train_command(CLI::App& app);      // cmd_classify.cpp
Command add_score_command(CLI::App& app);      // cmd_classify.cpp
Command add_crossval_command(CLI::App& app);   // cmd_classify.cpp
Command add_graph_command(CLI::App& app);      // cmd_graph.cpp
Command add_reprocess_command(CLI::App& app);  // cmd_reprocess.cpp
Command add_resume_command(CLI::App& app);     // cmd_reprocess.cpp
Command add_hardware_command(CLI::App& app);   // cmd_hardware.cpp
Command add_bench_command(CLI::App& app);      // cmd_bench.cpp

/// Adds `--db FILE` (default waferscan.db) bound to `db`.
void add_db_option(CLI::App* sub, std::string& db);

}  // namespace ws::app
