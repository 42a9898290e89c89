#include "hardware/sim/sim_stage.hpp"

#include "hardware/sim/busy_scope.hpp"
#include "waferscan/error.hpp"

#include <cmath>
#include <string>

namespace ws::sim {

namespace {

// Built with append: GCC 12 reports a false -Wrestrict on long operator+ chains of strings.
std::string message(const std::string& what, cv::Point2d target, const char* outcome) {
  std::string out = "stage: ";
  out.append(what).append(" to (").append(std::to_string(target.x)).append(", ");
  out.append(std::to_string(target.y)).append(") um ").append(outcome);
  return out;
}

}  // namespace

SimStage::SimStage(const StageSpec& spec, double time_scale, std::shared_ptr<SimCounters> counters,
                   std::shared_ptr<FaultInjector> faults)
    : spec_(spec),
      time_scale_(time_scale),
      counters_(std::move(counters)),
      faults_(std::move(faults)),
      from_(spec.park_x_um, spec.park_y_um),
      to_(from_) {}

void SimStage::move_to(double x_um, double y_um) {
  const cv::Point2d target(x_um, y_um);
  travel(target, Motion::move, faults_->on_call(FaultTarget::stage_move, target));
}

void SimStage::park() {
  ++counters_->parks;
  const CallFaults faults = faults_->on_call(FaultTarget::stage_park);
  if (parked() && !faults.any()) return;
  travel({spec_.park_x_um, spec_.park_y_um}, Motion::park, faults);
}

void SimStage::travel(cv::Point2d target, Motion motion, const CallFaults& faults) {
  const std::string what = motion == Motion::move ? "move" : "park";
  if (faults.error) throw HardwareError("injected fault: " + *faults.error);
  // The comparison is written so NaN fails it too.
  if (!(target.x >= spec_.x_min_um && target.x <= spec_.x_max_um && target.y >= spec_.y_min_um &&
        target.y <= spec_.y_max_um))
    throw HardwareError(message(what, target, "is outside the travel limits"));
  if (motion == Motion::move) ++counters_->moves;

  // Arm before becoming visibly busy: a stop() from anyone who saw us busy ends this move.
  const AbortableWait::Ticket ticket = wait_.arm();
  const BusyScope busy(*counters_);
  Clock::time_point deadline;
  {
    const std::lock_guard lock(mutex_);
    const Clock::time_point now = Clock::now();
    from_ = position_locked(now);
    to_ = target;
    start_ = now;
    const double distance = std::hypot(to_.x - from_.x, to_.y - from_.y);
    const double travel_ms =
        spec_.speed_um_per_s > 0.0 ? distance / spec_.speed_um_per_s * 1e3 : 0.0;
    travel_time_ = scaled_duration(travel_ms, time_scale_);
    deadline = now + travel_time_ + scaled_duration(spec_.settle_ms, time_scale_);
    moving_ = true;
  }
  // Decelerate and hold where the stage is now (the target if it was already settling); also when
  // release_hangs() ends an injected hang, which throws from wait_call.
  const auto hold = [&](bool done) {
    const std::lock_guard lock(mutex_);
    const cv::Point2d held = done ? to_ : position_locked(Clock::now());
    from_ = to_ = held;
    moving_ = false;
  };
  bool completed = false;
  try {
    completed = wait_call(wait_, ticket, deadline, faults, *counters_);
  } catch (...) {
    hold(false);
    throw;
  }
  hold(completed);
  if (!completed) throw HardwareAborted(message(what, target, "was stopped before it completed"));
}

void SimStage::stop() {
  ++counters_->stage_stops;
  if (abort_path(wait_, faults_->on_call(FaultTarget::stage_stop), *counters_)) wait_.abort();
}

cv::Point2d SimStage::commanded_um() const {
  const std::lock_guard lock(mutex_);
  return to_;
}

bool SimStage::parked() const {
  const std::lock_guard lock(mutex_);
  return !moving_ && from_.x == spec_.park_x_um && from_.y == spec_.park_y_um;
}

cv::Point2d SimStage::position_um() const {
  const std::lock_guard lock(mutex_);
  return position_locked(Clock::now());
}

cv::Point2d SimStage::position_locked(Clock::time_point now) const {
  if (!moving_) return from_;
  if (travel_time_ <= Clock::duration::zero() || now >= start_ + travel_time_) return to_;
  const double t =
      std::chrono::duration<double>(now - start_) / std::chrono::duration<double>(travel_time_);
  return from_ + (to_ - from_) * t;
}

}  // namespace ws::sim
