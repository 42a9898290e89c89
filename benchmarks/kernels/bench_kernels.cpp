// Kernel benchmarks: with vs without checkpoints, ours vs OpenCV, fused detection vs the OpenCV
// chain, and stop latency; 2048^2 and 8192^2 8-bit frames, 1 and 2 threads.
#include "kernels/absdiff_shifted.hpp"
#include "kernels/align.hpp"
#include "kernels/detect.hpp"
#include "kernels/flat_field.hpp"
#include "kernels/fused_blobs.hpp"
#include "kernels/median3.hpp"
#include "kernels/threshold.hpp"

#include <benchmark/benchmark.h>
#include <oneapi/tbb/global_control.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <thread>
#include <vector>

namespace {

using ws::Checkpoint;
using ws::kernels::Status;
using Clock = std::chrono::steady_clock;

constexpr int kBand = 64;
constexpr int kLevel = 30;  // threshold of the detection benchmarks: noise 3 gives few blobs

// A die-like frame and its golden reference, shifted by (3, -2), with noise and a few defects.
struct Frames {
  cv::Mat golden;
  cv::Mat frame;
  cv::Mat flat;  // CV_32F gain about 1
  int dx = 3;
  int dy = -2;
};

cv::Mat die_pattern(int side, std::uint64_t seed) {
  cv::Mat tile(1024, 1024, CV_8UC1, cv::Scalar(60));
  cv::RNG rng(seed);
  for (int i = 0; i < 3000; ++i) {
    const cv::Rect r(rng.uniform(0, 1024), rng.uniform(0, 1024), rng.uniform(4, 60),
                     rng.uniform(4, 60));
    tile(r & cv::Rect(0, 0, 1024, 1024)).setTo(rng.uniform(90, 200));
  }
  cv::Mat out;
  cv::repeat(tile, (side + 1023) / 1024, (side + 1023) / 1024, out);
  return out(cv::Rect(0, 0, side, side)).clone();
}

const Frames& frames(int side) {
  static std::map<int, Frames> cache;
  auto it = cache.find(side);
  if (it != cache.end()) return it->second;
  Frames f;
  f.golden = die_pattern(side, 1);
  cv::Mat moved(f.golden.size(), CV_8UC1, cv::Scalar(60));
  const cv::Rect all(0, 0, side, side);
  const cv::Rect dst = cv::Rect(f.dx, f.dy, side, side) & all;
  f.golden(dst - cv::Point(f.dx, f.dy)).copyTo(moved(dst));
  cv::RNG rng(2);
  for (int i = 0; i < side / 64; ++i) {
    cv::circle(moved, {rng.uniform(0, side), rng.uniform(0, side)}, rng.uniform(2, 8),
               cv::Scalar(rng.uniform(0, 2) * 255), cv::FILLED);
  }
  cv::Mat noise(moved.size(), CV_16SC1);
  rng.fill(noise, cv::RNG::NORMAL, 0, 3.0);
  cv::Mat sum;
  cv::add(moved, noise, sum, cv::noArray(), CV_16S);
  sum.convertTo(f.frame, CV_8U);
  f.flat = cv::Mat(f.golden.size(), CV_32FC1);
  rng.fill(f.flat, cv::RNG::UNIFORM, 0.9, 1.1);
  return cache.emplace(side, std::move(f)).first->second;
}

// Limits TBB (and OpenCV, whose parallel backend here is TBB) to `threads` for one benchmark.
struct ThreadLimit {
  explicit ThreadLimit(int threads)
      : control(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads)) {
    cv::setNumThreads(threads);
  }
  ~ThreadLimit() { cv::setNumThreads(-1); }
  ThreadLimit(const ThreadLimit&) = delete;
  ThreadLimit& operator=(const ThreadLimit&) = delete;
  tbb::global_control control;
};

const std::atomic<std::uint8_t> kQuiet{0};

// Which checkpoint a benchmark runs with: an armed one that never fires, or none (no load).
Checkpoint checkpoint(bool with) {
  return with ? Checkpoint(&kQuiet, 1) : Checkpoint();
}

void finish(benchmark::State& state, int side) {
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(side) * side);
  state.counters["threads"] = static_cast<double>(state.range(1));
}

// ---- ours, with (cp=1) and without (cp=0) checkpoints --------------------------------------

