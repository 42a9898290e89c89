// The simulated lamp: switching takes switch_ms (times time_scale); it starts off.
#pragma once

#include "hardware/sim/abortable_wait.hpp"
#include "hardware/sim/fault_injector.hpp"
#include "waferscan/hardware.hpp"
#include "waferscan/recipe.hpp"
#include "waferscan/sim/sim_machine.hpp"

#include <atomic>
#include <memory>

namespace ws::sim {

/// set_on() to the state the lamp is already in returns at once and is not counted; a real switch
/// is a busy call and counts in `light_switches`.
/// Injected faults: every set_on() call goes through `faults` first as light.on or light.off (see
/// FaultInjector), also one to the state the lamp is already in; a hang blocks until
/// release_hangs(), as the lamp has no abort path.
class SimLight final : public Light {
 public:
  SimLight(const LightSpec& spec, double time_scale, std::shared_ptr<SimCounters> counters,
           std::shared_ptr<FaultInjector> faults);

  void set_on(bool on) override;
  [[nodiscard]] bool is_on() const override { return on_.load(); }

  /// Ends injected hangs, now and from now on (SimMachine::release_hangs()).
  void release_hangs() { wait_.release(); }

 private:
  LightSpec spec_;
  double time_scale_;
  std::shared_ptr<SimCounters> counters_;
  std::shared_ptr<FaultInjector> faults_;
  AbortableWait wait_;  // never aborted: a lamp switch is short and has no abort path
  std::atomic<bool> on_{false};
};

}  // namespace ws::sim
