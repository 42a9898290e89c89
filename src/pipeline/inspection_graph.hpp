// The inspection flow graph: sites -> admit (cap) -> acquire -> preprocess -> detect -> classify ->
// reorder -> publish -> admit.decrement (with `record` between acquire and preprocess when
// recording). A fresh graph is built for every run.
#pragma once

#include "pipeline/frame_source.hpp"
#include "pipeline/site_tracker.hpp"
#include "waferscan/cancel.hpp"
#include "waferscan/classifier.hpp"
#include "waferscan/graph_spec.hpp"
#include "waferscan/recipe.hpp"

#include <oneapi/tbb/task_group.h>

#include <exception>
#include <functional>
#include <memory>
#include <string_view>

namespace ws::pipeline {

struct GraphContext {
  const Recipe* recipe = nullptr;
  GraphSpec spec;  ///< node concurrency and the in-flight cap (required, >= 1)
  FrameSource* source = nullptr;
  cv::Mat golden;
  cv::Mat flat;
  const classify::Classifier* classifier = nullptr;
  StopToken token;
  SiteTracker* tracker = nullptr;
  std::function<void(SiteResult&)> publish;  ///< serial: stores the site (journal)
  /// Optional (`run --record`): called with every acquired frame by a node between acquire and
  /// preprocess; may run concurrently for different sites; must not throw or block for long.
  std::function<void(const Work&)> record;
  NodeProbe probe;
  /// Called (on the failing thread) when an exception escapes a node body, before it propagates
  /// and cancels the graph; the run controller turns it into an abort with reason `fault`.
  std::function<void(std::string_view node, const std::exception& error)> on_body_failure;
};

/// Thread safety: run() from one thread; cancel() from any thread, at any time while the object
/// lives. On cancellation, frames in flight are dropped; their sites are left as the tracker says.
class InspectionGraph {
 public:
  /// Builds nodes and edges. Throws std::invalid_argument if the cap is 0 or a pointer is null.
  InspectionGraph(GraphContext ctx, oneapi::tbb::task_group_context& tgc);
  ~InspectionGraph();
  InspectionGraph(const InspectionGraph&) = delete;
  InspectionGraph& operator=(const InspectionGraph&) = delete;

  /// Activates the site source and waits for the graph to be quiet. Rethrows an exception that
  /// escaped a node body (the graph is cancelled by it).
  void run();
  /// Cancels the graph's task_group_context: queued tasks are dropped, running bodies finish.
  void cancel();

  [[nodiscard]] std::size_t max_in_flight() const noexcept;  ///< the most frames seen in the graph

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ws::pipeline
