// Turns every catchable terminating signal into a stop, at every moment of the process, on one
// dedicated thread: a stop request of the active run while a run is being driven, the end of the
// process at once before that and after it.
#pragma once

#include "waferscan/run.hpp"

#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace ws::app {

/// Blocks the stop signals (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGXCPU)
/// in the calling thread and ignores SIGPIPE and SIGXFSZ, so a dead reader or a full file is a
/// failed write, never a death (call this first in main, before any thread starts, so every thread
/// inherits the mask).
void block_stop_signals();

/// The process's one signal thread, started in main right after block_stop_signals().
///
/// Outside a RunScope (parsing a recipe, reading a FIFO, exporting, any command that drives no
/// machine) the first stop signal ends the process at once with the signal's exit code (130 for
/// operator signals, 143 for shutdown ones): nothing has been started that a safe stop would have
/// to make safe. Inside a RunScope the first signal asks the run for a safe stop with the
/// signal's reason (SIGTERM, SIGHUP, SIGALRM, SIGXCPU: shutdown; SIGINT, SIGQUIT, SIGUSR1,
/// SIGUSR2: operator) and its name as origin, and any further one escalates to abort; a signal
/// that arrives while the run is still being created is held and delivered the moment it is
/// active (no site starts). Signals are counted per scope: one from before never counts.
class SignalRouter {
 public:
  /// Starts the thread on the first call; every call returns the one router.
  static SignalRouter& start();

  /// While alive, stop signals go to `controller`'s run.
  class RunScope {
   public:
    explicit RunScope(RunController& controller);
    ~RunScope();
    RunScope(const RunScope&) = delete;
    RunScope& operator=(const RunScope&) = delete;
    /// Call when the run is active (RunRequest::on_started): delivers a held signal.
    void run_started();
  };

 private:
  struct Held {
    StopReason reason;
    StopStrength strength;
    std::string origin;
  };
  SignalRouter();
  void loop();
  void on_signal(int sig);
  void deliver_locked();
  /// A new scope for `controller` (nullptr: none): nothing held, nothing counted.
  void enter(RunController* controller);

  std::mutex mutex_;
  RunController* controller_ = nullptr;  // guarded by mutex_
  int received_ = 0;                     // in the current scope
  std::optional<Held> held_;             // a signal waiting for the run to be active
  bool active_ = false;                  // the scope's run is active
  std::thread thread_;
};

}  // namespace ws::app
