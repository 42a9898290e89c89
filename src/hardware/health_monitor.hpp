// The health monitor: a background loop that reads the machine's temperature sensor on a period
// and reports alarms. Its wait is cancellable, so stopping it is prompt whatever the period.
#pragma once

#include "waferscan/hardware.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace ws {

/// What the monitor reports. Alarms are edge-triggered: one `alarm` when a reading goes over the
/// limit, one `cleared` when a reading is back below limit - hysteresis, one `sensor_error` when
/// the sensor starts failing (and `cleared` once it reads again, if no temperature alarm stands).
struct HealthEvent {
  enum class Kind { alarm, cleared, sensor_error };
  Kind kind = Kind::alarm;
  double temperature_c = 0;  ///< the reading (0 for sensor_error)
  double limit_c = 0;
  std::string message;  ///< "temperature 64.2 C over the limit of 45 C", "sensor: ..."
};

[[nodiscard]] const char* to_string(HealthEvent::Kind kind) noexcept;

class HealthMonitor {
 public:
  struct Options {
    std::chrono::milliseconds period{500};
    double temperature_limit_c = 45.0;
    double hysteresis_c = 2.0;
  };
  struct Stats {
    std::uint64_t readings = 0;
    std::uint64_t alarms = 0;  ///< alarm and sensor_error events
    std::uint64_t sensor_errors = 0;
    double max_temperature_c = 0;  ///< highest reading (0 before the first)
  };
  using Listener = std::function<void(const HealthEvent&)>;

  /// Takes a first reading on the calling thread (so its alarm, if any, is reported before the
  /// constructor returns), then starts the loop: one reading per period. `listener` is called on
  /// the thread that took the reading; it must not call stop() or destroy the monitor.
  HealthMonitor(std::shared_ptr<HealthSensor> sensor, Options options, Listener listener);
  /// stop().
  ~HealthMonitor();
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;

  /// Ends the loop: wakes its wait at once and joins the thread (after a reading or a listener
  /// call in progress returns). Idempotent; safe from any thread but the monitor's own.
  void stop();

  [[nodiscard]] Stats stats() const;

 private:
  void loop();
  void take_reading();

  std::shared_ptr<HealthSensor> sensor_;
  Options options_;
  Listener listener_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  Stats stats_;
  bool over_limit_ = false;     // monitor thread only
  bool sensor_failed_ = false;  // monitor thread only
  std::thread thread_;
};

}  // namespace ws
