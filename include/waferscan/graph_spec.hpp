// A graph spec: which nodes the inspection graph has, their concurrency, and the in-flight cap.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

namespace ws {

/// Concurrency of one function node: 0 means unlimited, 1 serial.
struct NodeSpec {
  std::size_t concurrency = 1;
};

/// Read from graphs/*.yaml. The in-flight cap is required: a graph without one is an error.
struct GraphSpec {
  std::filesystem::path path;
  std::string source_hash;  ///< content hash of the text it was parsed from (base/content_hash)
  std::string name = "inspect";
  std::size_t in_flight = 0;  ///< hard cap on frames in the graph; required, >= 1
  NodeSpec preprocess{2};
  NodeSpec detect{2};
  NodeSpec classify{2};
  /// Kernels poll the run's stop token once per band of rows (the default). false: they do not
  /// poll it at all, so an abort waits for whole kernel calls (an abort still cancels the graph's
  /// task_group_context). Not read from YAML: benchmarks set it to measure what checkpoints buy.
  bool kernel_checkpoints = true;
  /// publish is always serial and reorder always precedes it; they are not configurable.
};

/// Reads and validates a graph spec. Throws ConfigError (file, line, key) for malformed YAML,
/// unknown keys or nodes, wrong types and out-of-range values (in_flight 1..1024, concurrency
/// 0..64).
GraphSpec load_graph_spec(const std::filesystem::path& path);
GraphSpec parse_graph_spec(const std::string& text, const std::filesystem::path& name);

}  // namespace ws
