// The inspection graph against a plain serial loop calling the same stage functions (the same
// kernels) on the same pre-rendered frames, the in-flight cap, and overlap with realistic hardware
// timing: Google Benchmark cases. Three sub-modes print one JSON object for the driver script
// (benchmarks/run_pipeline.sh), because they are distributions or whole processes rather than
// timed loops:
//   bench_pipeline --ws-rss SITES CAP SIZE        peak RSS of one run (one process per point)
//   bench_pipeline --ws-stops N SIZE CAP          stop/abort latency (abort also without
//   checkpoints) bench_pipeline --ws-bands SIZE STOPS PNG      band size vs checkpoint overhead vs
//   latency
#include "bench/pipeline_bench.hpp"
#include "kernels/detect.hpp"
#include "kernels/preprocess.hpp"
#include "pipeline/stages.hpp"

#include <benchmark/benchmark.h>
#include <oneapi/tbb/task_arena.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <unistd.h>
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>

namespace {

using ws::bench::BenchConfig;
using ws::bench::PipelineBench;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr std::size_t kPoolFrames = 4;

std::filesystem::path work_dir() {
  return std::filesystem::temp_directory_path() /
         ("waferscan-bench-pipeline-" + std::to_string(::getpid()));
}

BenchConfig config(int size, double time_scale) {
  BenchConfig c;
  c.recipe = ws::load_recipe(std::filesystem::path(WS_SOURCE_DIR) / "data/recipes/demo.yaml");
  c.graph = ws::load_graph_spec(std::filesystem::path(WS_SOURCE_DIR) / "graphs/inspect.yaml");
  c.frame_size = size;
  c.pool_frames = kPoolFrames;
  c.time_scale = time_scale;
  c.dir = work_dir();
  return c;
}

// One bench (machine, pool, controller) per (size, time scale), built outside the timed loops.
PipelineBench& bench_for(int size, double time_scale) {
  static std::map<std::pair<int, double>, std::unique_ptr<PipelineBench>> cache;
  auto& slot = cache[{size, time_scale}];
  if (!slot) {
    slot = std::make_unique<PipelineBench>(config(size, time_scale));
    slot->run_serial(2, false);  // untimed: first-frame page faults and cold caches
  }
  return *slot;
}

void report(benchmark::State& state, const ws::bench::Throughput& t) {
  state.SetIterationTime(t.seconds);
  state.counters["fps"] = benchmark::Counter(t.fps());
  state.counters["frames"] = static_cast<double>(t.frames);
  state.counters["max_in_flight"] = static_cast<double>(t.max_in_flight);
  state.counters["done"] = static_cast<double>(t.done);
  // All threads of the process: the CPU a frame costs, whatever share of the cores the run got.
  state.counters["cpu_ms_per_frame"] = 1000.0 * t.cpu_seconds / static_cast<double>(t.frames);
  state.counters["peak_rss_mb"] = ws::bench::peak_rss_mb();
  state.counters["faults_per_frame"] =
      static_cast<double>(t.minor_faults) / static_cast<double>(t.frames);
}

// args: size, frames, one_thread
void BM_Serial(benchmark::State& state) {
  auto& b = bench_for(static_cast<int>(state.range(0)), 0.0);
  for (auto _ : state) {
    const auto t = b.run_serial(static_cast<std::size_t>(state.range(1)), state.range(2) != 0);
    report(state, t);
  }
}

// args: size, frames, cap, checkpoints
void BM_Graph(benchmark::State& state) {
  auto& b = bench_for(static_cast<int>(state.range(0)), 0.0);
  for (auto _ : state) {
    const auto t = b.run_graph(static_cast<std::size_t>(state.range(1)),
                               static_cast<std::size_t>(state.range(2)), state.range(3) != 0);
    report(state, t);
  }
}

// args: size, frames, cap. The ratio goal's measurement: each iteration runs the serial loop (one
// thread) and the graph back to back, in alternating order, and reports their ratio. On a shared,
// noisy machine the speed of both drifts by 20% over minutes; a pair a second apart sees the same
// machine, so the median of the pairs' ratios is steadier than a ratio of separate medians.
void BM_Paired(benchmark::State& state) {
  auto& b = bench_for(static_cast<int>(state.range(0)), 0.0);
  const auto frames = static_cast<std::size_t>(state.range(1));
  const auto cap = static_cast<std::size_t>(state.range(2));
  static int pair = 0;
  for (auto _ : state) {
    const ws::bench::Pair p = b.run_pair(frames, cap, pair++ % 2 == 0);
    report(state, p.graph);
    state.counters["serial_fps"] = benchmark::Counter(p.serial.fps());
    state.counters["ratio"] = benchmark::Counter(p.ratio());
  }
}

// Realistic hardware timing (the recipe's, time_scale 1). args: size, frames, cap. With a 256^2
// frame the compute is negligible, so that run measures the hardware time of the same sites.
void BM_Realistic(benchmark::State& state) {
  auto& b = bench_for(static_cast<int>(state.range(0)), 1.0);
  for (auto _ : state) {
    const auto t = b.run_graph(static_cast<std::size_t>(state.range(1)),
                               static_cast<std::size_t>(state.range(2)));
    report(state, t);
  }
}

constexpr int kSize = 4096;
constexpr int kFrames = 24;

BENCHMARK(BM_Serial)
    ->Name("serial/one_thread")
    ->ArgNames({"size", "frames", "one_thread"})
    ->Args({kSize, kFrames, 1})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);
