// The simulated machine's fault injection: numbers every device call, matches it against the
// FaultSpecs, and tells the device what to do; raises the interlock.
#pragma once

#include "hardware/sim/abortable_wait.hpp"
#include "waferscan/recipe.hpp"
#include "waferscan/sim/fault_spec.hpp"
#include "waferscan/sim/sim_machine.hpp"

#include <opencv2/core.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ws::sim {

/// What the faults say about one device call. Each text is the canonical spec that fired, for
/// messages ("injected fault: camera.capture=hang@site:3").
struct CallFaults {
  std::optional<std::string> error;          ///< throw HardwareError
  std::optional<std::string> hang;           ///< block until abort (or release)
  std::optional<std::string> ignore_abort;   ///< aborts do not end this call / this abort is inert
  std::uint64_t slow_ms = 0;                 ///< extra literal milliseconds (summed)
  std::optional<std::string> corrupt_frame;  ///< capture only: return a wrong-size frame
  std::uint64_t call = 0;                    ///< the call's 1-based number for its target

  [[nodiscard]] bool any() const noexcept {
    return error || hang || ignore_abort || slow_ms > 0 || corrupt_frame;
  }
  /// Waits of this call end on release_hangs(): nothing else may end them.
  [[nodiscard]] bool releasable() const noexcept { return hang || ignore_abort; }
};

/// Deterministic from the recipe's seed: the same calls in the same order fire the same faults.
/// Thread safety: all members are safe from any thread.
class FaultInjector {
 public:
  FaultInjector(const Recipe& recipe, std::shared_ptr<SimCounters> counters);

  /// Adds a fault. Throws ConfigError(file, 0, key, ...) when a site:N names no site of the
  /// recipe (key is "--inject" when file is empty).
  void add(const FaultSpec& fault, const std::string& file, const std::string& key);
  [[nodiscard]] std::vector<FaultSpec> faults_for(std::string_view target) const;

  /// Where the stage is commanded to be (its last move's target), for site:N of calls other than
  /// stage.move. Set once, before any device call.
  void set_position_source(std::function<cv::Point2d()> source);

  /// Numbers this call of `target` (a device call) and returns the faults that apply to it. For
  /// stage.move pass the move's target position; other calls use the position source (called
  /// under this object's lock, so it must not call back in here). A capture
  /// also matches machine.estop (raising the interlock here, on the calling thread, before it
  /// returns) and frame.corrupt, counting captures as their calls. Counts what fired.
  CallFaults on_call(FaultTarget target, std::optional<cv::Point2d> position = std::nullopt);

  /// Numbers one health-sensor reading (a machine.overheat call) and returns the overheat spec that
  /// fired, now or earlier: once fired it stays (the machine does not cool down on its own). A
  /// machine.overheat with site:N fires when the stage is commanded to site N (see on_call), so a
  /// fast run cannot slip past it between two readings.
  std::optional<std::string> on_reading();

  void on_interlock(std::function<void(std::string)> callback);
  void trigger_interlock(const std::string& reason);

 private:
  struct Entry {
    FaultSpec spec;
    std::string text;      // canonical spec, for messages
    FaultMatcher matcher;  // when it fires: the one rule of fault_spec.hpp
  };
  [[nodiscard]] bool applies(const Entry& e, std::uint64_t call,
                             std::optional<cv::Point2d> position) const;

  std::vector<cv::Point2d> site_positions_;  // by site index: a site:N fault's place (not names)
  std::uint64_t seed_;
  std::shared_ptr<SimCounters> counters_;

  mutable std::mutex mutex_;  // guards everything below
  std::vector<Entry> faults_;
  std::array<std::uint64_t, 11> calls_{};  // per FaultTarget
  std::optional<std::string> overheated_;  // the machine.overheat spec that fired (sticky)
  std::function<cv::Point2d()> position_source_;
  std::function<void(std::string)> interlock_;
};

/// The wait of a blocking device call (capture, move, park, lamp switch) under `faults`: until
/// `deadline` plus the injected slow time, or for ever on a hang; aborts end it unless an
/// ignore_abort fired; release_hangs() ends it when a hang or ignore_abort fired, and then it
/// throws HardwareError("injected fault: SPEC: released by release_hangs()"). Returns true when the
/// call completed, false when it was aborted.
bool wait_call(AbortableWait& wait, AbortableWait::Ticket ticket, Clock::time_point deadline,
               const CallFaults& faults, SimCounters& counters);

/// An abort path (camera.abort, stage.stop) under `faults`: throws HardwareError on an injected
/// error; blocks until release_hangs() on a hang; waits the slow time; and returns whether the
/// abort should now take effect (false after a hang or an ignore_abort: the call did nothing).
bool abort_path(AbortableWait& wait, const CallFaults& faults, SimCounters& counters);

}  // namespace ws::sim
