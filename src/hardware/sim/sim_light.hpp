// The simulated lamp: switching takes switch_ms (times time_scale); it starts off.
#pragma once

#include "hardware/sim/abortable_wait.hpp"
#include "waferscan/hardware.hpp"
#include "waferscan/recipe.hpp"
#include "waferscan/sim_machine.hpp"

#include <atomic>
#include <memory>

namespace ws::sim {

/// set_on() to the state the lamp is already in returns at once and is not counted; a real switch
/// is a busy call and counts in `light_switches`.
class SimLight final : public Light {
 public:
  SimLight(const LightSpec& spec, double time_scale, std::shared_ptr<SimCounters> counters);

  void set_on(bool on) override;
  [[nodiscard]] bool is_on() const override { return on_.load(); }

 private:
  LightSpec spec_;
  double time_scale_;
  std::shared_ptr<SimCounters> counters_;
  AbortableWait wait_;  // never aborted: a lamp switch is short and has no abort path
  std::atomic<bool> on_{false};
};

}  // namespace ws::sim
