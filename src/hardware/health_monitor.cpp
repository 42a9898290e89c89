#include "hardware/health_monitor.hpp"

#include <algorithm>
#include <cstdio>
#include <exception>

namespace ws {

namespace {
std::string degrees(double c) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f C", c);
  return buf;
}
}  // namespace

const char* to_string(HealthEvent::Kind kind) noexcept {
  switch (kind) {
    case HealthEvent::Kind::alarm:
      return "alarm";
    case HealthEvent::Kind::cleared:
      return "cleared";
    case HealthEvent::Kind::sensor_error:
      return "sensor_error";
  }
  return "?";
}

HealthMonitor::HealthMonitor(std::shared_ptr<HealthSensor> sensor, Options options,
                             Listener listener)
    : sensor_(std::move(sensor)), options_(options), listener_(std::move(listener)) {
  take_reading();  // here, so a machine already over its limit is known before the run starts
  thread_ = std::thread([this] { loop(); });
}

HealthMonitor::~HealthMonitor() {
  stop();
}

void HealthMonitor::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

HealthMonitor::Stats HealthMonitor::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void HealthMonitor::loop() {
  std::unique_lock lock(mutex_);
  // The cancellable wait: stop() ends it at once, whatever the period.
  while (!wake_.wait_for(lock, options_.period, [this] { return stopping_; })) {
    lock.unlock();
    take_reading();
    lock.lock();
  }
}

void HealthMonitor::take_reading() {
  HealthEvent event;
  event.limit_c = options_.temperature_limit_c;
  bool report = false;
  try {
    const double t = sensor_->temperature_c();
    {
      std::lock_guard lock(mutex_);
      stats_.max_temperature_c = stats_.readings == 0 ? t : std::max(stats_.max_temperature_c, t);
      ++stats_.readings;
    }
    event.temperature_c = t;
    if (!over_limit_ && t > options_.temperature_limit_c) {
      over_limit_ = true;
      report = true;
      event.kind = HealthEvent::Kind::alarm;
      event.message = "temperature " + degrees(t) + " over the limit of " +
                      degrees(options_.temperature_limit_c);
    } else if (over_limit_ && t < options_.temperature_limit_c - options_.hysteresis_c) {
      over_limit_ = false;
      report = true;
      event.kind = HealthEvent::Kind::cleared;
      event.message = "temperature " + degrees(t) + " back under the limit";
    } else if (sensor_failed_ && !over_limit_) {
      report = true;
      event.kind = HealthEvent::Kind::cleared;
      event.message = "sensor reads again: " + degrees(t);
    }
    sensor_failed_ = false;
  } catch (const std::exception& e) {
    {
      std::lock_guard lock(mutex_);
      ++stats_.sensor_errors;
    }
    if (!sensor_failed_) {
      sensor_failed_ = true;
      report = true;
      event.kind = HealthEvent::Kind::sensor_error;
      event.message = std::string("cannot read the temperature sensor: ") + e.what();
    }
  }
  if (!report) return;
  if (event.kind != HealthEvent::Kind::cleared) {
    std::lock_guard lock(mutex_);
    ++stats_.alarms;
  }
  // A listener that throws must not end the loop (nor the process: this is its own thread).
  try {
    if (listener_) listener_(event);
  } catch (...) {
  }
}

}  // namespace ws
