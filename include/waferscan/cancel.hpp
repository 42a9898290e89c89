// The cancellation vocabulary: why a run stops, how hard, and how code observes it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace ws {

/// Why a run stopped. The first reason requested wins; later requests never change it.
enum class StopReason : std::uint8_t {
  none = 0,
  operator_request,  ///< an operator pressed Stop (API call, first SIGINT)
  shutdown,          ///< the process is asked to terminate (SIGTERM)
  emergency_stop,    ///< an interlock event from the machine
  timeout,           ///< a deadline or watchdog ran out
  fault,             ///< a hardware or monitor fault
};

/// How hard a stop is. `stop` admits no new site and lets frames in flight finish;
/// `abort` also abandons frames in flight (their sites end `incomplete`).
enum class StopStrength : std::uint8_t { none = 0, stop = 1, abort = 2 };

/// Stable lower-case name used in the store, events and JSON ("operator", "shutdown", ...).
std::string_view to_string(StopReason reason) noexcept;
std::string_view to_string(StopStrength strength) noexcept;
/// Inverse of to_string(StopReason); returns nullopt for an unknown name.
std::optional<StopReason> stop_reason_from_string(std::string_view name) noexcept;

/// What the first stop request said, and when it came.
struct StopInfo {
  StopReason reason = StopReason::none;
  StopStrength strength = StopStrength::none;  ///< current strength (may have escalated)
  std::chrono::steady_clock::time_point requested_at{};
  std::string origin;  ///< of the first request, free text: "SIGINT", "api", "drain deadline", ...
  std::string latest_origin;  ///< of the request that set the current strength (an escalation's)
};

namespace detail {
struct StopState;
}

/// A cheap, copyable view of one run's stop state. Default-constructed tokens never stop.
/// Thread safety: every member may be called from any thread concurrently.
class StopToken {
 public:
  StopToken() = default;
  /// True once a stop of any strength was requested.
  [[nodiscard]] bool stop_requested() const noexcept;
  /// True once the stop escalated to abort.
  [[nodiscard]] bool abort_requested() const noexcept;
  [[nodiscard]] StopStrength strength() const noexcept;
  /// The address of the strength flag; used by Checkpoint. Null for a default token.
  [[nodiscard]] const std::atomic<std::uint8_t>* strength_flag() const noexcept;

 private:
  friend class StopSource;
  explicit StopToken(std::shared_ptr<detail::StopState> state) : state_(std::move(state)) {}
  std::shared_ptr<detail::StopState> state_;
};

/// RAII registration of a stop callback; unregisters on destruction. After the destructor returns
/// the callback is not running and will never run again.
class StopCallback {
 public:
  StopCallback() = default;
  StopCallback(StopCallback&&) noexcept;
  StopCallback& operator=(StopCallback&&) noexcept;
  StopCallback(const StopCallback&) = delete;
  StopCallback& operator=(const StopCallback&) = delete;
  ~StopCallback();
  void reset();

 private:
  friend class StopSource;
  StopCallback(std::shared_ptr<detail::StopState> state, std::uint64_t id)
      : state_(std::move(state)), id_(id) {}
  std::shared_ptr<detail::StopState> state_;
  std::uint64_t id_ = 0;
};

/// One run's stop state. Created fresh for every run, so a stale request aimed at an earlier run
/// can never reach a later one.
///
/// @code
///   StopSource src;
///   auto cb = src.on_stop([&](StopStrength s) { camera.abort(); });
///   src.request(StopReason::operator_request, StopStrength::stop, "SIGINT");
///   // escalates; the first reason stays:
///   src.request(StopReason::shutdown, StopStrength::abort, "SIGINT x2");
/// @endcode
/// Thread safety: all members are safe to call concurrently from any thread. Callbacks run on the
/// requesting thread, outside the internal lock, once per escalation (stop, then abort).
class StopSource {
 public:
  StopSource();

  /// Requests a stop. The first request sets the reason and origin; a later one may only raise
  /// the strength (stop -> abort), and becomes the latest origin. Returns true if this call
  /// changed anything.
  bool request(StopReason reason, StopStrength strength, std::string origin = {});

  [[nodiscard]] StopToken token() const { return StopToken(state_); }
  [[nodiscard]] bool stop_requested() const noexcept { return token().stop_requested(); }
  [[nodiscard]] std::optional<StopInfo> info() const;

  /// Registers `fn`, called with the new strength on every escalation. If a stop was already
  /// requested, `fn` is called immediately (on this thread) with the current strength.
  [[nodiscard]] StopCallback on_stop(std::function<void(StopStrength)> fn);

 private:
  std::shared_ptr<detail::StopState> state_;
};

/// A kernel's view of cancellation: one relaxed atomic load. Kernels poll it between bands of rows
/// and return early when it fires. A default Checkpoint never fires (used to measure overhead and
/// for offline tools).
class Checkpoint {
 public:
  Checkpoint() = default;
  /// Fires when `token` reaches at least `at_least` (abort by default: a plain stop lets frames in
  /// flight finish, so kernels keep going).
  explicit Checkpoint(const StopToken& token, StopStrength at_least = StopStrength::abort) noexcept
      : flag_(token.strength_flag()), threshold_(static_cast<std::uint8_t>(at_least)) {}
  /// Fires when `flag` is at least `threshold`; for tests and benchmarks.
  Checkpoint(const std::atomic<std::uint8_t>* flag, std::uint8_t threshold) noexcept
      : flag_(flag), threshold_(threshold) {}

  [[nodiscard]] bool should_stop() const noexcept {
    return flag_ != nullptr && flag_->load(std::memory_order_relaxed) >= threshold_;
  }
  [[nodiscard]] bool enabled() const noexcept { return flag_ != nullptr; }

 private:
  const std::atomic<std::uint8_t>* flag_ = nullptr;
  std::uint8_t threshold_ = 2;
};

}  // namespace ws
