// The run journal: every state change, site outcome and safe-stop step goes to the store and to the
// event streams (JSON lines) from this one place, which also keeps the progress counters.
#pragma once

#include "waferscan/store.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

namespace ws {

/// Progress of a run as the journal saw it: updated once per published site.
struct Progress {
  int sites_total = 0;
  int sites_published = 0;  ///< sites whose outcome is stored (any status)
  int sites_done = 0;
  int defects = 0;
  double elapsed_s = 0;
};

/// Thread safety: every member may be called from any thread; calls are serialised internally, so
/// a site's transaction is never interleaved with another write.
class Journal {
 public:
  using ProgressFn = std::function<void(const Progress&)>;

  /// `sinks` receive one JSON object per line; they must outlive the journal.
  Journal(Store& store, RunId run, int sites_total, std::vector<std::ostream*> sinks,
          ProgressFn progress = {});

  [[nodiscard]] RunId run() const noexcept { return run_; }

  /// Emits an event {"t", "run", "type", ...fields} to the sinks and the store's run_events.
  void event(const std::string& type, nlohmann::json fields);
  /// Persists a state transition and emits a `state` event.
  void state(RunState state, StopReason reason = StopReason::none, const std::string& message = {});
  /// Stores one site (one transaction), emits a `site` event and updates progress.
  void site(SiteResult& result);
  /// Flushes the sinks.
  void flush();

  [[nodiscard]] Progress progress() const;
  [[nodiscard]] Store& store() noexcept { return store_; }

 private:
  void emit_locked(const std::string& type, nlohmann::json fields);

  Store& store_;
  RunId run_;
  std::vector<std::ostream*> sinks_;
  ProgressFn progress_fn_;
  std::chrono::steady_clock::time_point started_;
  mutable std::mutex mutex_;
  Progress progress_;
};

}  // namespace ws
