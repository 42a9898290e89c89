#include "bench/pipeline_bench.hpp"

#include "pipeline/stages.hpp"

#include <oneapi/tbb/task_arena.h>
#include <sys/resource.h>

#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <stdexcept>
#include <thread>

namespace ws::bench {

namespace {
using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// `n` sites cycling through the recipe's own (so every position is inside the stage travel),
// renumbered 0..n-1 in visiting order.
std::vector<SiteSpec> cycled_sites(const std::vector<SiteSpec>& base, std::size_t n) {
  if (base.empty()) throw std::invalid_argument("bench: the recipe has no sites");
  std::vector<SiteSpec> sites;
  sites.reserve(n);
  for (std::size_t k = 0; k < n; ++k) {
    SiteSpec s = base[k % base.size()];
    s.index = static_cast<int>(k);
    s.name = std::to_string(k);
    s.name.insert(0, 1, 'b');
    sites.push_back(std::move(s));
  }
  return sites;
}
}  // namespace

Percentiles percentiles(std::vector<double> values) {
  Percentiles p;
  p.n = values.size();
  if (values.empty()) return p;
  std::sort(values.begin(), values.end());
  const auto rank = [&](double q) {
    const auto i = static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size())));
    return values[std::clamp<std::size_t>(i, 1, values.size()) - 1];
  };
  p.p50 = rank(0.50);
  p.p99 = rank(0.99);
  p.max = values.back();
  return p;
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux: KiB
}

double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto s = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_usec);
  };
  return s(usage.ru_utime) + s(usage.ru_stime);
}

long process_minor_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

PipelineBench::PipelineBench(BenchConfig config) : config_(std::move(config)) {
  recipe_ = config_.recipe;
  recipe_.camera.width = config_.frame_size;
  recipe_.camera.height = config_.frame_size;
  recipe_.time_scale = config_.time_scale;
  recipe_.faults.clear();
  sim_ = std::make_unique<SimMachine>(recipe_);
  const std::size_t n = std::max<std::size_t>(1, config_.pool_frames);
  for (std::size_t k = 0; k < n; ++k) {
    const SiteSpec& s = recipe_.sites[k % recipe_.sites.size()];
    pool_.push_back(sim_->render(s.die_i, s.die_j));
  }
  sim_->set_frame_pool(pool_);
  const Machine m = sim_->machine();
  golden_ = m.golden;
  golden_pyramid_ = kernels::golden_pyramid(golden_, recipe_.detection.band_rows);
  flat_ = m.flat;
  classifier_ = classify::Classifier::load(recipe_.model);
  std::filesystem::create_directories(config_.dir);
  static std::atomic<int> instance{0};
  const auto db = config_.dir / ("bench-" + std::to_string(::getpid()) + "-" +
                                 std::to_string(instance.fetch_add(1)) + ".db");
  std::filesystem::remove(db);
  controller_ = std::make_unique<RunController>(m, db);
}

PipelineBench::~PipelineBench() {
  if (sim_) sim_->release_hangs();
  controller_.reset();
}

RunRequest PipelineBench::request(std::size_t frames, std::size_t in_flight,
                                  bool kernel_checkpoints) const {
  RunRequest req;
  req.recipe = recipe_;
  req.recipe.sites = cycled_sites(recipe_.sites, frames);
  req.graph = config_.graph;
  req.graph.in_flight = in_flight;
  req.graph.kernel_checkpoints = kernel_checkpoints;
  req.classifier = &classifier_;
  return req;
}

