#include "hardware/sim/sim_camera.hpp"

#include "hardware/sim/busy_scope.hpp"
#include "waferscan/error.hpp"

#include <cmath>

namespace ws::sim {

cv::Point die_at(const WaferSpec& wafer, cv::Point2d stage_um) {
  return {
      static_cast<int>(std::floor((stage_um.x - wafer.die_origin_x_um) / wafer.die_pitch_x_um)),
      static_cast<int>(std::floor((stage_um.y - wafer.die_origin_y_um) / wafer.die_pitch_y_um))};
}

SimCamera::SimCamera(const Recipe& recipe, std::shared_ptr<const DieRenderer> renderer,
                     std::shared_ptr<const Stage> stage, std::shared_ptr<const Light> light,
                     std::shared_ptr<SimCounters> counters)
    : wafer_(recipe.wafer),
      spec_(recipe.camera),
      time_scale_(recipe.time_scale),
      renderer_(std::move(renderer)),
      stage_(std::move(stage)),
      light_(std::move(light)),
      counters_(std::move(counters)) {}

cv::Mat SimCamera::capture() {
  // Arm before becoming visibly busy: an abort() from anyone who saw us busy ends this capture.
  const AbortableWait::Ticket ticket = wait_.arm();
  ++counters_->captures;
  const BusyScope busy(*counters_);
  acquiring_.store(true);
  const Clock::time_point deadline =
      Clock::now() + scaled_duration(spec_.exposure_ms + spec_.readout_ms, time_scale_);
  // Rendering happens inside the exposure time, as a real sensor integrates during it.
  const cv::Point die = die_at(wafer_, stage_->position_um());
  cv::Mat frame = renderer_->render(die.x, die.y, light_->is_on());
  if (!wait_.wait_until(ticket, deadline)) throw HardwareAborted("camera: capture aborted");
  return frame;
}

void SimCamera::abort() {
  ++counters_->camera_aborts;
  wait_.abort();
}

}  // namespace ws::sim