template <bool WithCp>
void BM_flat_field(benchmark::State& state) {
  const int side = static_cast<int>(state.range(0));
  const Frames& f = frames(side);
  const ThreadLimit limit(static_cast<int>(state.range(1)));
  const Checkpoint cp = checkpoint(WithCp);
  cv::Mat out;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ws::kernels::flat_field(f.frame, f.flat, kBand, cp, out));
    benchmark::DoNotOptimize(out.data);
  }
  finish(state, side);
}

template <bool WithCp>
void BM_median3(benchmark::State& state) {
  const int side = static_cast<int>(state.range(0));
  const Frames& f = frames(side);
  const ThreadLimit limit(static_cast<int>(state.range(1)));
  const Checkpoint cp = checkpoint(WithCp);
  cv::Mat out;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ws::kernels::median3(f.frame, kBand, cp, out));
    benchmark::DoNotOptimize(out.data);
  }
  finish(state, side);
}

template <bool WithCp>
void BM_absdiff(benchmark::State& state) {
  const int side = static_cast<int>(state.range(0));
  const Frames& f = frames(side);
  const ThreadLimit limit(static_cast<int>(state.range(1)));
  const Checkpoint cp = checkpoint(WithCp);
  cv::Mat out;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ws::kernels::absdiff_shifted(f.frame, f.golden, 0, 0, kBand, cp, out));
    benchmark::DoNotOptimize(out.data);
  }
  finish(state, side);
}

template <bool WithCp>
void BM_threshold(benchmark::State& state) {
  const int side = static_cast<int>(state.range(0));
  const Frames& f = frames(side);
  const ThreadLimit limit(static_cast<int>(state.range(1)));
  const Checkpoint cp = checkpoint(WithCp);
  cv::Mat out;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ws::kernels::threshold(f.frame, 127, kBand, cp, out));
    benchmark::DoNotOptimize(out.data);
  }
  finish(state, side);
}

template <bool WithCp>
void BM_fused_blobs(benchmark::State& state) {
  const int side = static_cast<int>(state.range(0));
  const Frames& f = frames(side);
  const ThreadLimit limit(static_cast<int>(state.range(1)));
  const Checkpoint cp = checkpoint(WithCp);
  std::vector<ws::BlobFeatures> blobs;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        ws::kernels::fused_blobs(f.frame, f.golden, f.dx, f.dy, kLevel, 0, kBand, cp, blobs));
    benchmark::DoNotOptimize(blobs.data());
  }
  state.counters["blobs"] = static_cast<double>(blobs.size());
  finish(state, side);
}

template <bool WithCp>
void BM_align(benchmark::State& state) {
  const int side = static_cast<int>(state.range(0));
  const Frames& f = frames(side);
  const ThreadLimit limit(static_cast<int>(state.range(1)));
  const Checkpoint cp = checkpoint(WithCp);
  for (auto _ : state) {
    benchmark::DoNotOptimize(ws::kernels::align(f.frame, f.golden, 40, kBand, cp));
  }
  finish(state, side);
}

template <ws::kernels::DetectPath Path>
void BM_detect(benchmark::State& state) {
  const int side = static_cast<int>(state.range(0));
  const Frames& f = frames(side);
  const ThreadLimit limit(static_cast<int>(state.range(1)));
  ws::DetectionSpec spec;
  spec.band_rows = kBand;
  spec.max_shift_px = 12;
  const Checkpoint cp = checkpoint(true);
  for (auto _ : state) {
    const auto out = ws::kernels::detect(f.frame, f.golden, spec, cp, Path);
    benchmark::DoNotOptimize(out.blobs.data());
  }
  finish(state, side);
}

// ---- OpenCV equivalents ---------------------------------------------------------------------

void BM_cv_flat_field(benchmark::State& state) {
  const int side = static_cast<int>(state.range(0));
  const Frames& f = frames(side);
  const ThreadLimit limit(static_cast<int>(state.range(1)));
  cv::Mat rawf;
  cv::Mat q;
  cv::Mat out;
  for (auto _ : state) {
    f.frame.convertTo(rawf, CV_32F);
    cv::divide(rawf, f.flat, q);
    q.convertTo(out, CV_8U);
    benchmark::DoNotOptimize(out.data);
  }
  finish(state, side);
}

