// The simulated XY stage: straight-line moves at constant speed, then settle; stop() cuts a move
// short where the stage is at that moment.
#pragma once

#include "hardware/sim/abortable_wait.hpp"
#include "hardware/sim/fault_injector.hpp"
#include "waferscan/hardware.hpp"
#include "waferscan/recipe.hpp"
#include "waferscan/sim/sim_machine.hpp"

#include <memory>
#include <mutex>

namespace ws::sim {

/// Starts parked. A move takes distance / speed + settle_ms, times time_scale.
/// Counters: `moves` counts accepted move_to() calls (not the rejected out-of-travel ones),
/// `parks` every park() call, `stage_stops` every stop() call; move_to() and park() are busy calls.
/// Injected faults: every move_to(), park() and stop() call goes through `faults` first (see
/// FaultInjector); a park() with a fault on it runs even when already parked.
class SimStage final : public Stage {
 public:
  SimStage(const StageSpec& spec, double time_scale, std::shared_ptr<SimCounters> counters,
           std::shared_ptr<FaultInjector> faults);

  void move_to(double x_um, double y_um) override;
  void stop() override;
  void park() override;
  [[nodiscard]] bool parked() const override;
  [[nodiscard]] cv::Point2d position_um() const override;

  /// Where the stage was last commanded to go (the target of the move in progress, if any).
  [[nodiscard]] cv::Point2d commanded_um() const;
  /// Ends injected hangs, now and from now on (SimMachine::release_hangs()).
  void release_hangs() { wait_.release(); }

 private:
  enum class Motion { move, park };
  void travel(cv::Point2d target, Motion motion, const CallFaults& faults);
  [[nodiscard]] cv::Point2d position_locked(Clock::time_point now) const;

  StageSpec spec_;
  double time_scale_;
  std::shared_ptr<SimCounters> counters_;
  std::shared_ptr<FaultInjector> faults_;
  AbortableWait wait_;

  mutable std::mutex mutex_;  // guards the motion state below
  cv::Point2d from_;
  cv::Point2d to_;
  Clock::time_point start_;
  Clock::duration travel_time_{};
  bool moving_ = false;
};

}  // namespace ws::sim
