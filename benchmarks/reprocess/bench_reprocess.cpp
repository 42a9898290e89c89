// Offline reprocessing end to end against its decode limit, in one run on the same threads:
//   reprocess/end_to_end   a recorded set of real pairs through RunController: file source
//                          (read + decode), preprocess, local registration, detection,
//                          classification, the store (a fresh SQLite file per iteration);
//   reprocess/decode_only  the same frames and references read and decoded alone, by the same
//                          reader (read_frame_images), in parallel on the same task arena.
// items_processed counts pairs, so items_per_second is pairs/s; benchmarks/run_reprocess.sh runs
// both with interleaved repetitions and prints their medians and ratio. The pairs come from
// WS_BENCH_PAIRS (a DeepPCB-layout folder; default ../shared/data/deeppcb/pairs beside the
// checkout, else the repo's data/deeppcb), imported once per process into a temporary set.
#include "io/import_pairs.hpp"
#include "waferscan/classifier.hpp"
#include "waferscan/graph_spec.hpp"
#include "waferscan/recorded_set.hpp"
#include "waferscan/run.hpp"

#include <benchmark/benchmark.h>
#include <oneapi/tbb/parallel_for.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

namespace {

namespace fs = std::filesystem;

fs::path source(const std::string& rel) {
  return fs::path(WS_SOURCE_DIR) / rel;
}

fs::path pairs_dir() {
  if (const char* env = std::getenv("WS_BENCH_PAIRS")) return env;
  const fs::path shared = source("../shared/data/deeppcb/pairs");
  return fs::exists(shared) ? shared : source("data/deeppcb");
}

fs::path work_dir() {
  return fs::temp_directory_path() / ("waferscan-bench-reprocess-" + std::to_string(::getpid()));
}

// The set, imported once (hard links where the file system allows).
const std::shared_ptr<const ws::Manifest>& recorded_set() {
  static const std::shared_ptr<const ws::Manifest> kSet = [] {
    fs::remove_all(work_dir());
    ws::Manifest m =
        ws::io::import_pairs(pairs_dir(), work_dir() / "set",
                             {"open", "short", "mousebite", "spur", "copper", "pin-hole"});
    ws::io::record_frame_sizes(m, pairs_dir());
    ws::save_manifest(m);
    return std::make_shared<const ws::Manifest>(ws::load_manifest(m.path));
  }();
  return kSet;
}

void decode_only(benchmark::State& state) {
  const ws::Manifest& m = *recorded_set();
  for (auto _ : state) {
    std::atomic<int> failed{0};
    tbb::parallel_for(std::size_t{0}, m.frames.size(), [&](std::size_t k) {
      const ws::FrameImages images = ws::read_frame_images(m, m.frames[k]);
      if (!images.ok()) failed.fetch_add(1);
      benchmark::DoNotOptimize(images.frame.data);
    });
    if (failed.load() != 0) state.SkipWithError("a frame did not decode");
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(m.frames.size()));
}

void end_to_end(benchmark::State& state) {
  const auto& set = recorded_set();
  const auto classifier = ws::classify::Classifier::load(source("data/models/deeppcb.json"));
  ws::RunRequest request;
  request.recipe = ws::recipe_for_set(*set, std::nullopt);
  request.graph = ws::load_graph_spec(source("graphs/inspect.yaml"));
  request.classifier = &classifier;
  request.set = set;
  int iteration = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const fs::path db = work_dir() / ("runs" + std::to_string(iteration++) + ".db");
    auto controller = std::make_unique<ws::RunController>(ws::Machine{}, db);
    state.ResumeTiming();
    const ws::RunReport report = controller->run(request);
    if (report.state != ws::RunState::completed) state.SkipWithError("the run did not complete");
    state.PauseTiming();
    controller.reset();
    fs::remove(db);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(set->frames.size()));
}

}  // namespace

BENCHMARK(decode_only)->Name("reprocess/decode_only")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(end_to_end)->Name("reprocess/end_to_end")->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
