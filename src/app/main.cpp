// The `waferscan` command line: registers the subcommands and maps errors to exit codes.
#include "app/commands.hpp"
#include "app/signals.hpp"
#include "waferscan/error.hpp"
#include "waferscan/run.hpp"

#include <spdlog/spdlog.h>

#include <iostream>

int main(int argc, char** argv) {
  // Before any thread starts, so every thread inherits the mask and only the signal thread
  // receives SIGINT/SIGTERM.
  ws::app::block_stop_signals();
  spdlog::set_pattern("%^%l%$: %v");

  CLI::App app{"waferscan: wafer inspection as a oneTBB flow graph"};
  app.require_subcommand(1);
  const std::vector<ws::app::Command> commands = {
      ws::app::add_run_command(app),    ws::app::add_runs_command(app),
      ws::app::add_show_command(app),   ws::app::add_export_command(app),
      ws::app::add_import_command(app), ws::app::add_train_command(app),
      ws::app::add_score_command(app),  ws::app::add_crossval_command(app),
      ws::app::add_graph_command(app),  ws::app::add_reprocess_command(app),
      ws::app::add_resume_command(app), ws::app::add_hardware_command(app),
      ws::app::add_bench_command(app),
  };

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : ws::exit_code::usage;
  }

  try {
    for (const auto& c : commands) {
      if (c.sub->parsed()) return c.action();
    }
  } catch (const ws::ConfigError& e) {
    std::cerr << "error: " << e.what() << std::endl;
    return ws::exit_code::usage;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << std::endl;
    return ws::exit_code::failed;
  }
  return ws::exit_code::usage;
}