BENCHMARK(BM_Serial)
    ->Name("serial/parallel_kernels")
    ->ArgNames({"size", "frames", "one_thread"})
    ->Args({kSize, kFrames, 0})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);
BENCHMARK(BM_Graph)
    ->Name("graph")
    ->ArgNames({"size", "frames", "cap", "checkpoints"})
    ->ArgsProduct({{kSize}, {kFrames}, {1, 2, 4, 8, 16}, {1}})
    ->Args({kSize, kFrames, 4, 0})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);
BENCHMARK(BM_Paired)
    ->Name("paired")
    ->ArgNames({"size", "frames", "cap"})
    ->ArgsProduct({{kSize}, {kFrames}, {2, 4, 8}})
    ->Args({kSize, 2 * kFrames, 4})  // twice the frames: fixed per-run costs halved
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);
BENCHMARK(BM_Realistic)
    ->Name("realistic")
    ->ArgNames({"size", "frames", "cap"})
    ->Args({kSize, kFrames, 4})
    ->Args({256, kFrames, 4})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

// --ws-rss SITES CAP SIZE: one run in this process; peak RSS before and after it.
int rss_mode(std::size_t sites, std::size_t cap, int size) {
  PipelineBench b(config(size, 0.0));
  const double setup = ws::bench::peak_rss_mb();
  const auto t = b.run_graph(sites, cap);
  json j = {{"sites", sites},
            {"cap", cap},
            {"size", size},
            {"rss_after_setup_mb", setup},
            {"peak_rss_mb", ws::bench::peak_rss_mb()},
            {"fps", t.fps()},
            {"done", t.done},
            {"max_in_flight", t.max_in_flight}};
  std::cout << j.dump() << std::endl;
  return t.done == static_cast<int>(sites) ? 0 : 1;
}

json series_json(const std::vector<double>& v) {
  const auto p = ws::bench::percentiles(v);
  return {{"n", p.n}, {"p50", p.p50}, {"p99", p.p99}, {"max", p.max}};
}

// --ws-stops N SIZE CAP: N stops at random moments (uniform 5..200 ms after the run started) for
// each of stop and abort with the kernels' checkpoints on, and abort with them off. Hardware time
// is zero, so the hardware-safe latency contains no simulated park time.
int stops_mode(std::size_t n, int size, std::size_t cap) {
  PipelineBench b(config(size, 0.0));
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> delay_us(5000, 200000);
  const std::size_t frames = 64;  // far more than fit in 200 ms: every stop lands mid-run
  json out = {{"size", size}, {"cap", cap}, {"stops_per_series", n}, {"sites_per_run", frames}};
  // A plain stop lets frames in flight finish and checkpoints fire only on abort, so the series
  // without checkpoints is measured for abort only.
  const std::pair<ws::StopStrength, bool> series[] = {{ws::StopStrength::stop, true},
                                                      {ws::StopStrength::abort, true},
                                                      {ws::StopStrength::abort, false}};
  for (const auto& [strength, cp] : series) {
    {
      std::vector<double> quiet;
      std::vector<double> safe;
      std::size_t missed = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const auto s =
            b.stop_once(strength, std::chrono::microseconds(delay_us(rng)), frames, cap, cp);
        if (!s.hit) {
          ++missed;
          continue;
        }
        quiet.push_back(s.graph_quiet_ms);
        safe.push_back(s.hardware_safe_ms);
      }
      const std::string key = std::string(ws::to_string(strength)) + (cp ? "" : "_no_checkpoints");
      out[key] = {{"graph_quiet_ms", series_json(quiet)},
                  {"hardware_safe_ms", series_json(safe)},
                  {"missed", missed}};
      std::cerr << key << " done" << std::endl;
    }
  }
  out["peak_rss_mb"] = ws::bench::peak_rss_mb();
  std::cout << out.dump() << std::endl;
  return 0;
}

