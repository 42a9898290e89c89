// The public run API: one inspection run on a machine, from Starting to a terminal state, with its
// stop and abort paths and the safe-stop sequence that always follows. See examples/embed_run.cpp.
#pragma once

#include "waferscan/cancel.hpp"
#include "waferscan/error.hpp"
#include "waferscan/graph_spec.hpp"
#include "waferscan/hardware.hpp"
#include "waferscan/node_probe.hpp"
#include "waferscan/progress.hpp"
#include "waferscan/recipe.hpp"
#include "waferscan/recorded_set.hpp"
#include "waferscan/safe_stop.hpp"
#include "waferscan/site.hpp"
#include "waferscan/store.hpp"

#include <opencv2/core.hpp>

#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ws::classify {
class Classifier;  // waferscan/classifier.hpp
}  // namespace ws::classify

namespace ws {

/// A run was refused (another run, or its safe-stop, is still in progress).
class RunRejected : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Stores one site's result (the publish node's write); throws StoreError when it cannot.
using SiteWriter = std::function<void(SiteResult&)>;

/// Seams for tests and for the simulator's wiring, given to the RunController when it is built; a
/// production run needs none.
struct RunHooks {
  /// Called at every node entry (node name, site sequence number) and before every safe-stop
  /// step ("safe_stop.<step>", step number): handshakes and injected failures in tests.
  NodeProbe probe;
  /// Wraps the publish node's store write of every run (SimMachine::decorate_site_writer: the
  /// simulator's `store.write` faults refuse writes as a full disk would).
  std::function<SiteWriter(SiteWriter)> decorate_site_writer;
};

struct RunRequest {
  Recipe recipe;
  GraphSpec graph;  ///< in_flight must be >= 1
  const classify::Classifier* classifier = nullptr;
  std::vector<std::ostream*> event_sinks;  ///< JSON lines
  ProgressFn progress;
  /// Called once the run id exists and stop requests for it are accepted (tests, signal wiring).
  std::function<void(RunId)> on_started;

  // Recorded sets and resume (docs/recorded-sets.md). All optional; the defaults are a live run.
  /// Offline reprocessing: frames are decoded from this set (pipeline::FileSource) instead of
  /// acquired; every site of `recipe.sites` needs a frame in it. The machine's devices may be null:
  /// the hardware steps of the safe-stop sequence then report `skipped`.
  std::shared_ptr<const Manifest> set;
  cv::Mat golden;  ///< when not empty, replaces the machine's golden reference (reprocess)
  cv::Mat flat;    ///< when not empty, replaces the machine's flat-field image (reprocess)
  /// Live run: also write a recorded set (frames, golden, flat, manifest.yaml) into this folder.
  std::filesystem::path record_dir;
  /// Continue this Canceled or Interrupted run instead of creating one: `recipe.sites` are its
  /// sites that are not done (Store::resume_run reopens them); done sites are not touched.
  std::optional<RunId> resume;
  std::string graph_path;  ///< remembered in the run record so `resume` can run it again
  std::string model_path;  ///< remembered in the run record so `resume` can run it again
};

struct RunReport {
  RunId id = 0;
  RunState state = RunState::idle;
  StopReason stop_reason = StopReason::none;
  StopStrength stop_strength = StopStrength::none;
  SiteCounts sites;
  int defects = 0;
  std::map<std::string, int> defects_by_class;
  std::optional<double> graph_quiet_ms;
  std::optional<double> hardware_safe_ms;
  std::string message;
  std::vector<SafeStopStepResult> safe_stop;
  std::size_t max_in_flight = 0;
  double duration_s = 0;
  /// False when the safe stop did not park the stage or turn the light off: that device is
  /// Faulted, the run Failed, and the command line exits with exit_code::unsafe.
  bool machine_safe = true;
};

/// The exit code of the command line for a run that ended in `state` for `reason` (README,
/// "Exit codes").
int exit_code_for(RunState state, StopReason reason) noexcept;

/// Exit code of the command line for a finished run: exit_code::unsafe for a machine the safe
/// stop did not make safe, otherwise exit_code_for(state, reason).
inline int exit_code_for(const RunReport& report) noexcept {
  if (!report.machine_safe) return exit_code::unsafe;
  return exit_code_for(report.state, report.stop_reason);
}

struct RunSession;  // one run while it is driven (run_controller.cpp)

/// Owns the HardwareAgent (and through it the machine) and the store for a sequence of runs.
/// Thread safety: run() blocks its caller; a second concurrent run() throws RunRejected.
/// request_stop() and active_run() may be called from any thread at any time.
class RunController {
 public:
  /// Opens the store, marks runs of dead processes Interrupted, and restores hardware faults
  /// recorded by earlier processes (a Faulted device refuses runs until reset).
  RunController(Machine machine, const std::filesystem::path& db, AgentOptions agent_options = {},
                RunHooks hooks = {});
  ~RunController();
  RunController(const RunController&) = delete;
  RunController& operator=(const RunController&) = delete;

  /// Runs one inspection to a terminal state. The safe-stop sequence always runs, also after a
  /// cancellation or a failure. Throws RunRejected if a run is in progress or a device is Faulted,
  /// StoreError if the store cannot record the run's start.
  RunReport run(const RunRequest& request);
  /// The same, with `hooks` in place of the controller's for this one run (tests).
  RunReport run(const RunRequest& request, const RunHooks& hooks);

  /// Requests a stop of run `id` (or of the active run when `id` is empty). A request for a run
  /// that is not active does nothing and returns false: a stale request never hits a later run.
  /// A second request can only escalate stop -> abort; the first reason is kept.
  bool request_stop(std::optional<RunId> id, StopReason reason, StopStrength strength,
                    std::string origin = {});

  /// The machine's interlock fired: aborts the active run at once with reason emergency_stop.
  bool emergency_stop(const std::string& origin);
  /// Clears hardware faults (the operator's reset), in the store and in the agent.
  int reset_hardware(const std::string& who);

  [[nodiscard]] std::optional<RunId> active_run() const;
  /// The active run's stop token (a never-stopping token when no run is active).
  [[nodiscard]] StopToken active_token() const;
  /// Whether device `d` is Faulted (until an operator's reset_hardware()).
  [[nodiscard]] bool device_faulted(Device d) const;
  /// Driver threads the watchdog abandoned in a call that never returned (never killed).
  [[nodiscard]] std::size_t abandoned_driver_threads() const;
  /// The results store the runs are written to.
  [[nodiscard]] Store& store() noexcept;

 private:
  // The steps of run(), in order (run_controller.cpp).
  void refuse_if_faulted();
  std::unique_ptr<RunSession> prepare(const RunRequest& request, const RunHooks& hooks);
  void start(RunSession& s);
  void run_graph(RunSession& s);
  void finish_recording(RunSession& s);
  void safe_stop(RunSession& s);
  void settle(RunSession& s);
  RunReport report(RunSession& s);
  void set_active(RunSession* s);

  struct State;  // the store, the owner lock, the hardware agent, the active run
  std::unique_ptr<State> state_;
};

}  // namespace ws
