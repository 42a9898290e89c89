#include "hardware/timeout_policy.hpp"

#include <algorithm>
#include <cmath>

namespace ws {

using std::chrono::milliseconds;

milliseconds saturating_ms(double ms) noexcept {
  if (!(ms > 0)) return milliseconds(0);  // NaN too
  const auto max = static_cast<double>(kMaxDeadline.count());
  if (!(ms < max)) return kMaxDeadline;
  return milliseconds(static_cast<milliseconds::rep>(std::ceil(ms)));
}

milliseconds call_timeout(double expected_ms, double override_ms) {
  if (override_ms > 0) return saturating_ms(override_ms);
  return std::min(kMaxDeadline, kTimeoutMargin + saturating_ms(kTimeoutFactor * expected_ms));
}

milliseconds DeviceTimeouts::move(double distance_um) const {
  return std::min(kMaxDeadline,
                  move_base + saturating_ms(kTimeoutFactor * move_ms_per_um * distance_um));
}

DeviceTimeouts DeviceTimeouts::from(const Recipe& r) {
  DeviceTimeouts t;
  const double scale = r.time_scale;
  const TimeoutSpec& o = r.timeouts;  // recipe overrides; 0 = derived from the timing
  t.light = call_timeout(scale * r.light.switch_ms, o.light_ms);
  t.capture = call_timeout(scale * (r.camera.exposure_ms + r.camera.readout_ms), o.capture_ms);
  t.move_ms_per_um = o.move_ms > 0 ? 0.0 : scale * 1000.0 / r.stage.speed_um_per_s;
  t.move_base = call_timeout(scale * r.stage.settle_ms, o.move_ms);
  const double travel_um =
      std::hypot(r.stage.x_max_um - r.stage.x_min_um, r.stage.y_max_um - r.stage.y_min_um);
  t.park = call_timeout(scale * (1000.0 * travel_um / r.stage.speed_um_per_s + r.stage.settle_ms),
                        o.park_ms);
  t.abort = o.abort_ms > 0 ? call_timeout(0, o.abort_ms) : kAbortPathTimeout;
  return t;
}

}  // namespace ws
