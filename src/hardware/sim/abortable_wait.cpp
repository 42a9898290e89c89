#include "hardware/sim/abortable_wait.hpp"

#include <algorithm>
#include <cmath>

namespace ws::sim {

Clock::duration scaled_duration(double ms, double time_scale) noexcept {
  const double scaled_ms = ms * time_scale;
  if (!(scaled_ms > 0.0)) return Clock::duration::zero();  // also catches NaN
  constexpr double year_ms = 365.0 * 24.0 * 3600.0 * 1000.0;
  const std::chrono::duration<double, std::milli> d(std::min(scaled_ms, year_ms));
  return std::chrono::duration_cast<Clock::duration>(d);
}

AbortableWait::Ticket AbortableWait::arm() const {
  const std::lock_guard lock(mutex_);
  return generation_;
}

bool AbortableWait::aborted_since(Ticket ticket) const {
  const std::lock_guard lock(mutex_);
  return generation_ != ticket;
}

bool AbortableWait::wait_until(Ticket ticket, Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  // wait_until with a predicate handles spurious wakeups and returns at once when the deadline is
  // already past (time_scale 0), still reporting an abort that landed after arm().
  const bool aborted = cv_.wait_until(lock, deadline, [&] { return generation_ != ticket; });
  return !aborted;
}

WaitEnd AbortableWait::wait(Ticket ticket, std::optional<Clock::time_point> deadline,
                            WaitRules rules) {
  std::unique_lock lock(mutex_);
  const auto ended = [&] {
    return (rules.abortable && generation_ != ticket) || (rules.releasable && released_);
  };
  if (deadline) {
    if (!cv_.wait_until(lock, *deadline, ended)) return WaitEnd::deadline;
  } else {
    cv_.wait(lock, ended);
  }
  return rules.abortable && generation_ != ticket ? WaitEnd::aborted : WaitEnd::released;
}

void AbortableWait::release() {
  {
    const std::lock_guard lock(mutex_);
    released_ = true;
  }
  cv_.notify_all();
}

void AbortableWait::abort() {
  {
    const std::lock_guard lock(mutex_);
    ++generation_;
  }
  cv_.notify_all();
}

}  // namespace ws::sim
