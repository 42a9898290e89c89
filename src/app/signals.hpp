// Turns SIGINT and SIGTERM into stop requests of the active run, on a dedicated thread.
#pragma once

#include "waferscan/run.hpp"

#include <atomic>
#include <thread>

namespace ws::app {

/// Blocks SIGINT, SIGTERM and the wake-up signal in the calling thread (call this first in main,
/// before any thread starts, so every thread inherits the mask).
void block_stop_signals();

/// While alive, a thread waits for SIGINT/SIGTERM. First SIGINT: stop (reason operator); first
/// SIGTERM: stop (reason shutdown); any further one escalates to abort. Requests are bound to the
/// run active at that moment, so a signal between runs reaches no run.
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
