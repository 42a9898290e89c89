// A timed wait that another thread can cut short: the simulated drivers' "busy for N ms".
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>

namespace ws::sim {

using Clock = std::chrono::steady_clock;

/// `ms` milliseconds of device time scaled by `time_scale` (0 = instant), clamped to a year so a
/// huge simulated exposure cannot overflow a time_point.
Clock::duration scaled_duration(double ms, double time_scale) noexcept;

/// How a wait under an injected fault may end besides its deadline.
struct WaitRules {
  bool abortable = true;    ///< abort() ends it (false: an injected ignore_abort)
  bool releasable = false;  ///< release() ends it (an injected hang or ignore_abort)
};

/// Why a wait ended.
enum class WaitEnd { deadline, aborted, released };

/// Waits until a deadline unless abort() is called. An abort only ends waits armed before it: an
/// abort while idle is harmless and does not cut the next wait short.
/// Thread safety: all members are safe from any thread.
class AbortableWait {
 public:
  using Ticket = std::uint64_t;

  /// Call before the blocking call becomes observable as busy: an abort() after arm() ends the
  /// wait made with this ticket, even when it lands before wait_until() starts.
  [[nodiscard]] Ticket arm() const;
  /// Returns true when the deadline passed, false when abort() was called since arm().
  [[nodiscard]] bool wait_until(Ticket ticket, Clock::time_point deadline);
  /// The general form, for calls under an injected fault: no deadline waits for ever (a hang);
  /// `rules` say whether abort() and release() end it. A releasable wait started after release()
  /// ends at once.
  [[nodiscard]] WaitEnd wait(Ticket ticket, std::optional<Clock::time_point> deadline,
                             WaitRules rules);
  /// True when abort() was called since arm() returned `ticket`: for work a call does between its
  /// waits (a camera's readout), so an abort ends that too.
  [[nodiscard]] bool aborted_since(Ticket ticket) const;
  /// Ends every wait armed before this call, now. Never blocks for long.
  void abort();
  /// Ends every releasable wait, now and from now on (sticky): the simulator's release_hangs().
  void release();

 private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::uint64_t generation_ = 0;
  bool released_ = false;
};

}  // namespace ws::sim
