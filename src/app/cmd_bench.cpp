// `waferscan bench`: the inspection graph against a plain serial loop over the same kernels and
// frames, then a series of stops and aborts at random moments, on the simulated machine with
// hardware time zero. Prints a table or, with --json, one object.
#include "app/commands.hpp"
#include "base/json_text.hpp"
#include "bench/pipeline_bench.hpp"
#include "waferscan/error.hpp"
#include "waferscan/graph_spec.hpp"
#include "waferscan/recipe.hpp"

#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <thread>

namespace ws::app {

namespace {

struct BenchArgs {
  std::string recipe = "data/recipes/demo.yaml";
  std::string graph = "graphs/inspect.yaml";
  std::size_t frames = 16;
  int size = 2048;
  std::size_t in_flight = 0;  ///< 0: the graph spec's
  std::size_t stops = 20;
  std::size_t pairs = 3;
  bool json = false;
};

nlohmann::json series(const bench::Percentiles& p) {
  return {{"n", p.n}, {"p50", p.p50}, {"p99", p.p99}, {"max", p.max}};
}

bench::BenchConfig bench_config(const BenchArgs& a) {
  bench::BenchConfig config;
  config.recipe = load_recipe(a.recipe);
  if (config.recipe.model.empty()) {
    throw ConfigError(config.recipe.path.string(), 0, "model",
                      "the recipe names no classifier model");
  }
  config.graph = load_graph_spec(a.graph);
  if (a.in_flight > 0) config.graph.in_flight = a.in_flight;
  config.frame_size = a.size;
  config.pool_frames = std::min<std::size_t>(4, a.frames);
  config.time_scale = 0.0;
  config.dir =
      std::filesystem::temp_directory_path() / ("waferscan-bench-" + std::to_string(::getpid()));
  return config;
}

/// The graph against the serial loop: the medians of back-to-back pairs.
struct ThroughputResult {
  nlohmann::json pairs = nlohmann::json::array();
  double graph = 0;   ///< median frames/s
  double serial = 0;  ///< median frames/s
  double ratio = 0;   ///< median of the pairs' ratios
  double serial_parallel = 0;
  bench::Pair last;
};

ThroughputResult measure_throughput(bench::PipelineBench& b, const BenchArgs& a, std::size_t cap) {
  // One untimed pass first: the first frames pay for page faults and cold caches, which would
  // otherwise count against whichever variant runs first.
  b.run_serial(std::min<std::size_t>(a.frames, 2), false);
  // The ratio from pairs (PipelineBench::run_pair), alternating which goes first; frames/s are the
  // pairs' medians.
  ThroughputResult t;
  std::vector<double> graph_fps;
  std::vector<double> serial_fps;
  std::vector<double> ratios;
  for (std::size_t k = 0; k < a.pairs; ++k) {
    t.last = b.run_pair(a.frames, cap, k % 2 == 0);
    graph_fps.push_back(t.last.graph.fps());
    serial_fps.push_back(t.last.serial.fps());
    ratios.push_back(t.last.ratio());
    t.pairs.push_back({{"graph", t.last.graph.fps()},
                       {"serial", t.last.serial.fps()},
                       {"ratio", t.last.ratio()}});
  }
  t.serial_parallel = b.run_serial(a.frames, false).fps();
  t.graph = bench::percentiles(graph_fps).p50;
  t.serial = bench::percentiles(serial_fps).p50;
  t.ratio = bench::percentiles(ratios).p50;
  return t;
}

/// Stops and aborts at random moments within the first half of a run of about 2x `frames` sites.
nlohmann::json measure_stops(bench::PipelineBench& b, const BenchArgs& a, std::size_t cap,
                             double graph_fps) {
  const std::size_t stop_sites = std::max<std::size_t>(2 * a.frames, 4 * cap);
  const double half_run_ms = 500.0 * static_cast<double>(stop_sites) / std::max(graph_fps, 1e-3);
  std::mt19937 rng(2024);
  std::uniform_int_distribution<long> delay_us(
      1000, std::max(2000L, static_cast<long>(1000 * half_run_ms)));
  nlohmann::json latency;
  for (const auto strength : {StopStrength::stop, StopStrength::abort}) {
    std::vector<double> quiet;
    std::vector<double> safe;
    std::size_t missed = 0;
    for (std::size_t i = 0; i < a.stops; ++i) {
      const auto s =
          b.stop_once(strength, std::chrono::microseconds(delay_us(rng)), stop_sites, cap);
      if (!s.hit) {
        ++missed;
        continue;
      }
      quiet.push_back(s.graph_quiet_ms);
      safe.push_back(s.hardware_safe_ms);
    }
    nlohmann::json j = series(bench::percentiles(quiet));
    j["hardware_safe"] = series(bench::percentiles(safe));
    j["missed"] = missed;
    latency[std::string(to_string(strength))] = j;
  }
  return latency;
}

void print_table(const BenchArgs& a, std::size_t cap, const ThroughputResult& t,
                 const nlohmann::json& latency) {
  std::printf("frames %zu of %dx%d, in-flight cap %zu, %u cores, hardware time 0\n", a.frames,
              a.size, a.size, cap, std::thread::hardware_concurrency());
  std::printf("%-32s %10.2f fps (median of %zu)\n", "graph", t.graph, a.pairs);
  std::printf("%-32s %10.2f fps (median of %zu)\n", "serial loop (one thread)", t.serial, a.pairs);
  std::printf("%-32s %10.2f fps\n", "serial loop (parallel kernels)", t.serial_parallel);
  std::printf("%-32s %10.2fx (median of %zu back-to-back pairs)\n", "graph / serial", t.ratio,
              a.pairs);
  std::printf("%-10s %6s %9s %9s %9s   (ms from request; hardware safe p50/p99/max)\n", "stop", "n",
              "p50", "p99", "max");
  for (const char* k : {"stop", "abort"}) {
    const auto& j = latency[k];
    std::printf("%-10s %6zu %9.2f %9.2f %9.2f   %.2f / %.2f / %.2f\n", k, j["n"].get<std::size_t>(),
                j["p50"].get<double>(), j["p99"].get<double>(), j["max"].get<double>(),
                j["hardware_safe"]["p50"].get<double>(), j["hardware_safe"]["p99"].get<double>(),
                j["hardware_safe"]["max"].get<double>());
  }
  std::printf("peak RSS %.0f MiB\n", bench::peak_rss_mb());
}

int cmd_bench(const BenchArgs& a) {
  const bench::BenchConfig config = bench_config(a);
  struct Cleanup {
    std::filesystem::path dir;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup{config.dir};
  const std::size_t cap = config.graph.in_flight;
  if (!a.json) {
    std::cerr << "rendering " << config.pool_frames << " frames of " << a.size << "^2...\n";
  }
  bench::PipelineBench b(config);
  const ThroughputResult t = measure_throughput(b, a, cap);
  const nlohmann::json latency = measure_stops(b, a, cap, t.graph);
  if (!a.json) {
    print_table(a, cap, t, latency);
    return 0;
  }
  const nlohmann::json out = {
      {"throughput_fps",
       {{"graph", t.graph}, {"serial", t.serial}, {"serial_parallel_kernels", t.serial_parallel}}},
      {"throughput_ratio", t.ratio},
      {"throughput_pairs", t.pairs},
      {"pairs", a.pairs},
      {"stop_latency_ms", latency},
      {"peak_rss_mb", bench::peak_rss_mb()},
      {"frame_size", a.size},
      {"frames", a.frames},
      {"in_flight", cap},
      {"max_in_flight", t.last.graph.max_in_flight},
      {"cores", std::thread::hardware_concurrency()},
      {"sites_done", {{"graph", t.last.graph.done}, {"serial", t.last.serial.done}}}};
  std::cout << json_text(out, 2) << std::endl;
  return 0;
}

}  // namespace

Command add_bench_command(CLI::App& app) {
  auto a = std::make_shared<BenchArgs>();
  auto* sub = app.add_subcommand(
      "bench", "Measure the graph against a serial loop and the stop latency (simulated frames)");
  sub->add_option("--recipe", a->recipe, "Recipe (YAML): detection settings and model")
      ->capture_default_str();
  sub->add_option("--graph", a->graph, "Graph spec (YAML)")->capture_default_str();
  sub->add_option("--frames", a->frames, "Frames per throughput measurement")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  sub->add_option("--size", a->size, "Frame width and height in pixels")
      ->check(CLI::Range(256, 16384))
      ->capture_default_str();
  sub->add_option("--in-flight", a->in_flight, "Override the graph's in-flight cap")
      ->check(CLI::Range(1, 1024));
  sub->add_option("--stops", a->stops, "Stops (and as many aborts) at random moments")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  sub->add_option("--pairs", a->pairs,
                  "Back-to-back serial/graph pairs; the ratio is the median of theirs")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  sub->add_flag("--json", a->json, "Print one JSON object");
  return {sub, [a] { return cmd_bench(*a); }};
}

}  // namespace ws::app