void BM_cv_median3(benchmark::State& state) {
  const int side = static_cast<int>(state.range(0));
  const Frames& f = frames(side);
  const ThreadLimit limit(static_cast<int>(state.range(1)));
  cv::Mat out;
  for (auto _ : state) {
    cv::medianBlur(f.frame, out, 3);
    benchmark::DoNotOptimize(out.data);
  }
  finish(state, side);
}

void BM_cv_absdiff(benchmark::State& state) {
  const int side = static_cast<int>(state.range(0));
  const Frames& f = frames(side);
  const ThreadLimit limit(static_cast<int>(state.range(1)));
  cv::Mat out;
  for (auto _ : state) {
    cv::absdiff(f.frame, f.golden, out);
    benchmark::DoNotOptimize(out.data);
  }
  finish(state, side);
}

void BM_cv_threshold(benchmark::State& state) {
  const int side = static_cast<int>(state.range(0));
  const Frames& f = frames(side);
  const ThreadLimit limit(static_cast<int>(state.range(1)));
  cv::Mat out;
  for (auto _ : state) {
    cv::threshold(f.frame, out, 127, 255, cv::THRESH_BINARY);
    benchmark::DoNotOptimize(out.data);
  }
  finish(state, side);
}

// The whole-image chain fused_blobs() replaces, on the same overlap.
void cv_chain(const Frames& f, cv::Mat& diff, cv::Mat& binary, cv::Mat& labels, cv::Mat& stats,
              cv::Mat& centroids) {
  const cv::Rect valid = ws::kernels::valid_region(f.frame.size(), f.dx, f.dy);
  cv::absdiff(f.frame(valid), f.golden(valid - cv::Point(f.dx, f.dy)), diff);
  cv::threshold(diff, binary, kLevel, 255, cv::THRESH_BINARY);
  cv::connectedComponentsWithStats(binary, labels, stats, centroids, 8, CV_32S);
}

void BM_cv_chain(benchmark::State& state) {
  const int side = static_cast<int>(state.range(0));
  const Frames& f = frames(side);
  const ThreadLimit limit(static_cast<int>(state.range(1)));
  cv::Mat diff;
  cv::Mat binary;
  cv::Mat labels;
  cv::Mat stats;
  cv::Mat centroids;
  for (auto _ : state) {
    cv_chain(f, diff, binary, labels, stats, centroids);
    benchmark::DoNotOptimize(stats.data);
  }
  state.counters["blobs"] = stats.rows - 1;
  finish(state, side);
}

// ---- stop latency ---------------------------------------------------------------------------

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

double ms_since(Clock::time_point t0, Clock::time_point t1) {
  return std::chrono::duration<double, std::milli>(t1 - t0).count();
}

// Median duration of `fn` over a few runs, in ms.
double median_ms(const std::function<void()>& fn, int runs = 5) {
  std::vector<double> t;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = Clock::now();
    fn();
    t.push_back(ms_since(t0, Clock::now()));
  }
  return percentile(t, 0.5);
}

// Each iteration runs `kernel` with an armed checkpoint while a second thread raises its flag at
// a uniformly random moment within the kernel's usual duration; the sample is the time from the
// flag being set to the kernel returning. Reports p50/p99 (ms), the kernel's full duration and
// the duration of the whole OpenCV call it replaces (which cannot be stopped at all).
void stop_latency(benchmark::State& state, const std::function<Status(const Checkpoint&)>& kernel,
                  const std::function<void()>& opencv_call) {
  const int side = static_cast<int>(state.range(0));
  const ThreadLimit limit(static_cast<int>(state.range(1)));
  const double full_ms = median_ms([&] { kernel(Checkpoint()); });
  const double opencv_ms = median_ms(opencv_call);
  std::mt19937 rng(42);
  std::uniform_real_distribution<double> when(0.0, 0.9 * full_ms);
  std::vector<double> latency;
  int missed = 0;
  for (auto _ : state) {
    std::atomic<std::uint8_t> flag{0};
    std::atomic<std::int64_t> set_at{0};
    const auto start = Clock::now();
    const auto delay = std::chrono::duration<double, std::milli>(when(rng));
    std::thread stopper([&] {
      std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(delay));
      set_at.store(Clock::now().time_since_epoch().count());
      flag.store(1);
    });
    const Status s = kernel(Checkpoint(&flag, 1));
    const auto returned = Clock::now();
    stopper.join();
    if (s == Status::canceled) {
      latency.push_back(ms_since(Clock::time_point(Clock::duration(set_at.load())), returned));
    } else {
      ++missed;  // finished before the flag was raised
    }
  }
  state.counters["p50_ms"] = percentile(latency, 0.5);
  state.counters["p99_ms"] = percentile(latency, 0.99);
  state.counters["kernel_ms"] = full_ms;
  state.counters["opencv_ms"] = opencv_ms;
  state.counters["missed"] = missed;
  state.counters["threads"] = static_cast<double>(state.range(1));
  (void)side;
}

