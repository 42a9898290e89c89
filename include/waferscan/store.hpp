// The results store and run journal (SQLite, WAL): runs, run events, sites, defects.
#pragma once

#include "waferscan/cancel.hpp"
#include "waferscan/run_state.hpp"
#include "waferscan/site.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ws {

using RunId = std::int64_t;

/// Per-status site counts of a run.
struct SiteCounts {
  int total = 0;
  int done = 0;
  int incomplete = 0;
  int error = 0;
  int not_started = 0;
  int unreliable = 0;
};

/// What a run was made from, as it was when the run was created (schema v5), so that its exports
/// never depend on files edited or moved since and `resume` can refuse ones that changed. Hashes
/// are base/content_hash ("fnv1a64:..."); empty fields: not known (a run made before v5, or a run
/// without that input).
struct RunInputs {
  std::string recipe_text;  ///< the exact text of the recipe file (empty: no recipe file)
  std::string recipe_hash;
  std::string set_hash;                    ///< the recorded set's manifest.yaml (a reprocessed run)
  std::string graph_hash;                  ///< the graph spec file
  std::string model_hash;                  ///< the classifier model file
  std::vector<std::string> model_classes;  ///< the model's class names, in its order
};

/// One row of the runs table.
struct RunRecord {
  RunId id = 0;
  std::string recipe_name;
  std::string recipe_path;
  RunState state = RunState::idle;
  StopReason stop_reason = StopReason::none;
  std::string started_at;  ///< ISO-8601 UTC
  std::string ended_at;    ///< empty while running
  SiteCounts sites;
  int defects = 0;
  std::optional<double> graph_quiet_ms;    ///< stop request -> graph quiet
  std::optional<double> hardware_safe_ms;  ///< stop request -> hardware safe
  std::string message;                     ///< failure reason, if any
  std::int64_t owner_pid = 0;
  // What the run was made from, so `waferscan resume` can run it again (schema v2).
  std::string set_path;    ///< recorded set (reprocess); empty for a live run
  std::string graph_path;  ///< graph spec file
  std::string model_path;  ///< classifier model file
  std::string resumed_at;  ///< ISO-8601 UTC of the last resume; empty if never resumed
  int resume_count = 0;    ///< how many times the run was resumed
};

/// A device marked Faulted (it refuses runs until an operator resets it).
struct DeviceFault {
  std::string device;
  std::string reason;
  std::string since;  ///< ISO-8601 UTC
  RunId run = 0;      ///< the run during which it faulted
};

/// What a Store may do to its file.
enum class StoreAccess {
  /// Opens or creates the store (its folder must exist), refuses one whose pages fail SQLite's
  /// quick check, enables WAL, creates or migrates the schema.
  write,
  /// Opens an existing store read-only (without locks when the file or its folder cannot be
  /// written); never creates, migrates or changes it. Writes through it fail.
  read,
};

/// Thread safety: one Store per thread; a Store object is not shared between threads. Several
/// Store objects (threads or processes) may open the same file.
class Store {
 public:
  /// Opens the store as `access` says. Throws ConfigError naming --db for a path that cannot be
  /// a store (a directory, a missing folder, a missing file for a read), StoreError otherwise.
  explicit Store(const std::filesystem::path& path, StoreAccess access = StoreAccess::write);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  Store(Store&&) noexcept;
  Store& operator=(Store&&) = delete;

  /// True when this process may write the file at `path` and its folder.
  static bool writable(const std::filesystem::path& path);

  /// Inserts a run in state Starting with all sites `not_started`; returns its id.
  /// `inputs` are stored beside it in the same transaction (run_inputs() reads them back).
  RunId create_run(const RunRecord& run, const std::vector<SiteSpec>& sites,
                   const RunInputs& inputs = {});
  /// Reopens a canceled or interrupted run for `waferscan resume`: state Starting, every
  /// site that is not done back to not_started (its stored defects, if any, removed), end time and
  /// stop latency cleared, resumed_at set and resume_count incremented, in one transaction. Done
  /// sites and their defects are untouched. Returns the sites to run again, in site order. Throws
  /// StoreError if there is no such run or it is neither Canceled nor Interrupted.
  std::vector<SiteSpec> resume_run(RunId id);
  /// Records a state transition (and reason/message when given). Throws StoreError.
  void set_state(RunId id, RunState state, StopReason reason = StopReason::none,
                 const std::string& message = {});
  /// Stores one site's outcome and its defects in one transaction: a site is never half-stored.
  /// Defect ids are assigned here (unique in the run) and written back into `site.defects`.
  void store_site(RunId id, SiteResult& site);
  /// Final counts, stop latency and end time; recomputes counts from the sites table.
  void finish_run(RunId id, RunState state, StopReason reason, std::optional<double> graph_quiet_ms,
                  std::optional<double> hardware_safe_ms, const std::string& message = {});
  /// Appends an event (already serialised JSON) to the run's journal.
  void append_event(RunId id, const std::string& type, const std::string& json);

  [[nodiscard]] std::optional<RunRecord> run(RunId id) const;
  /// What run `id` was made from; nullopt for a run stored before schema v5 (or no such run).
  [[nodiscard]] std::optional<RunInputs> run_inputs(RunId id) const;
  [[nodiscard]] std::vector<RunRecord> runs() const;
  [[nodiscard]] std::vector<SiteResult> sites(RunId id) const;  ///< with defects, in site order
  [[nodiscard]] SiteCounts count_sites(RunId id) const;
  /// The run's defects counted by class name (one query; no site or defect is loaded).
  [[nodiscard]] std::map<std::string, int> count_defects_by_class(RunId id) const;

  /// Hardware faults survive the process: a Faulted device refuses runs until reset_faults().
  void record_fault(const std::string& device, const std::string& reason, RunId run);
  [[nodiscard]] std::vector<DeviceFault> faults() const;
  /// Clears every fault, recording who reset which device and when. Returns how many were cleared.
  int reset_faults(const std::string& who);

  /// Crash detection: the lock file held by the process that owns run `id` while it runs.
  void set_run_owner(RunId id, const std::string& lock_path);
  /// Runs still in Starting/Running/Stopping, with their owner's lock file ("" if none recorded).
  [[nodiscard]] std::vector<std::pair<RunId, std::string>> unfinished_runs() const;
  /// Marks a run whose owner is gone as Interrupted (only if it is not terminal yet).
  void mark_interrupted(RunId id, const std::string& message);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ws