Throughput PipelineBench::run_graph(std::size_t frames, std::size_t in_flight,
                                    bool kernel_checkpoints) {
  RunRequest req = request(frames, in_flight, kernel_checkpoints);
  Clock::time_point started{};
  Clock::time_point last{};
  req.on_started = [&](RunId) { started = Clock::now(); };
  // The journal reports every published site; the last one ends the measured interval.
  req.progress = [&](const Progress& p) {
    if (p.sites_published == p.sites_total) last = Clock::now();
  };
  const double cpu0 = process_cpu_seconds();
  const long faults0 = process_minor_faults();
  const auto t0 = Clock::now();
  const RunReport report = controller_->run(req);
  const auto t1 = Clock::now();
  Throughput t;
  t.cpu_seconds = process_cpu_seconds() - cpu0;
  t.minor_faults = process_minor_faults() - faults0;
  t.frames = frames;
  t.seconds = last > started ? seconds_between(started, last) : seconds_between(t0, t1);
  t.run_seconds = seconds_between(t0, t1);
  t.max_in_flight = report.max_in_flight;
  t.done = report.sites.done;
  return t;
}

Throughput PipelineBench::run_serial(std::size_t frames, bool one_thread) {
  StopSource never;  // an enabled checkpoint that never fires: the graph's per-band cost
  const Checkpoint cp(never.token());
  const auto sites = cycled_sites(recipe_.sites, frames);
  int done = 0;
  // The graph's stages over the one frame-to-defects path, one after the other.
  const auto inspector = inspect::FrameInspector::for_model(classifier_, recipe_.detection);
  const auto loop = [&] {
    for (std::size_t k = 0; k < frames; ++k) {
      pipeline::Work w;
      w.job = {k, sites[k]};
      w.result.site = sites[k];
      w.image = pool_[k % pool_.size()];  // the camera hands out the pool in the same order
      w.acquired = true;
      w.processing = true;
      pipeline::preprocess_stage(w, inspector, golden_, flat_, cp);
      // The pyramid is made once, as the graph makes it once per run.
      pipeline::detect_stage(w, inspector, golden_, cp, &golden_pyramid_);
      pipeline::classify_stage(w, inspector, classifier_, cp);
      if (w.result.status == SiteStatus::done) ++done;
    }
  };
  const double cpu0 = process_cpu_seconds();
  const long faults0 = process_minor_faults();
  const auto t0 = Clock::now();
  if (one_thread) {
    oneapi::tbb::task_arena arena(1, 1);
    arena.execute(loop);
  } else {
    loop();
  }
  Throughput t;
  t.frames = frames;
  t.seconds = seconds_between(t0, Clock::now());
  t.run_seconds = t.seconds;
  t.max_in_flight = 1;
  t.done = done;
  t.cpu_seconds = process_cpu_seconds() - cpu0;
  t.minor_faults = process_minor_faults() - faults0;
  return t;
}

Pair PipelineBench::run_pair(std::size_t frames, std::size_t in_flight, bool serial_first) {
  Pair p;
  if (serial_first) {
    p.serial = run_serial(frames, true);
    p.graph = run_graph(frames, in_flight);
  } else {
    p.graph = run_graph(frames, in_flight);
    p.serial = run_serial(frames, true);
  }
  return p;
}

StopSample PipelineBench::stop_once(StopStrength strength, std::chrono::microseconds delay,
                                    std::size_t frames, std::size_t in_flight,
                                    bool kernel_checkpoints) {
  RunRequest req = request(frames, in_flight, kernel_checkpoints);
  std::thread stopper;
  req.on_started = [&](RunId id) {
    stopper = std::thread([this, id, strength, delay] {
      std::this_thread::sleep_for(delay);
      controller_->request_stop(id, StopReason::operator_request, strength, "bench");
    });
  };
  RunReport report;
  try {
    report = controller_->run(req);
  } catch (...) {
    if (stopper.joinable()) stopper.join();
    throw;
  }
  if (stopper.joinable()) stopper.join();
  StopSample s;
  // A request that came after the last site was published changed nothing: not a sample.
  s.hit = report.graph_quiet_ms.has_value() && report.sites.done < report.sites.total;
  s.graph_quiet_ms = report.graph_quiet_ms.value_or(0);
  s.hardware_safe_ms = report.hardware_safe_ms.value_or(0);
  return s;
}

}  // namespace ws::bench