void BM_stop_median3(benchmark::State& state) {
  const Frames& f = frames(static_cast<int>(state.range(0)));
  cv::Mat out;
  cv::Mat cv_out;
  stop_latency(
      state, [&](const Checkpoint& cp) { return ws::kernels::median3(f.frame, kBand, cp, out); },
      [&] { cv::medianBlur(f.frame, cv_out, 3); });
}

void BM_stop_fused_blobs(benchmark::State& state) {
  const Frames& f = frames(static_cast<int>(state.range(0)));
  std::vector<ws::BlobFeatures> blobs;
  cv::Mat diff;
  cv::Mat binary;
  cv::Mat labels;
  cv::Mat stats;
  cv::Mat centroids;
  stop_latency(
      state,
      [&](const Checkpoint& cp) {
        return ws::kernels::fused_blobs(f.frame, f.golden, f.dx, f.dy, kLevel, 0, kBand, cp, blobs);
      },
      [&] { cv_chain(f, diff, binary, labels, stats, centroids); });
}

void sizes_and_threads(benchmark::internal::Benchmark* b) {
  b->ArgNames({"side", "threads"});
  for (const int side : {2048, 8192}) {
    for (const int threads : {1, 2}) b->Args({side, threads});
  }
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

void stop_args(benchmark::internal::Benchmark* b) {
  sizes_and_threads(b);
  b->Iterations(40);
}

}  // namespace

BENCHMARK(BM_flat_field<true>)->Name("flat_field/cp")->Apply(sizes_and_threads);
BENCHMARK(BM_flat_field<false>)->Name("flat_field/nocp")->Apply(sizes_and_threads);
BENCHMARK(BM_cv_flat_field)->Name("flat_field/opencv")->Apply(sizes_and_threads);
BENCHMARK(BM_median3<true>)->Name("median3/cp")->Apply(sizes_and_threads);
BENCHMARK(BM_median3<false>)->Name("median3/nocp")->Apply(sizes_and_threads);
BENCHMARK(BM_cv_median3)->Name("median3/opencv")->Apply(sizes_and_threads);
BENCHMARK(BM_absdiff<true>)->Name("absdiff/cp")->Apply(sizes_and_threads);
BENCHMARK(BM_absdiff<false>)->Name("absdiff/nocp")->Apply(sizes_and_threads);
BENCHMARK(BM_cv_absdiff)->Name("absdiff/opencv")->Apply(sizes_and_threads);
BENCHMARK(BM_threshold<true>)->Name("threshold/cp")->Apply(sizes_and_threads);
BENCHMARK(BM_threshold<false>)->Name("threshold/nocp")->Apply(sizes_and_threads);
BENCHMARK(BM_cv_threshold)->Name("threshold/opencv")->Apply(sizes_and_threads);
BENCHMARK(BM_fused_blobs<true>)->Name("fused_blobs/cp")->Apply(sizes_and_threads);
BENCHMARK(BM_fused_blobs<false>)->Name("fused_blobs/nocp")->Apply(sizes_and_threads);
BENCHMARK(BM_cv_chain)->Name("fused_blobs/opencv")->Apply(sizes_and_threads);
BENCHMARK(BM_align<true>)->Name("align/cp")->Apply(sizes_and_threads);
BENCHMARK(BM_align<false>)->Name("align/nocp")->Apply(sizes_and_threads);
BENCHMARK(BM_detect<ws::kernels::DetectPath::fused>)
    ->Name("detect/fused")
    ->Apply(sizes_and_threads);
BENCHMARK(BM_detect<ws::kernels::DetectPath::separate>)
    ->Name("detect/separate")
    ->Apply(sizes_and_threads);
BENCHMARK(BM_stop_median3)->Name("stop/median3")->Apply(stop_args);
BENCHMARK(BM_stop_fused_blobs)->Name("stop/fused_blobs")->Apply(stop_args);

BENCHMARK_MAIN();
