#include "hardware/sim/sim_camera.hpp"

#include "hardware/sim/busy_scope.hpp"
#include "hardware/sim/sim_rng.hpp"
#include "waferscan/error.hpp"

#include <algorithm>
#include <cmath>

namespace ws::sim {

cv::Point die_at(const WaferGeometry& wafer, cv::Point2d stage_um) {
  return {
      static_cast<int>(std::floor((stage_um.x - wafer.die_origin_x_um) / wafer.die_pitch_x_um)),
      static_cast<int>(std::floor((stage_um.y - wafer.die_origin_y_um) / wafer.die_pitch_y_um))};
}

SimCamera::SimCamera(const Recipe& recipe, std::shared_ptr<const DieRenderer> renderer,
                     std::shared_ptr<const Stage> stage, std::shared_ptr<const Light> light,
                     std::shared_ptr<SimCounters> counters, std::shared_ptr<FaultInjector> faults)
    : wafer_(recipe.wafer),
      spec_(recipe.camera),
      time_scale_(recipe.time_scale),
      renderer_(std::move(renderer)),
      stage_(std::move(stage)),
      light_(std::move(light)),
      counters_(std::move(counters)),
      faults_(std::move(faults)),
      seed_(recipe.seed) {}

cv::Mat SimCamera::capture() {
  // Arm before becoming visibly busy: an abort() from anyone who saw us busy ends this capture.
  const AbortableWait::Ticket ticket = wait_.arm();
  ++counters_->captures;
  const BusyScope busy(*counters_);
  // After arm(): an interlock callback that aborts the camera ends this very capture.
  const CallFaults faults = faults_->on_call(FaultTarget::camera_capture);
  if (faults.error) throw HardwareError("injected fault: " + *faults.error);
  acquiring_.store(true);
  const Clock::time_point deadline =
      Clock::now() + scaled_duration(spec_.exposure_ms + spec_.readout_ms, time_scale_);
  // Rendering happens inside the exposure time, as a real sensor integrates during it.
  const cv::Point die = die_at(wafer_, stage_->position_um());
  cv::Mat frame;
  if (faults.corrupt_frame) {
    frame = corrupt_frame(faults.call);
  } else if (!pool_.empty()) {
    // In place, as a frame grabber hands out the DMA buffer it filled: no processor time, like
    // the hardware it stands for. The pipeline reads its frame and never writes it (each stage
    // writes a new image), so frames in flight may share a pool buffer.
    frame = pool_[pool_next_++ % pool_.size()];
  } else {
    frame = renderer_->render(die.x, die.y, light_->is_on());
  }
  if (!wait_call(wait_, ticket, deadline, faults, *counters_))
    throw HardwareAborted("camera: capture aborted");
  return frame;
}

void SimCamera::abort() {
  ++counters_->camera_aborts;
  if (abort_path(wait_, faults_->on_call(FaultTarget::camera_abort), *counters_)) wait_.abort();
}

cv::Mat SimCamera::corrupt_frame(std::uint64_t call) const {
  // The wrong size, so the pipeline's frame check flags it whatever the pixels say.
  cv::Mat garbage(std::max(1, spec_.height / 2), std::max(1, spec_.width / 2), CV_8UC1);
  Rng rng(mix64(seed_ ^ 0xC0BB0B7EULL) ^ call);
  for (int r = 0; r < garbage.rows; ++r) {
    auto* row = garbage.ptr<std::uint8_t>(r);
    for (int c = 0; c < garbage.cols; ++c) row[c] = static_cast<std::uint8_t>(rng.next() >> 56);
  }
  return garbage;
}

}  // namespace ws::sim
