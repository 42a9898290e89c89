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
#include <string>
#include <thread>
#include <utility>
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

// Runs one kernel benchmark on the side^2 frames (argument 0) with `threads` (argument 1) and an
// armed checkpoint that never fires (`with_cp`) or none; `step(frames, checkpoint)` is one
// iteration.
template <class Step>
void run_kernel(benchmark::State& state, bool with_cp, Step&& step) {
  const int side = static_cast<int>(state.range(0));
  const Frames& f = frames(side);
  const ThreadLimit limit(static_cast<int>(state.range(1)));
  const Checkpoint cp = checkpoint(with_cp);
  for (auto _ : state) step(f, cp);
  finish(state, side);
}

using Bench = std::function<void(benchmark::State&)>;

// ---- ours, with (cp) and without (nocp) checkpoints -----------------------------------------

// A kernel of ours that writes one output image.
using ImageKernel = Status (*)(const Frames& f, const Checkpoint& cp, cv::Mat& out);

Bench ours_image(ImageKernel kernel, bool with_cp) {
  return [kernel, with_cp](benchmark::State& state) {
    cv::Mat out;
    run_kernel(state, with_cp, [&](const Frames& f, const Checkpoint& cp) {
      benchmark::DoNotOptimize(kernel(f, cp, out));
      benchmark::DoNotOptimize(out.data);
    });
  };
}

// A kernel of ours with a choice of stores, run without a checkpoint.
using StoresKernel = Status (*)(const Frames& f, ws::kernels::Stores stores, cv::Mat& out);

Bench ours_image_with(ws::kernels::Stores stores, StoresKernel kernel) {
  return [stores, kernel](benchmark::State& state) {
    cv::Mat out;
    run_kernel(state, false, [&](const Frames& f, const Checkpoint&) {
      benchmark::DoNotOptimize(kernel(f, stores, out));
      benchmark::DoNotOptimize(out.data);
    });
  };
}

Bench ours_fused_blobs(bool with_cp) {
  return [with_cp](benchmark::State& state) {
    std::vector<ws::BlobFeatures> blobs;
    run_kernel(state, with_cp, [&](const Frames& f, const Checkpoint& cp) {
      benchmark::DoNotOptimize(
          ws::kernels::fused_blobs(f.frame, f.golden, f.dx, f.dy, kLevel, 0, kBand, cp, blobs));
      benchmark::DoNotOptimize(blobs.data());
    });
    state.counters["blobs"] = static_cast<double>(blobs.size());
  };
}

Bench ours_align(bool with_cp) {
  return [with_cp](benchmark::State& state) {
    run_kernel(state, with_cp, [](const Frames& f, const Checkpoint& cp) {
      benchmark::DoNotOptimize(ws::kernels::align(f.frame, f.golden, 40, kBand, cp));
    });
  };
}

// Always with a checkpoint.
Bench ours_detect(ws::kernels::DetectPath path) {
  return [path](benchmark::State& state) {
    ws::DetectionSpec spec;
    spec.band_rows = kBand;
    spec.max_shift_px = 12;
    run_kernel(state, true, [&](const Frames& f, const Checkpoint& cp) {
      const auto out = ws::kernels::detect(f.frame, f.golden, spec, cp, path);
      benchmark::DoNotOptimize(out.blobs.data());
    });
  };
}

// ---- OpenCV equivalents (no checkpoints) ----------------------------------------------------

// An OpenCV call that writes one output image.
using CvImageCall = void (*)(const Frames& f, cv::Mat& out);

Bench opencv_image(CvImageCall call) {
  return [call](benchmark::State& state) {
    cv::Mat out;
    run_kernel(state, false, [&](const Frames& f, const Checkpoint&) {
      call(f, out);
      benchmark::DoNotOptimize(out.data);
    });
  };
}

void BM_cv_flat_field(benchmark::State& state) {
  cv::Mat rawf;
  cv::Mat q;
  cv::Mat out;
  run_kernel(state, false, [&](const Frames& f, const Checkpoint&) {
    f.frame.convertTo(rawf, CV_32F);
    cv::divide(rawf, f.flat, q);
    q.convertTo(out, CV_8U);
    benchmark::DoNotOptimize(out.data);
  });
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
  cv::Mat diff;
  cv::Mat binary;
  cv::Mat labels;
  cv::Mat stats;
  cv::Mat centroids;
  run_kernel(state, false, [&](const Frames& f, const Checkpoint&) {
    cv_chain(f, diff, binary, labels, stats, centroids);
    benchmark::DoNotOptimize(stats.data);
  });
  state.counters["blobs"] = stats.rows - 1;
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

// Sizes around the last-level cache (32 MiB on the VM measured): 4, 8, 16, 32 and 64 MiB outputs.
void stores_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"side", "threads"});
  for (const int side : {2048, 2896, 4096, 5793, 8192}) {
    for (const int threads : {1, 2}) b->Args({side, threads});
  }
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

