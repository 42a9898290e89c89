// bench_scale: the cost of a run against the length of its recipe (issue 16, point 8). One
// process per size, so that its peak RSS is its own: the quick recipe's machine and frames with an
// explicit list of N sites (the quick dies over and over, each site named), at time scale 0.
// Measures the recipe parse (time, peak RSS after it), the start (from run() to the first site
// stored: creating the run and its N site rows), and sites/s over a window of sites after a
// warm-up; then stops the run. Prints one JSON line. benchmarks/run_scale.sh runs the sizes,
// repeats them interleaved and prints medians and the ratios to the smallest size.
//   bench_scale N WORK_DIR
#include "waferscan/classifier.hpp"
#include "waferscan/graph_spec.hpp"
#include "waferscan/recipe.hpp"
#include "waferscan/run.hpp"
#include "waferscan/sim/sim_machine.hpp"
#include "waferscan/store.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kWarmup = 50;   // sites before the window (the graph fills, caches warm)
constexpr int kWindow = 300;  // sites timed

// Peak resident set size so far, in MiB (VmHWM).
double peak_rss_mib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return -1;
}

double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// The quick recipe with its sites replaced by `n` named sites cycling over its twelve dies.
fs::path write_recipe(const fs::path& source, const fs::path& dir, long n) {
  std::ifstream in(source / "data" / "recipes" / "quick.yaml");
  std::ostringstream text;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("sites:", 0) == 0) break;
    if (line.rfind("model:", 0) == 0) line = "model: " + (source / "data/models/sim.json").string();
    text << line << "\n";
  }
  text << "sites:\n";
  for (long k = 0; k < n; ++k) {
    const long d = k % 12;
    text << "  - {die: [" << (d < 6 ? 7 + d : 18 - d) << ", " << (d < 6 ? 9 : 10) << "], name: s"
         << k << "}\n";
  }
  const fs::path path = dir / ("scale_" + std::to_string(n) + ".yaml");
  std::ofstream(path) << text.str();
  return path;
}

// Runs the recipe at time scale 0 until the window is timed, then stops it; returns the run
// figures as JSON fields.
std::string run_window(ws::Recipe recipe, const fs::path& db) {
  recipe.time_scale = 0;
  const auto model = ws::classify::Classifier::load(recipe.model);
  ws::SimMachine machine(recipe);
  ws::RunController controller(machine.machine(), db);
  ws::RunRequest request;
  request.recipe = std::move(recipe);
  request.graph = ws::load_graph_spec(fs::path(WS_SOURCE_DIR) / "graphs" / "inspect.yaml");
  request.classifier = &model;
  const double ready_rss = peak_rss_mib();  // the machine, the controller, the request built
  double first_rss = 0;
  Clock::time_point first;
  Clock::time_point window_start;
  Clock::time_point window_end;
  request.progress = [&](const ws::Progress& p) {
    if (p.sites_published == 1) {
      first = Clock::now();
      first_rss = peak_rss_mib();  // the run and its site rows created
    }
    if (p.sites_published == kWarmup) window_start = Clock::now();
    if (p.sites_published == kWarmup + kWindow) {
      window_end = Clock::now();
      controller.request_stop(std::nullopt, ws::StopReason::operator_request,
                              ws::StopStrength::stop, "bench_scale");
    }
  };
  const auto started = Clock::now();
  const ws::RunReport report = controller.run(request);
  char text[512];
  std::snprintf(text, sizeof text,
                "\"start_s\": %.3f, \"window_sites\": %d, \"sites_per_s\": %.1f, "
                "\"ready_peak_rss_mib\": %.1f, \"first_site_peak_rss_mib\": %.1f, "
                "\"peak_rss_mib\": %.1f, \"state\": \"%s\"",
                seconds(started, first), kWindow, kWindow / seconds(window_start, window_end),
                ready_rss, first_rss, peak_rss_mib(),
                std::string(ws::to_string(report.state)).c_str());
  return text;
}

// Opening the store a run filled (N site rows): for writing (with PRAGMA quick_check), and for
// reading, the baseline.
std::string store_opens(const fs::path& db) {
  const auto w0 = Clock::now();
  { const ws::Store writer(db); }
  const auto w1 = Clock::now();
  { const ws::Store reader(db, ws::StoreAccess::read); }
  const auto w2 = Clock::now();
  char text[256];
  std::snprintf(
      text, sizeof text, "\"store_mib\": %.1f, \"open_write_s\": %.4f, \"open_read_s\": %.4f",
      static_cast<double>(fs::file_size(db)) / (1 << 20), seconds(w0, w1), seconds(w1, w2));
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: bench_scale N WORK_DIR\n");
    return 2;
  }
  try {
    const long n = std::stol(argv[1]);
    const fs::path work = argv[2];
    fs::create_directories(work);
    const fs::path recipe_path = write_recipe(WS_SOURCE_DIR, work, n);
    const fs::path db = work / ("scale_" + std::to_string(n) + ".db");
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db.string() + suffix);
    const auto t0 = Clock::now();
    ws::Recipe recipe = ws::load_recipe(recipe_path);
    const double parse_s = seconds(t0, Clock::now());
    const double parse_rss = peak_rss_mib();
    const std::string run = run_window(std::move(recipe), db);
    std::printf(
        "{\"sites\": %ld, \"recipe_mib\": %.1f, \"parse_s\": %.3f, "
        "\"parse_peak_rss_mib\": %.1f, %s, %s}\n",
        n, static_cast<double>(fs::file_size(recipe_path)) / (1 << 20), parse_s, parse_rss,
        run.c_str(), store_opens(db).c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_scale: %s\n", e.what());
    return 1;
  }
}
