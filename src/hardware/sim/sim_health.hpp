// The simulated health sensor: the machine's temperature, warmed by the lamp, with an injectable
// overheat (machine.overheat).
#pragma once

#include "hardware/sim/fault_injector.hpp"
#include "waferscan/hardware.hpp"
#include "waferscan/recipe.hpp"

#include <cstdint>
#include <memory>

namespace ws::sim {

/// A reading is simulation.temperature_c, plus simulation.light_heating_c while the lamp is on,
/// plus +-0.05 C of seeded noise, plus kOverheatC once a machine.overheat fault has fired (it
/// stays). Every reading is a machine.overheat call for the fault injector and counts in
/// `health_readings`.
class SimHealthSensor final : public HealthSensor {
 public:
  static constexpr double kOverheatC = 40.0;

  SimHealthSensor(const Recipe& recipe, std::shared_ptr<const Light> light,
                  std::shared_ptr<SimCounters> counters, std::shared_ptr<FaultInjector> faults);

  [[nodiscard]] double temperature_c() override;

 private:
  double ambient_c_;
  double light_heating_c_;
  std::uint64_t seed_;
  std::shared_ptr<const Light> light_;
  std::shared_ptr<SimCounters> counters_;
  std::shared_ptr<FaultInjector> faults_;
};

}  // namespace ws::sim