void stop_args(benchmark::internal::Benchmark* b) {
  sizes_and_threads(b);
  b->Iterations(40);
}

// ---- registration ---------------------------------------------------------------------------

// A kernel: ours with checkpoints (<kernel>/cp), without (<kernel>/nocp), and the OpenCV
// equivalent (<kernel>/opencv) when there is one.
struct KernelCase {
  const char* kernel;
  std::function<Bench(bool with_cp)> ours;
  Bench opencv;  // empty: none
};

std::function<Bench(bool)> image(ImageKernel kernel) {
  return [kernel](bool with_cp) { return ours_image(kernel, with_cp); };
}

void add(const std::string& name, Bench run, void (*args)(benchmark::internal::Benchmark*)) {
  benchmark::RegisterBenchmark(name.c_str(), std::move(run))->Apply(args);
}

// In the order they are listed and run.
[[maybe_unused]] const bool kRegistered = [] {
  const KernelCase kernels[] = {
      {"flat_field", image([](const Frames& f, const Checkpoint& cp, cv::Mat& out) {
         return ws::kernels::flat_field(f.frame, f.flat, kBand, cp, out);
       }),
       BM_cv_flat_field},
      {"median3", image([](const Frames& f, const Checkpoint& cp, cv::Mat& out) {
         return ws::kernels::median3(f.frame, kBand, cp, out);
       }),
       opencv_image([](const Frames& f, cv::Mat& out) { cv::medianBlur(f.frame, out, 3); })},
      {"absdiff", image([](const Frames& f, const Checkpoint& cp, cv::Mat& out) {
         return ws::kernels::absdiff_shifted(f.frame, f.golden, 0, 0, kBand, cp, out);
       }),
       opencv_image([](const Frames& f, cv::Mat& out) { cv::absdiff(f.frame, f.golden, out); })},
      {"threshold", image([](const Frames& f, const Checkpoint& cp, cv::Mat& out) {
         return ws::kernels::threshold(f.frame, 127, kBand, cp, out);
       }),
       opencv_image([](const Frames& f, cv::Mat& out) {
         cv::threshold(f.frame, out, 127, 255, cv::THRESH_BINARY);
       })},
      {"fused_blobs", ours_fused_blobs, BM_cv_chain},
      {"align", ours_align, {}},
  };
  for (const KernelCase& k : kernels) {
    const std::string kernel = k.kernel;
    add(kernel + "/cp", k.ours(true), sizes_and_threads);
    add(kernel + "/nocp", k.ours(false), sizes_and_threads);
    if (k.opencv) add(kernel + "/opencv", k.opencv, sizes_and_threads);
  }
  // Regular vs streaming stores, forced, across the cache size: where Stores::automatic switches.
  for (const auto& [name, stores] : {std::pair{"regular", ws::kernels::Stores::regular},
                                     std::pair{"streaming", ws::kernels::Stores::streaming}}) {
    add(std::string("stores/absdiff/") + name,
        ours_image_with(stores,
                        [](const Frames& f, ws::kernels::Stores st, cv::Mat& out) {
                          return ws::kernels::absdiff_shifted(f.frame, f.golden, 0, 0, kBand,
                                                              Checkpoint(), out, st);
                        }),
        stores_args);
    add(std::string("stores/absdiff_shifted/") + name,
        ours_image_with(stores,
                        [](const Frames& f, ws::kernels::Stores st, cv::Mat& out) {
                          return ws::kernels::absdiff_shifted(f.frame, f.golden, f.dx, f.dy, kBand,
                                                              Checkpoint(), out, st);
                        }),
        stores_args);
    add(std::string("stores/threshold/") + name,
        ours_image_with(stores,
                        [](const Frames& f, ws::kernels::Stores st, cv::Mat& out) {
                          return ws::kernels::threshold(f.frame, 127, kBand, Checkpoint(), out, st);
                        }),
        stores_args);
    add(std::string("stores/median3/") + name,
        ours_image_with(stores,
                        [](const Frames& f, ws::kernels::Stores st, cv::Mat& out) {
                          return ws::kernels::median3(f.frame, kBand, Checkpoint(), out, st);
                        }),
        stores_args);
  }
  add("detect/fused", ours_detect(ws::kernels::DetectPath::fused), sizes_and_threads);
  add("detect/separate", ours_detect(ws::kernels::DetectPath::separate), sizes_and_threads);
  add("stop/median3", BM_stop_median3, stop_args);
  add("stop/fused_blobs", BM_stop_fused_blobs, stop_args);
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
