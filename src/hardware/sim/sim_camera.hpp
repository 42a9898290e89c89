// The simulated area camera: renders the die under the stage, then blocks for exposure + readout.
#pragma once

#include "hardware/sim/abortable_wait.hpp"
#include "hardware/sim/die_renderer.hpp"
#include "hardware/sim/fault_injector.hpp"
#include "waferscan/hardware.hpp"
#include "waferscan/recipe.hpp"
#include "waferscan/sim/sim_machine.hpp"

#include <atomic>
#include <memory>
#include <vector>

namespace ws::sim {

class SimStage;
class SimLight;

/// The die under the stage position: floor((x - die_origin_x) / pitch_x), same for y.
cv::Point die_at(const WaferGeometry& wafer, cv::Point2d stage_um);

/// capture() counts in `captures` (every call, aborted ones too) and is a busy call; abort() counts
/// in `camera_aborts`. The frame shows the light state at the start of the exposure.
/// Injected faults: every capture() and abort() call goes through `faults` first (see
/// FaultInjector); a corrupt frame is random bytes of half the recipe's width and height.
class SimCamera final : public Camera {
 public:
  SimCamera(const Recipe& recipe, std::shared_ptr<const DieRenderer> renderer,
            std::shared_ptr<const Stage> stage, std::shared_ptr<const Light> light,
            std::shared_ptr<SimCounters> counters, std::shared_ptr<FaultInjector> faults);

  cv::Mat capture() override;
  void abort() override;
  void release() override { acquiring_.store(false); }
  [[nodiscard]] bool acquiring() const override { return acquiring_.load(); }

  /// SimMachine::set_frame_pool(): capture k returns pool[k % size] itself (a Mat sharing its
  /// buffer) instead of a rendered die.
  void set_frame_pool(std::vector<cv::Mat> pool) { pool_ = std::move(pool); }

  /// Ends injected hangs, now and from now on (SimMachine::release_hangs()).
  void release_hangs() { wait_.release(); }

 private:
  [[nodiscard]] cv::Mat corrupt_frame(std::uint64_t call) const;

  WaferGeometry wafer_;
  CameraSpec spec_;
  double time_scale_;
  std::shared_ptr<const DieRenderer> renderer_;
  std::shared_ptr<const Stage> stage_;
  std::shared_ptr<const Light> light_;
  std::shared_ptr<SimCounters> counters_;
  std::shared_ptr<FaultInjector> faults_;
  std::uint64_t seed_;
  AbortableWait wait_;
  std::atomic<bool> acquiring_{false};
  std::vector<cv::Mat> pool_;  ///< set before runs; read only by capture() (the agent's thread)
  std::size_t pool_next_ = 0;
};

}  // namespace ws::sim
