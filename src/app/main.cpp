// The `waferscan` command line: registers the subcommands and maps errors to exit codes.
#include "app/commands.hpp"
#include "app/signals.hpp"
#include "waferscan/error.hpp"
#include "waferscan/run.hpp"

#include <spdlog/spdlog.h>

#include <iostream>

namespace ws::app {

// A command whose product is its standard output (show, export, runs...) fails when that output
// could not be written (a reader that went away: SIGPIPE is ignored, see block_stop_signals).
int finish_output(const Command& command, int rc) {
  std::cout.flush();
  if (rc == 0 && !std::cout && !command.runs_inspection) {
    std::cerr << "error: " << command.sub->get_name() << ": standard output: write failed"
              << std::endl;
    return ws::exit_code::failed;
  }
  return rc;
}

}  // namespace ws::app

int main(int argc, char** argv) {
  // Before any thread starts, so every thread inherits the mask and only the signal thread
  // receives the stop signals.
  ws::app::block_stop_signals();
  ws::app::SignalRouter::start();  // every moment from here on is interruptible
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
      if (c.sub->parsed()) return ws::app::finish_output(c, c.action());
    }
  } catch (const ws::ConfigError& e) {
    std::cerr << "error: " << e.what() << std::endl;
    return ws::exit_code::usage;
  } catch (const ws::RunBusy& e) {
    std::cerr << "error: " << e.what() << std::endl;
    return ws::exit_code::busy;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << std::endl;
    return ws::exit_code::failed;
  }
  return ws::exit_code::usage;
}
