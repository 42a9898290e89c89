// The HardwareAgent: one thread owns the stage, light and camera and runs one command at a time;
// a watchdog aborts a device call that overruns its timeout and faults the device when the abort
// does not end the call in time.
#pragma once

#include "waferscan/hardware.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace ws {

/// Thrown inside a command when the watchdog has abandoned the thread running it: the command must
/// return at once without touching anything it does not own (the run may be gone).
struct CommandAbandoned {};

/// Serialises all hardware access onto one thread. Commands are queued and run in order; flow-graph
/// bodies never block on hardware, they post commands here.
///
/// Inside a command every blocking driver call is wrapped in `device_call()`, which gives it a
/// timeout. On overrun the watchdog calls the device's abort path (Camera::abort, Stage::stop) on a
/// thread of its own, never blocking in a driver itself: the abort is a call with a deadline too.
/// If the call has still not returned after the abort grace (whether or not the abort returned),
/// the device is marked Faulted, the
/// thread stuck in the driver is abandoned (never killed; a fresh worker thread takes over the
/// queue), and the fault listener is told. A Faulted device refuses every later call until
/// reset_faults().
///
/// Thread safety: every public member may be called from any thread. At most one command runs at a
/// time (abandoned threads excepted: they no longer count, and can no longer touch the queue).
class HardwareAgent {
 public:
  /// A queued command: `run` executes on the agent thread; `drop` (optional) runs instead, on the
  /// thread calling drop_pending() or the destructor, when the command is discarded unrun;
  /// `abandon` (optional) runs on the watchdog thread when the command's thread is abandoned.
  struct Command {
    std::string name;
    std::function<void()> run;
    std::function<void()> drop;
    std::function<void()> abandon;
  };

  using Options = AgentOptions;

  using FaultListener = std::function<void(Device, const std::string& what)>;
  using OverrunListener = std::function<void(Device, const std::string& what)>;

  explicit HardwareAgent(Machine machine) : HardwareAgent(std::move(machine), Options{}) {}
  HardwareAgent(Machine machine, Options options);
  /// Drops pending commands (calling their drop handlers) and joins the worker after the command
  /// in progress returns. Abandoned workers are left to finish on their own.
  ~HardwareAgent();
  HardwareAgent(const HardwareAgent&) = delete;
  HardwareAgent& operator=(const HardwareAgent&) = delete;

  void post(Command command);

  /// Runs `fn` on the agent thread after the commands already queued, and waits at most `timeout`
  /// for it. On timed_out, `fn` may still run or be running later; it must capture only what it
  /// owns (shared_ptr), never stack references of the caller.
  CallResult call(std::string name, std::function<void()> fn, std::chrono::milliseconds timeout);

  /// Discards every queued command that has not started, calling its drop handler. Returns how
  /// many.
  std::size_t drop_pending();

  /// Inside a command: runs the blocking driver call `fn` on `device` under the watchdog with
  /// `timeout`. Throws HardwareError if the device is Faulted (fn is not called), rethrows what fn
  /// throws, and throws CommandAbandoned if the watchdog abandoned this thread meanwhile.
  void device_call(Device device, std::string_view what, std::chrono::milliseconds timeout,
                   const std::function<void()>& fn);

  /// Replaces Options::abort_grace for the calls that start from now on (a recipe's
  /// timeouts.abort_grace_ms).
  void set_abort_grace(std::chrono::milliseconds grace);

  [[nodiscard]] bool faulted(Device d) const;
  [[nodiscard]] std::string fault_reason(Device d) const;
  /// Marks a device Faulted (also used to restore faults recorded in the store).
  void mark_faulted(Device d, const std::string& reason);
  /// Clears every fault (the operator's explicit reset).
  void reset_faults();

  /// Listeners are called on the watchdog thread. Setting one waits for an invocation in progress
  /// to return, so after `set_fault_listener({})` nothing the old listener captured is used.
  void set_fault_listener(FaultListener fn);
  void set_overrun_listener(OverrunListener fn);

  [[nodiscard]] const Machine& machine() const noexcept { return machine_; }
  [[nodiscard]] std::size_t abandoned_threads() const noexcept;

 private:
  // All state lives in a shared block: an abandoned worker thread may return from its driver call
  // long after the agent is gone, and must still find valid (if useless) state to look at.
  struct State;
  std::shared_ptr<State> state_;
  Machine machine_;
};

}  // namespace ws
