#include "run/stop_wiring.hpp"

#include "hardware/timeout_policy.hpp"

#include <spdlog/spdlog.h>

namespace ws {

using std::chrono::milliseconds;

DrainWatch::DrainWatch(StopSource& source, milliseconds drain) : source_(source), drain_(drain) {
  thread_ = std::thread([this] { loop(); });
}

DrainWatch::~DrainWatch() {
  finish();
  thread_.join();
}

void DrainWatch::finish() {
  {
    std::lock_guard lock(mutex_);
    finished_ = true;
  }
  cv_.notify_all();
}

void DrainWatch::poke() {
  { std::lock_guard lock(mutex_); }  // no lost wake-up between the waiter's check and its wait
  cv_.notify_all();
}

void DrainWatch::loop() {
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [&] { return finished_ || source_.stop_requested(); });
  if (finished_) return;
  const auto info = source_.info();
  const auto deadline = (info ? info->requested_at : std::chrono::steady_clock::now()) + drain_;
  if (!cv_.wait_until(lock, deadline, [&] { return finished_; })) {
    lock.unlock();
    source_.request(StopReason::timeout, StopStrength::abort, "drain deadline");
  }
}

StopWiring::StopWiring(std::shared_ptr<StopSource> stop, Journal& journal, HardwareAgent& agent,
                       const Recipe& recipe)
    : stop_(std::move(stop)),
      journal_(journal),
      agent_(agent),
      drain_(*stop_, saturating_ms(recipe.drain_timeout_ms)) {
  // Every request (and escalation) is journaled while the run is active, safe-stop included.
  journal_stops_ = stop_->on_stop([this](StopStrength s) {
    if (auto info = stop_->info()) {
      // The origin is this request's: an escalation names the signal or deadline that escalated.
      nlohmann::json f = {{"reason", to_string(info->reason)},
                          {"strength", to_string(s)},
                          {"origin", info->latest_origin}};
      if (info->latest_origin != info->origin) f["first_origin"] = info->origin;
      try {
        journal_.event("stop_requested", std::move(f));
      } catch (const std::exception& e) {  // the stop stands, journalled or not
        spdlog::warn("cannot journal the stop request: {}", e.what());
      }
    }
  });
  // The watchdog reports on its own thread: journal it, and end the run on a fault.
  agent_.set_overrun_listener([this](Device d, const std::string& what) {
    journal_.event("hardware", {{"device", to_string(d)}, {"state", "overrun"}, {"call", what}});
  });
  agent_.set_fault_listener([this](Device d, const std::string& why) {
    journal_.event("hardware", {{"device", to_string(d)}, {"state", "faulted"}, {"reason", why}});
    stop_->request(StopReason::timeout, StopStrength::abort,
                   std::string(to_string(d)) + " faulted");
  });
  start_monitor(recipe);
}

StopWiring::~StopWiring() {
  if (monitor_) monitor_->stop();
  unhook();
}

// The health monitor runs from the run's start until the safe-stop sequence has finished.
void StopWiring::start_monitor(const Recipe& recipe) {
  const auto& sensor = agent_.machine().health;
  if (!sensor || recipe.monitor.period_ms <= 0) return;
  HealthMonitor::Options options;
  options.period = saturating_ms(recipe.monitor.period_ms);
  options.temperature_limit_c = recipe.monitor.temperature_limit_c;
  options.hysteresis_c = recipe.monitor.hysteresis_c;
  monitor_ = std::make_unique<HealthMonitor>(
      sensor, options, [this, action = recipe.monitor.on_alarm](const HealthEvent& e) {
        nlohmann::json f = {
            {"kind", to_string(e.kind)}, {"limit_c", e.limit_c}, {"message", e.message}};
        if (e.kind != HealthEvent::Kind::sensor_error) f["temperature_c"] = e.temperature_c;
        journal_.event("alarm", std::move(f));
        // A sensor that cannot be read is no safer than one over its limit.
        if (e.kind == HealthEvent::Kind::cleared || action == AlarmAction::record) return;
        stop_->request(StopReason::fault,
                       action == AlarmAction::abort ? StopStrength::abort : StopStrength::stop,
                       "health monitor: " + e.message);
      });
}

StopCallback StopWiring::fan_out_to(pipeline::InspectionGraph& graph) {
  const Machine& m = agent_.machine();
  return stop_->on_stop([this, &graph, camera = m.camera, stage = m.stage](StopStrength s) {
    drain_.poke();
    // No new site starts: queued acquisitions leave the graph as not_started.
    agent_.drop_pending();
    if (s != StopStrength::abort) return;
    graph.cancel();
    // Driver abort paths may fail; that must not keep the other one from being called or escape
    // into whichever thread requested the stop. The safe-stop sequence calls them again.
    try {
      if (camera) camera->abort();  // null when reprocessing a recorded set
    } catch (const std::exception& e) {
      spdlog::warn("camera abort failed: {}", e.what());
    }
    try {
      if (stage) stage->stop();
    } catch (const std::exception& e) {
      spdlog::warn("stage stop failed: {}", e.what());
    }
  });
}

void StopWiring::body_failed(std::string_view node, const std::string& what) {
  record_failure(std::string(node) + ": " + what);
  stop_->request(StopReason::fault, StopStrength::abort, "exception in " + std::string(node));
}

void StopWiring::record_failure(const std::string& what) {
  std::lock_guard lock(failure_mutex_);
  if (failure_.empty()) failure_ = what;
}

std::string StopWiring::failure() const {
  std::lock_guard lock(failure_mutex_);
  return failure_;
}

void StopWiring::finish_monitor() {
  if (!monitor_) return;
  monitor_->stop();
  const auto h = monitor_->stats();
  journal_.event("monitor", {{"readings", h.readings},
                             {"max_temperature_c", h.max_temperature_c},
                             {"alarms", h.alarms},
                             {"sensor_errors", h.sensor_errors}});
}

void StopWiring::unhook() {
  journal_stops_.reset();
  agent_.set_overrun_listener({});
  agent_.set_fault_listener({});
}

}  // namespace ws
