#include "hardware/sim/sim_health.hpp"

#include "hardware/sim/sim_rng.hpp"

namespace ws::sim {

namespace {
constexpr std::uint64_t kNoiseSalt = 0x7E4D0000ULL;
constexpr double kNoiseC = 0.05;
}  // namespace

SimHealthSensor::SimHealthSensor(const Recipe& recipe, std::shared_ptr<const Light> light,
                                 std::shared_ptr<SimCounters> counters,
                                 std::shared_ptr<FaultInjector> faults)
    : ambient_c_(recipe.simulation.temperature_c),
      light_heating_c_(recipe.simulation.light_heating_c),
      seed_(mix64(recipe.seed ^ kNoiseSalt)),
      light_(std::move(light)),
      counters_(std::move(counters)),
      faults_(std::move(faults)) {}

double SimHealthSensor::temperature_c() {
  const auto n = static_cast<std::uint64_t>(counters_->health_readings.fetch_add(1));
  const bool overheated = faults_->on_reading().has_value();
  double t = ambient_c_ + Rng(seed_ ^ mix64(n)).uniform(-kNoiseC, kNoiseC);
  if (light_->is_on()) t += light_heating_c_;
  if (overheated) t += kOverheatC;
  return t;
}

}  // namespace ws::sim
