// The one timeout rule for blocking device calls: three times the call's expected (scaled)
// duration plus one second, unless the recipe's `timeouts:` section sets the call's own.
#pragma once

#include "waferscan/recipe.hpp"

#include <chrono>

namespace ws {

/// How much longer than expected a call may take before the watchdog aborts it.
inline constexpr double kTimeoutFactor = 3.0;
inline constexpr std::chrono::milliseconds kTimeoutMargin{1000};
/// Abort paths (camera abort, stage stop, camera release) have no expected duration of their own.
inline constexpr std::chrono::milliseconds kAbortPathTimeout{2000};

/// No deadline is longer than this (the recipe's own bound on timeouts; see io/recipe.cpp).
inline constexpr std::chrono::milliseconds kMaxDeadline{3600000};

/// `ms` rounded up to whole milliseconds, saturating: NaN and negative values are 0, anything
/// above kMaxDeadline (infinity included) is kMaxDeadline. Never overflows.
[[nodiscard]] std::chrono::milliseconds saturating_ms(double ms) noexcept;

/// kTimeoutFactor * expected_ms + kTimeoutMargin, or `override_ms` when it is > 0; saturating at
/// kMaxDeadline.
[[nodiscard]] std::chrono::milliseconds call_timeout(double expected_ms, double override_ms = 0);

/// The deadline of every blocking device call of a run, from its recipe's timing and overrides.
struct DeviceTimeouts {
  std::chrono::milliseconds light{1000};    ///< light on and off
  std::chrono::milliseconds capture{1000};  ///< one exposure and readout
  std::chrono::milliseconds park{1000};     ///< the longest move across the travel, then settle
  std::chrono::milliseconds abort{kAbortPathTimeout};
  double move_ms_per_um = 0;  ///< scaled travel time per micrometre (0 when the recipe sets move)
  std::chrono::milliseconds move_base{1000};
  /// A move of `distance_um`: kTimeoutFactor * (travel + settle) + kTimeoutMargin.
  [[nodiscard]] std::chrono::milliseconds move(double distance_um) const;
  static DeviceTimeouts from(const Recipe& recipe);
};

}  // namespace ws
