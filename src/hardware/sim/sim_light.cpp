#include "hardware/sim/sim_light.hpp"

#include "hardware/sim/busy_scope.hpp"
#include "waferscan/error.hpp"

namespace ws::sim {

SimLight::SimLight(const LightSpec& spec, double time_scale, std::shared_ptr<SimCounters> counters,
                   std::shared_ptr<FaultInjector> faults)
    : spec_(spec),
      time_scale_(time_scale),
      counters_(std::move(counters)),
      faults_(std::move(faults)) {}

void SimLight::set_on(bool on) {
  const CallFaults faults = faults_->on_call(on ? FaultTarget::light_on : FaultTarget::light_off);
  if (faults.error) throw HardwareError("injected fault: " + *faults.error);
  const bool change = on_.load() != on;
  if (!change && !faults.any()) return;
  const AbortableWait::Ticket ticket = wait_.arm();
  const BusyScope busy(*counters_);
  const Clock::duration switching =
      change ? scaled_duration(spec_.switch_ms, time_scale_) : Clock::duration::zero();
  (void)wait_call(wait_, ticket, Clock::now() + switching, faults, *counters_);
  if (!change) return;
  on_.store(on);
  ++counters_->light_switches;
}

}  // namespace ws::sim
