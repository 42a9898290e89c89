#include "waferscan/sim/sim_machine.hpp"

#include "hardware/sim/die_renderer.hpp"
#include "hardware/sim/fault_injector.hpp"
#include "hardware/sim/sim_camera.hpp"
#include "hardware/sim/sim_health.hpp"
#include "hardware/sim/sim_light.hpp"
#include "hardware/sim/sim_stage.hpp"
#include "waferscan/error.hpp"

namespace ws {

struct SimMachine::Impl {
  std::shared_ptr<SimCounters> counters = std::make_shared<SimCounters>();
  std::shared_ptr<sim::FaultInjector> faults;
  std::shared_ptr<const sim::DieRenderer> renderer;
  std::shared_ptr<sim::SimStage> stage;
  std::shared_ptr<sim::SimLight> light;
  std::shared_ptr<sim::SimCamera> camera;
  std::shared_ptr<sim::SimHealthSensor> health;
  std::uint64_t seed = 0;  ///< the recipe's: the draws of the store.write faults
};

namespace {

void validate_timing(const Recipe& recipe) {
  const auto file = recipe.path.string();
  if (!(recipe.time_scale >= 0.0)) throw ConfigError(file, 0, "time_scale", "must be >= 0");
  const auto& s = recipe.stage;
  if (!(s.speed_um_per_s > 0.0)) throw ConfigError(file, 0, "stage.speed_um_per_s", "must be > 0");
  if (!(s.settle_ms >= 0.0)) throw ConfigError(file, 0, "stage.settle_ms", "must be >= 0");
  if (!(s.x_min_um <= s.park_x_um && s.park_x_um <= s.x_max_um && s.y_min_um <= s.park_y_um &&
        s.park_y_um <= s.y_max_um))
    throw ConfigError(file, 0, "stage.park", "park position is outside the travel limits");
  if (!(recipe.camera.exposure_ms >= 0.0 && recipe.camera.readout_ms >= 0.0))
    throw ConfigError(file, 0, "camera", "exposure_ms and readout_ms must be >= 0");
  if (!(recipe.light.switch_ms >= 0.0))
    throw ConfigError(file, 0, "light.switch_ms", "must be >= 0");
  if (!(recipe.wafer.die_pitch_x_um > 0.0 && recipe.wafer.die_pitch_y_um > 0.0))
    throw ConfigError(file, 0, "wafer.die_pitch", "must be > 0");
}

}  // namespace

SimMachine::SimMachine(const Recipe& recipe) : impl_(std::make_shared<Impl>()) {
  validate_timing(recipe);
  impl_->seed = recipe.seed;
  impl_->faults = std::make_shared<sim::FaultInjector>(recipe, impl_->counters);
  for (std::size_t k = 0; k < recipe.faults.size(); ++k)
    impl_->faults->add(recipe.faults[k], recipe.path.string(), "faults[" + std::to_string(k) + "]");
  impl_->renderer = std::make_shared<const sim::DieRenderer>(recipe);
  impl_->stage = std::make_shared<sim::SimStage>(recipe.stage, recipe.time_scale, impl_->counters,
                                                 impl_->faults);
  impl_->light = std::make_shared<sim::SimLight>(recipe.light, recipe.time_scale, impl_->counters,
                                                 impl_->faults);
  impl_->camera = std::make_shared<sim::SimCamera>(recipe, impl_->renderer, impl_->stage,
                                                   impl_->light, impl_->counters, impl_->faults);
  impl_->health =
      std::make_shared<sim::SimHealthSensor>(recipe, impl_->light, impl_->counters, impl_->faults);
  // A weak pointer: the injector is owned by the devices, so a strong one would be a cycle.
  impl_->faults->set_position_source(
      [stage = std::weak_ptr<const sim::SimStage>(impl_->stage)]() -> cv::Point2d {
        const auto s = stage.lock();
        return s ? s->commanded_um() : cv::Point2d{};
      });
}

SimMachine::~SimMachine() = default;

Machine SimMachine::machine() const {
  Machine m;
  m.stage = impl_->stage;
  m.light = impl_->light;
  m.camera = impl_->camera;
  m.health = impl_->health;
  // Copies: a caller that edits its calibration images must not change what the camera renders.
  m.golden = impl_->renderer->golden().clone();
  m.flat = impl_->renderer->flat().clone();
  return m;
}

std::vector<TrueDefect> SimMachine::truth(int die_i, int die_j) const {
  return impl_->renderer->truth(die_i, die_j);
}

void SimMachine::set_frame_pool(std::vector<cv::Mat> frames) {
  impl_->camera->set_frame_pool(std::move(frames));
}

cv::Mat SimMachine::render(int die_i, int die_j) const {
  return impl_->renderer->render(die_i, die_j, true);
}

SimCounters& SimMachine::counters() const {
  return *impl_->counters;
}

void SimMachine::add_fault(FaultSpec fault) {
  impl_->faults->add(fault, "", "--inject");
}

std::vector<FaultSpec> SimMachine::faults_for(std::string_view target) const {
  return impl_->faults->faults_for(target);
}

std::function<void(SiteResult&)> SimMachine::decorate_site_writer(
    std::function<void(SiteResult&)> inner) const {
  std::vector<FaultMatcher> faults;
  for (const FaultSpec& f : faults_for("store.write")) {
    faults.emplace_back(f, fault_salt(impl_->seed, faults.size()));
  }
  if (faults.empty()) return inner;
  return [inner = std::move(inner), faults = std::move(faults),
          writes = std::uint64_t{0}](SiteResult& r) mutable {
    ++writes;
    for (const FaultMatcher& f : faults) {
      const auto index = static_cast<std::uint32_t>(r.site.index);
      if (f.fires(writes, [index](std::uint32_t n) { return n == index; })) {
        throw StoreError("injected fault: " + to_string(f.spec()) + ": disk full");
      }
    }
    inner(r);
  };
}

void SimMachine::release_hangs() {
  impl_->camera->release_hangs();
  impl_->stage->release_hangs();
  impl_->light->release_hangs();
}

void SimMachine::on_interlock(std::function<void(std::string)> callback) {
  impl_->faults->on_interlock(std::move(callback));
}

void SimMachine::trigger_interlock(const std::string& reason) {
  impl_->faults->trigger_interlock(reason);
}

}  // namespace ws
