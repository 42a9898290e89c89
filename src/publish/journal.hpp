// The run journal: every state change, site outcome and safe-stop step goes to the store and to the
// event streams (JSON lines) from this one place, which also keeps the progress counters.
#pragma once

#include "waferscan/progress.hpp"
#include "waferscan/store.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

namespace ws {

/// Thread safety: every member may be called from any thread; calls are serialised internally, so
/// a site's transaction is never interleaved with another write.
class Journal {
 public:
  using ProgressFn = ws::ProgressFn;

  /// `sinks` receive one JSON object per line; they must outlive the journal.
  Journal(Store& store, RunId run, int sites_total, std::vector<std::ostream*> sinks,
          ProgressFn progress = {});

  [[nodiscard]] RunId run() const noexcept { return run_; }

  /// Emits an event {"t", "run", "type", ...fields} to the sinks and the store's run_events.
  void event(const std::string& type, nlohmann::json fields);
  /// Persists a state transition and emits a `state` event.
  void state(RunState state, StopReason reason = StopReason::none, const std::string& message = {});
  /// Stores one site (one transaction), emits a `site` event and updates progress; then calls the
  /// progress callback, outside the journal's lock (it may request a stop).
  void site(SiteResult& result);
  /// Flushes the sinks.
  void flush();

  [[nodiscard]] Progress progress() const;
  [[nodiscard]] Store& store() noexcept { return store_; }

 private:
  void emit_locked(const std::string& type, nlohmann::json fields);
  void write_sinks_locked(const std::string& text);
  [[nodiscard]] std::string event_line(const std::string& type, nlohmann::json fields) const;
  void store_site_locked(SiteResult& result);

  Store& store_;
  RunId run_;
  std::vector<std::ostream*> sinks_;
  ProgressFn progress_fn_;
  std::chrono::steady_clock::time_point started_;
  mutable std::mutex mutex_;
  Progress progress_;
};

}  // namespace ws
