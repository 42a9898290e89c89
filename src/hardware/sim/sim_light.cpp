#include "hardware/sim/sim_light.hpp"

#include "hardware/sim/busy_scope.hpp"

namespace ws::sim {

SimLight::SimLight(const LightSpec& spec, double time_scale, std::shared_ptr<SimCounters> counters)
    : spec_(spec), time_scale_(time_scale), counters_(std::move(counters)) {}

void SimLight::set_on(bool on) {
  if (on_.load() == on) return;
  const AbortableWait::Ticket ticket = wait_.arm();
  const BusyScope busy(*counters_);
  (void)wait_.wait_until(ticket, Clock::now() + scaled_duration(spec_.switch_ms, time_scale_));
  on_.store(on);
  ++counters_->light_switches;
}

}  // namespace ws::sim
