// The HardwareAgent: one thread owns the stage, light and camera and runs one command at a time.
#pragma once

#include "waferscan/hardware.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace ws {

/// How a synchronous agent call ended.
enum class CallOutcome { ok, failed, timed_out };

struct CallResult {
  CallOutcome outcome = CallOutcome::ok;
  std::string message;  ///< the exception text for failed, empty otherwise
};

/// Serialises all hardware access onto one thread. Commands are queued and run in order; flow-graph
/// bodies never block on hardware, they post commands here.
///
/// Thread safety: post(), call(), drop_pending() may be called from any thread. The agent's own
/// thread runs commands one at a time (asserted by tests through SimCounters::max_busy_calls).
/// The abort paths of the devices (Camera::abort, Stage::stop) are called directly by whoever needs
/// them, never queued: they must work while the agent thread is blocked in a driver call.
class HardwareAgent {
 public:
  /// A queued command: `run` executes on the agent thread; `drop` (optional) runs instead, on the
  /// thread calling drop_pending() or the destructor, when the command is discarded unrun.
  struct Command {
    std::string name;
    std::function<void()> run;
    std::function<void()> drop;
  };

  explicit HardwareAgent(Machine machine);
  /// Drops pending commands (calling their drop handlers) and joins the thread after the command in
  /// progress returns.
  ~HardwareAgent();
  HardwareAgent(const HardwareAgent&) = delete;
  HardwareAgent& operator=(const HardwareAgent&) = delete;

  void post(Command command);

  /// Runs `fn` on the agent thread after the commands already queued, and waits at most `timeout`
  /// for it. On timed_out, `fn` may still run or be running later; it must capture only what it
  /// owns (shared_ptr), never stack references of the caller.
  CallResult call(std::string name, std::function<void()> fn, std::chrono::milliseconds timeout);

  /// Discards every queued command that has not started, calling its drop handler. Returns how many.
  std::size_t drop_pending();

  [[nodiscard]] const Machine& machine() const noexcept { return machine_; }
  [[nodiscard]] std::size_t commands_run() const noexcept { return commands_run_.load(); }

 private:
  void loop();

  Machine machine_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Command> queue_;
  bool stopping_ = false;
  std::atomic<std::size_t> commands_run_{0};
  std::thread thread_;
};

}  // namespace ws