// Preprocess + detect of one frame with checkpoint `cp` at band `band`, in this thread's arena.
ws::kernels::Status kernels_once(const PipelineBench& b, const cv::Mat& frame, int band,
                                 const ws::Checkpoint& cp) {
  cv::Mat pre;
  if (ws::kernels::preprocess(frame, b.flat(), band, cp, pre) == ws::kernels::Status::canceled) {
    return ws::kernels::Status::canceled;
  }
  ws::DetectionSpec spec = b.recipe().detection;
  spec.band_rows = band;
  return ws::kernels::detect(pre, b.golden(), spec, cp).status;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

void draw_plot(const json& rows, const std::string& png) {
  const int w = 900;
  const int h = 520;
  const int l = 90;
  const int r = 90;
  const int t = 50;
  const int bot = 70;
  cv::Mat img(h, w, CV_8UC3, cv::Scalar(255, 255, 255));
  double max_over = 1.0;
  double max_lat = 1.0;
  for (const auto& row : rows) {
    max_over = std::max(max_over, row["overhead_pct"].get<double>());
    max_lat = std::max(max_lat, row["abort_latency_ms"]["p99"].get<double>());
  }
  max_over *= 1.15;
  max_lat *= 1.15;
  const auto n = static_cast<int>(rows.size());
  const auto x_of = [&](int i) { return l + (w - l - r) * i / std::max(1, n - 1); };
  const auto y_of = [&](double v, double top) {
    return t + static_cast<int>((h - t - bot) * (1.0 - v / top));
  };
  cv::rectangle(img, {l, t}, {w - r, h - bot}, cv::Scalar(0, 0, 0), 1);
  const cv::Scalar blue(200, 80, 0);
  const cv::Scalar red(0, 0, 200);
  std::vector<cv::Point> over;
  std::vector<cv::Point> lat;
  for (int i = 0; i < n; ++i) {
    const auto& row = rows[static_cast<std::size_t>(i)];
    over.emplace_back(x_of(i), y_of(std::max(0.0, row["overhead_pct"].get<double>()), max_over));
    lat.emplace_back(x_of(i), y_of(row["abort_latency_ms"]["p99"].get<double>(), max_lat));
    cv::putText(img, std::to_string(row["band_rows"].get<int>()), {x_of(i) - 14, h - bot + 22},
                cv::FONT_HERSHEY_SIMPLEX, 0.45, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  }
  cv::polylines(img, over, false, blue, 2, cv::LINE_AA);
  cv::polylines(img, lat, false, red, 2, cv::LINE_AA);
  for (const auto& p : over) cv::circle(img, p, 4, blue, cv::FILLED, cv::LINE_AA);
  for (const auto& p : lat) cv::circle(img, p, 4, red, cv::FILLED, cv::LINE_AA);
  for (int k = 0; k <= 4; ++k) {
    const int y = t + (h - t - bot) * k / 4;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", max_over * (4 - k) / 4);
    cv::putText(img, buf, {l - 55, y + 5}, cv::FONT_HERSHEY_SIMPLEX, 0.45, blue, 1, cv::LINE_AA);
    std::snprintf(buf, sizeof buf, "%.1f", max_lat * (4 - k) / 4);
    cv::putText(img, buf, {w - r + 8, y + 5}, cv::FONT_HERSHEY_SIMPLEX, 0.45, red, 1, cv::LINE_AA);
  }
  cv::putText(img, "band rows (log scale)", {w / 2 - 90, h - 20}, cv::FONT_HERSHEY_SIMPLEX, 0.55,
              cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  cv::putText(img, "checkpoint overhead %", {l, t - 28}, cv::FONT_HERSHEY_SIMPLEX, 0.55, blue, 1,
              cv::LINE_AA);
  cv::putText(img, "abort latency p99 ms (kernel return)", {w - r - 330, t - 10},
              cv::FONT_HERSHEY_SIMPLEX, 0.55, red, 1, cv::LINE_AA);
  cv::imwrite(png, img);
}

// --ws-bands SIZE STOPS PNG: for each band size, the preprocess + detect time of one frame with
// checkpoints enabled vs disabled (median of 9 each, interleaved) and the latency from an abort
// flag set at a random moment to the kernels returning (STOPS samples), plus the same with
// checkpoints disabled.
int bands_mode(int size, std::size_t stops, const std::string& png) {
  PipelineBench b(config(size, 0.0));
  const cv::Mat& frame = b.pool().front();
  std::mt19937 rng(777);
  json rows = json::array();
  const auto one_frame_ms = [&](int band, const ws::Checkpoint& cp) {
    const auto t0 = Clock::now();
    kernels_once(b, frame, band, cp);
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  };
  const auto latency_series = [&](int band, bool enabled, double frame_ms) {
    std::vector<double> lat;
    std::uniform_real_distribution<double> when(0.0, frame_ms);
    for (std::size_t i = 0; i < stops; ++i) {
      std::atomic<std::uint8_t> flag{0};
      const ws::Checkpoint cp = enabled ? ws::Checkpoint(&flag, 2) : ws::Checkpoint{};
      Clock::time_point requested{};
      const auto delay = std::chrono::duration<double, std::milli>(when(rng));
      std::thread stopper([&] {
        std::this_thread::sleep_for(delay);
        requested = Clock::now();
        flag.store(2);
      });
      while (true) {
        kernels_once(b, frame, band, cp);
        if (flag.load() != 0) break;  // the request came while (or before) this call ran
      }
      const auto returned = Clock::now();
      stopper.join();
      lat.push_back(std::chrono::duration<double, std::milli>(returned - requested).count());
    }
    return lat;
  };
  for (const int band : {8, 16, 32, 64, 128, 256, 512, 1024}) {
    ws::StopSource never;
    std::vector<double> on;
    std::vector<double> off;
    one_frame_ms(band, ws::Checkpoint(never.token()));  // warm up
    for (int i = 0; i < 9; ++i) {  // interleaved, so a load change hits both alike
      on.push_back(one_frame_ms(band, ws::Checkpoint(never.token())));
      off.push_back(one_frame_ms(band, ws::Checkpoint{}));
    }
    const double m_on = median(on);
    const double m_off = median(off);
    const auto lat = ws::bench::percentiles(latency_series(band, true, m_on));
    rows.push_back({{"band_rows", band},
                    {"kernels_ms_checkpoints", m_on},
                    {"kernels_ms_no_checkpoints", m_off},
                    {"overhead_pct", 100.0 * (m_on - m_off) / m_off},
                    {"abort_latency_ms",
                     {{"n", lat.n}, {"p50", lat.p50}, {"p99", lat.p99}, {"max", lat.max}}}});
    std::cerr << "band " << band << " done" << std::endl;
  }
  // Reference: checkpoints disabled, the default band; the abort waits for whole kernel calls.
  const double ref_ms = one_frame_ms(b.recipe().detection.band_rows, ws::Checkpoint{});
  const auto none =
      ws::bench::percentiles(latency_series(b.recipe().detection.band_rows, false, ref_ms));
  json out = {{"size", size},
              {"threads", oneapi::tbb::this_task_arena::max_concurrency()},
              {"rows", rows},
              {"no_checkpoints_abort_latency_ms",
               {{"band_rows", b.recipe().detection.band_rows},
                {"n", none.n},
                {"p50", none.p50},
                {"p99", none.p99},
                {"max", none.max}}}};
  draw_plot(rows, png);
  std::cout << out.dump() << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  int rc = -1;
  try {
    if (mode == "--ws-rss" && argc == 5) {
      rc = rss_mode(std::stoul(argv[2]), std::stoul(argv[3]), std::stoi(argv[4]));
    } else if (mode == "--ws-stops" && argc == 5) {
      rc = stops_mode(std::stoul(argv[2]), std::stoi(argv[3]), std::stoul(argv[4]));
    } else if (mode == "--ws-bands" && argc == 5) {
      rc = bands_mode(std::stoi(argv[2]), std::stoul(argv[3]), argv[4]);
    }
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << std::endl;
    rc = 1;
  }
  if (rc < 0) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    rc = 0;
  }
  std::error_code ec;
  std::filesystem::remove_all(work_dir(), ec);
  return rc;
}
