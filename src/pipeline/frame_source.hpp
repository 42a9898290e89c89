// Where frames come from: the live sequencer (hardware) or, offline, a recorded set.
#pragma once

#include "pipeline/work.hpp"
#include "waferscan/node_probe.hpp"

#include <atomic>
#include <functional>
#include <memory>
#include <string_view>

namespace ws::pipeline {

using NodeProbe = ws::NodeProbe;

/// Hands one acquired (or failed) site back to the graph exactly once. Shared between the graph's
/// async node and whichever thread acquires the frame; the first deliver() or abandon() wins and
/// later calls do nothing, so a late driver thread can never put into the graph twice.
/// Thread safety: all members may be called from any thread.
class Delivery {
 public:
  using PutFn = std::function<void(WorkPtr)>;
  using ReleaseFn = std::function<void()>;
  Delivery(PutFn put, ReleaseFn release) : put_(std::move(put)), release_(std::move(release)) {}
  Delivery(const Delivery&) = delete;
  Delivery& operator=(const Delivery&) = delete;
  /// Abandons if nobody delivered: a lost delivery must never keep the graph's wait_for_all busy.
  ~Delivery() { abandon(); }

  /// Puts `work` into the graph and releases the graph's wait. Returns false if already settled.
  bool deliver(WorkPtr work) {
    if (settled_.exchange(true)) return false;
    put_(std::move(work));
    release_();
    return true;
  }
  /// Releases the graph's wait without putting anything (the graph is being aborted).
  bool abandon() {
    if (settled_.exchange(true)) return false;
    release_();
    return true;
  }

 private:
  PutFn put_;
  ReleaseFn release_;
  std::atomic<bool> settled_{false};
};

/// Thread safety: acquire() is called from flow-graph tasks, possibly concurrently; it must not
/// block (hardware waits belong on the HardwareAgent's thread).
class FrameSource {
 public:
  virtual ~FrameSource() = default;
  /// Starts acquiring `job`; eventually calls delivery->deliver() once with the Work (status
  /// not_started if the run was stopped before the site started).
  virtual void acquire(const SiteJob& job, std::shared_ptr<Delivery> delivery) = 0;
};

}  // namespace ws::pipeline
