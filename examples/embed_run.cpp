// A program that embeds waferscan through its public headers alone (include/waferscan): it runs
// an inspection on the simulated machine, runs it again and stops it after its first site is
// stored, and exports both runs as CSV. CI builds and runs it (ctest: example_embed_run).
//   embed_run SOURCE_DIR WORK_DIR
#include "waferscan/classifier.hpp"
#include "waferscan/export.hpp"
#include "waferscan/graph_spec.hpp"
#include "waferscan/recipe.hpp"
#include "waferscan/run.hpp"
#include "waferscan/sim/sim_machine.hpp"

#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

namespace fs = std::filesystem;

namespace {

// Lines of the exported CSV file (a header, then one row per defect).
int csv_lines(const fs::path& file) {
  std::ifstream in(file);
  int lines = 0;
  for (std::string line; std::getline(in, line);) ++lines;
  return lines;
}

void report(ws::Store& store, const ws::RunReport& r, const fs::path& csv) {
  ws::export_run(store, r.id, ws::ExportFormat::csv, csv);
  std::printf("run %lld %s: %d/%d sites done, %d defects, %s: %d lines\n",
              static_cast<long long>(r.id), std::string(ws::to_string(r.state)).c_str(),
              r.sites.done, r.sites.total, r.defects, csv.filename().c_str(), csv_lines(csv));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: embed_run SOURCE_DIR WORK_DIR\n");
    return 2;
  }
  try {
    const fs::path source = argv[1];
    const fs::path work = argv[2];
    fs::remove_all(work);
    fs::create_directories(work);
    ws::Recipe recipe = ws::load_recipe(source / "data" / "recipes" / "quick.yaml");
    recipe.time_scale = 0;  // instant simulated hardware
    const auto model = ws::classify::Classifier::load(recipe.model);
    ws::SimMachine machine(recipe);
    ws::RunController controller(machine.machine(), work / "example.db");

    ws::RunRequest request;
    request.recipe = recipe;
    request.graph = ws::load_graph_spec(source / "graphs" / "inspect.yaml");
    request.classifier = &model;
    const ws::RunReport whole = controller.run(request);
    report(controller.store(), whole, work / "whole.csv");

    // Again, one frame in flight, and a stop as soon as the first site is stored: no new site
    // starts, the hardware is made safe, the run ends Canceled with the rest not started.
    request.graph.in_flight = 1;
    request.progress = [&controller](const ws::Progress& p) {
      if (p.sites_published == 1) {
        controller.request_stop(std::nullopt, ws::StopReason::operator_request,
                                ws::StopStrength::stop, "example");
      }
    };
    const ws::RunReport stopped = controller.run(request);
    report(controller.store(), stopped, work / "stopped.csv");
    const bool ok = whole.state == ws::RunState::completed &&
                    stopped.state == ws::RunState::canceled && stopped.sites.done == 1 &&
                    stopped.sites.not_started == stopped.sites.total - 1;
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "embed_run: %s\n", e.what());
    return 1;
  }
}
