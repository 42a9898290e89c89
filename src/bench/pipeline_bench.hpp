// Pipeline measurements on the simulated machine: graph throughput against a plain serial loop
// over the same kernels and frames, and stop latency. Shared by `waferscan bench` and
// benchmarks/pipeline so that both measure the same thing the same way.
#pragma once

#include "kernels/align.hpp"
#include "waferscan/cancel.hpp"
#include "waferscan/classifier.hpp"
#include "waferscan/graph_spec.hpp"
#include "waferscan/recipe.hpp"
#include "waferscan/run.hpp"
#include "waferscan/sim/sim_machine.hpp"

#include <opencv2/core.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <vector>

namespace ws::bench {

struct BenchConfig {
  Recipe recipe;                ///< timing, detection settings and model; sites are generated
  GraphSpec graph;              ///< node concurrency (the cap is given per run)
  int frame_size = 4096;        ///< square frames of this many pixels a side (camera width/height)
  std::size_t pool_frames = 4;  ///< frames pre-rendered once and handed out in turn by the camera
  double time_scale = 0.0;      ///< 0 = instant hardware, 1 = the recipe's realistic timing
  std::filesystem::path dir;    ///< where the results store lives (created if missing)
};

/// Frames through the graph or the serial loop, and how long they took.
struct Throughput {
  std::size_t frames = 0;
  double seconds = 0;  ///< first site admitted .. last site published (graph); whole loop (serial)
  double run_seconds = 0;  ///< the whole RunController::run() (graph only; includes the store)
  std::size_t max_in_flight = 0;
  int done = 0;            ///< sites that ended `done`
  double cpu_seconds = 0;  ///< CPU time of the whole process (all threads) over the run
  long minor_faults = 0;   ///< page faults of the whole process over the run (first touches)

  [[nodiscard]] double fps() const {
    return seconds > 0 ? static_cast<double>(frames) / seconds : 0;
  }
};

/// The one-thread serial loop and the graph over the same frames, run back to back.
struct Pair {
  Throughput serial;
  Throughput graph;
  /// Graph frames/s over serial frames/s (0 if the serial loop measured nothing).
  [[nodiscard]] double ratio() const { return serial.fps() > 0 ? graph.fps() / serial.fps() : 0.0; }
};

/// One stop request's latencies, from the request to the graph being quiet and to the hardware
/// being safe (the safe-stop sequence finished). `hit` is false when the run had already finished.
struct StopSample {
  bool hit = false;
  double graph_quiet_ms = 0;
  double hardware_safe_ms = 0;
};

struct Percentiles {
  std::size_t n = 0;
  double p50 = 0;
  double p99 = 0;
  double max = 0;
};

/// Nearest-rank percentiles of `values` (n = 0 and zeros when empty).
Percentiles percentiles(std::vector<double> values);

/// The process's peak resident set size so far, in MiB (getrusage ru_maxrss).
double peak_rss_mb();

/// CPU time (user + system) of the whole process so far, all threads, in seconds.
double process_cpu_seconds();
/// Minor page faults of the calling process so far (getrusage).
long process_minor_faults();

/// A simulated machine (camera returning a pre-rendered frame pool), a RunController on it with a
/// store under config.dir, the golden/flat references and the classifier.
/// Thread safety: one thread uses an object at a time.
class PipelineBench {
 public:
  /// Renders the pool (the slow part of setup). Throws ConfigError for an impossible recipe.
  explicit PipelineBench(BenchConfig config);
  ~PipelineBench();
  PipelineBench(const PipelineBench&) = delete;
  PipelineBench& operator=(const PipelineBench&) = delete;

  /// Runs `frames` sites through the whole RunController (graph, store, safe-stop) with cap
  /// `in_flight`. `kernel_checkpoints` false disables the kernels' token polling.
  Throughput run_graph(std::size_t frames, std::size_t in_flight, bool kernel_checkpoints = true);

  /// The plain serial loop: for each of `frames` pool frames in the camera's order, preprocess,
  /// detect and classify with the same kernels, settings and an enabled (never firing) checkpoint.
  /// `one_thread` runs it in a one-thread task_arena (no parallel bands inside the kernels);
  /// otherwise the kernels' bands use every core, one frame at a time.
  Throughput run_serial(std::size_t frames, bool one_thread);

  /// run_serial(frames, true) and run_graph(frames, in_flight) back to back, the serial loop first
  /// when `serial_first`. On a shared machine the speed of both drifts over minutes; a pair sees
  /// the same machine, so callers take the ratio per pair (alternating the order) and its median.
  Pair run_pair(std::size_t frames, std::size_t in_flight, bool serial_first);

  /// Starts a run of `frames` sites and requests `strength` `delay` after the run started.
  StopSample stop_once(StopStrength strength, std::chrono::microseconds delay, std::size_t frames,
                       std::size_t in_flight, bool kernel_checkpoints = true);

  [[nodiscard]] const Recipe& recipe() const { return recipe_; }
  [[nodiscard]] const std::vector<cv::Mat>& pool() const { return pool_; }
  [[nodiscard]] const cv::Mat& golden() const { return golden_; }
  [[nodiscard]] const cv::Mat& flat() const { return flat_; }
  [[nodiscard]] const classify::Classifier& classifier() const { return classifier_; }

 private:
  RunRequest request(std::size_t frames, std::size_t in_flight, bool kernel_checkpoints) const;

  BenchConfig config_;
  Recipe recipe_;
  std::unique_ptr<SimMachine> sim_;
  std::vector<cv::Mat> pool_;
  cv::Mat golden_;
  kernels::GoldenPyramid golden_pyramid_;  ///< the serial loop's, made once as a run's graph does
  cv::Mat flat_;
  classify::Classifier classifier_;
  std::unique_ptr<RunController> controller_;
};

}  // namespace ws::bench
