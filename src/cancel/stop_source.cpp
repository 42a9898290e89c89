#include "waferscan/cancel.hpp"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace ws {

namespace detail {
struct StopState {
  std::atomic<std::uint8_t> strength{0};
  std::mutex mutex;
  StopReason reason = StopReason::none;
  std::chrono::steady_clock::time_point requested_at{};
  std::string origin;
  std::string latest_origin;
  std::uint64_t next_id = 1;
  std::map<std::uint64_t, std::function<void(StopStrength)>> callbacks;
  // Callbacks being invoked right now, with the invoking thread: one thread invokes callbacks at a
  // time (nested requests from inside a callback run on that same thread), and unregistering waits
  // for an invocation on another thread to finish.
  std::vector<std::pair<std::uint64_t, std::thread::id>> running;
  std::condition_variable_any done;

  bool others_running(std::thread::id self) const {
    for (const auto& [id, thread] : running) {
      if (thread != self) return true;
    }
    return false;
  }
  bool running_elsewhere(std::uint64_t cb, std::thread::id self) const {
    for (const auto& [id, thread] : running) {
      if (id == cb && thread != self) return true;
    }
    return false;
  }
};
}  // namespace detail

bool StopToken::stop_requested() const noexcept {
  return state_ && state_->strength.load(std::memory_order_acquire) != 0;
}
bool StopToken::abort_requested() const noexcept {
  return state_ && state_->strength.load(std::memory_order_acquire) >=
                       static_cast<std::uint8_t>(StopStrength::abort);
}
StopStrength StopToken::strength() const noexcept {
  return state_ ? static_cast<StopStrength>(state_->strength.load(std::memory_order_acquire))
                : StopStrength::none;
}
const std::atomic<std::uint8_t>* StopToken::strength_flag() const noexcept {
  return state_ ? &state_->strength : nullptr;
}

StopSource::StopSource() : state_(std::make_shared<detail::StopState>()) {}

bool StopSource::request(StopReason reason, StopStrength strength, std::string origin) {
  if (strength == StopStrength::none) return false;
  std::vector<std::pair<std::uint64_t, std::function<void(StopStrength)>>> to_call;
  {
    std::lock_guard lock(state_->mutex);
    const auto current = static_cast<StopStrength>(state_->strength.load());
    if (strength <= current) return false;
    if (state_->reason == StopReason::none) {
      state_->reason = reason;
      state_->requested_at = std::chrono::steady_clock::now();
      state_->origin = origin;
    }
    state_->latest_origin = std::move(origin);
    state_->strength.store(static_cast<std::uint8_t>(strength), std::memory_order_release);
    to_call.assign(state_->callbacks.begin(), state_->callbacks.end());
  }
  // Callbacks run outside the lock so they may call back into this source (e.g. escalate).
  const auto self = std::this_thread::get_id();
  for (auto& [id, fn] : to_call) {
    {
      std::unique_lock lock(state_->mutex);
      state_->done.wait(lock, [&] { return !state_->others_running(self); });
      if (state_->callbacks.find(id) == state_->callbacks.end()) continue;  // unregistered
      state_->running.emplace_back(id, self);
    }
    // A callback that throws (a journal on a full disk) must neither leave its entry in
    // `running`, which would block every later unregistration for good, nor keep the callbacks
    // after it from running: the stop stands, and callbacks report their own failures.
    try {
      fn(strength);
    } catch (...) {
    }
    {
      std::lock_guard lock(state_->mutex);
      auto& r = state_->running;
      r.erase(std::find(r.begin(), r.end(), std::make_pair(id, self)));
    }
    state_->done.notify_all();
  }
  return true;
}

std::optional<StopInfo> StopSource::info() const {
  std::lock_guard lock(state_->mutex);
  if (state_->reason == StopReason::none) return std::nullopt;
  return StopInfo{state_->reason, static_cast<StopStrength>(state_->strength.load()),
                  state_->requested_at, state_->origin, state_->latest_origin};
}

StopCallback StopSource::on_stop(std::function<void(StopStrength)> fn) {
  std::uint64_t id = 0;
  StopStrength now = StopStrength::none;
  {
    std::lock_guard lock(state_->mutex);
    id = state_->next_id++;
    state_->callbacks.emplace(id, fn);
    now = static_cast<StopStrength>(state_->strength.load());
  }
  if (now != StopStrength::none) fn(now);
  return StopCallback(state_, id);
}

StopCallback::StopCallback(StopCallback&& other) noexcept
    : state_(std::move(other.state_)), id_(std::exchange(other.id_, 0)) {}

StopCallback& StopCallback::operator=(StopCallback&& other) noexcept {
  if (this != &other) {
    reset();
    state_ = std::move(other.state_);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

StopCallback::~StopCallback() {
  reset();
}

void StopCallback::reset() {
  if (!state_) return;
  {
    std::unique_lock lock(state_->mutex);
    state_->callbacks.erase(id_);
    // If another thread is inside this callback, wait until it returns; a callback that
    // unregisters itself must not wait for itself.
    const auto self = std::this_thread::get_id();
    state_->done.wait(lock, [&] { return !state_->running_elsewhere(id_, self); });
  }
  state_.reset();
  id_ = 0;
}

}  // namespace ws
