// A timed wait that another thread can cut short: the simulated drivers' "busy for N ms".
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace ws::sim {

using Clock = std::chrono::steady_clock;

/// `ms` milliseconds of device time scaled by `time_scale` (0 = instant), clamped to a year so a
/// huge simulated exposure cannot overflow a time_point.
Clock::duration scaled_duration(double ms, double time_scale) noexcept;

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
  /// Ends every wait armed before this call, now. Never blocks for long.
  void abort();

 private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::uint64_t generation_ = 0;
};

}  // namespace ws::sim
