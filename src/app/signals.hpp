// Turns every catchable terminating signal into a stop request of the active run, on a dedicated
// thread.
#pragma once

#include "waferscan/run.hpp"

#include <atomic>
#include <thread>

namespace ws::app {

/// Blocks the stop signals (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGXCPU)
/// in the calling thread and ignores SIGPIPE and SIGXFSZ, so a dead reader or a full file is a
/// failed write, never a death (call this first in main, before any thread starts, so every thread
/// inherits the mask).
void block_stop_signals();

/// While alive, a thread waits for the stop signals. The first asks for a safe stop with the
/// signal's reason (SIGTERM, SIGHUP, SIGALRM, SIGXCPU: shutdown; SIGINT, SIGQUIT, SIGUSR1,
/// SIGUSR2: operator) and the signal's name as origin; any further one escalates to abort. Requests
/// are bound to the run active at that moment, so a signal between runs reaches no run.
class SignalStopper {
 public:
  explicit SignalStopper(RunController& controller);
  ~SignalStopper();
  SignalStopper(const SignalStopper&) = delete;
  SignalStopper& operator=(const SignalStopper&) = delete;

 private:
  RunController& controller_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace ws::app
