#include "hardware/sim/fault_injector.hpp"

#include "hardware/sim/sim_rng.hpp"
#include "waferscan/error.hpp"

#include <cmath>
#include <utility>

namespace ws::sim {

namespace {

// A commanded position is the recipe's own number passed through, so this only absorbs rounding.
constexpr double kSameSiteUm = 1e-3;

std::size_t slot(FaultTarget t) noexcept {
  return static_cast<std::size_t>(t);
}

// machine.estop and frame.corrupt happen at a capture: a capture is their call.
bool rides_on_capture(FaultTarget t) noexcept {
  return t == FaultTarget::machine_estop || t == FaultTarget::frame_corrupt;
}

}  // namespace

FaultInjector::FaultInjector(const Recipe& recipe, std::shared_ptr<SimCounters> counters)
    : seed_(recipe.seed), counters_(std::move(counters)) {
  site_positions_.reserve(recipe.sites.size());
  for (const SiteSpec& s : recipe.sites) site_positions_.emplace_back(s.x_um, s.y_um);
}

void FaultInjector::add(const FaultSpec& fault, const std::string& file, const std::string& key) {
  if (fault.when == FaultWhen::site && fault.n >= site_positions_.size()) {
    throw ConfigError(file, 0, file.empty() && key.empty() ? "--inject" : key,
                      to_string(fault) + ": site " + std::to_string(fault.n) +
                          " is not a site of this recipe: it has " +
                          std::to_string(site_positions_.size()) + " sites, numbered from 0");
  }
  const std::lock_guard lock(mutex_);
  // Seeded by the entry's position in the list, so two p: faults on one target draw independently
  // and adding a fault never changes what the earlier ones do.
  faults_.push_back(
      Entry{fault, to_string(fault), FaultMatcher(fault, fault_salt(seed_, faults_.size()))});
}

std::vector<FaultSpec> FaultInjector::faults_for(std::string_view target) const {
  const std::lock_guard lock(mutex_);
  std::vector<FaultSpec> out;
  for (const Entry& e : faults_)
    if (to_string(e.spec.target) == target) out.push_back(e.spec);
  return out;
}

void FaultInjector::set_position_source(std::function<cv::Point2d()> source) {
  const std::lock_guard lock(mutex_);
  position_source_ = std::move(source);
}

bool FaultInjector::applies(const Entry& e, std::uint64_t call,
                            std::optional<cv::Point2d> position) const {
  // site:N of a device call: every site at site N's position matches (a recipe may visit one place
  // under two names); the call knows where the stage is, not which site it is for.
  return e.matcher.fires(call, [&](std::uint32_t n) {
    if (!position) return false;
    const cv::Point2d& s = site_positions_[n];
    return std::abs(s.x - position->x) <= kSameSiteUm && std::abs(s.y - position->y) <= kSameSiteUm;
  });
}

CallFaults FaultInjector::on_call(FaultTarget target, std::optional<cv::Point2d> position) {
  CallFaults out;
  std::vector<std::string> interlocks;
  std::function<void(std::string)> interlock;
  {
    const std::lock_guard lock(mutex_);
    out.call = ++calls_[slot(target)];
    if (faults_.empty()) return out;
    if (!position && position_source_) position = position_source_();
    const bool capture = target == FaultTarget::camera_capture;
    for (const Entry& e : faults_) {
      // machine.overheat@site:N fires as the stage is sent to site N (readings come on a timer).
      if (target == FaultTarget::stage_move && e.spec.target == FaultTarget::machine_overheat &&
          e.spec.when == FaultWhen::site && !overheated_ && applies(e, 0, position)) {
        ++counters_->faults_fired;
        overheated_ = e.text;
        continue;
      }
      const bool mine = e.spec.target == target || (capture && rides_on_capture(e.spec.target));
      if (!mine || !applies(e, out.call, position)) continue;
      ++counters_->faults_fired;
      switch (e.spec.target) {
        case FaultTarget::machine_estop:
          interlocks.push_back("injected fault: " + e.text);
          continue;
        case FaultTarget::frame_corrupt:
          out.corrupt_frame = e.text;
          ++counters_->corrupt_frames;
          continue;
        default:
          break;
      }
      switch (e.spec.behaviour) {
        case FaultBehaviour::hang:
          out.hang = e.text;
          ++counters_->injected_hangs;
          break;
        case FaultBehaviour::slow:
          out.slow_ms += e.spec.slow_ms;
          ++counters_->injected_slows;
          break;
        case FaultBehaviour::error:
          out.error = e.text;
          ++counters_->injected_errors;
          break;
        case FaultBehaviour::ignore_abort:
          out.ignore_abort = e.text;
          break;
        case FaultBehaviour::fire:
          break;  // the parser allows fire only on the machine-level targets handled above
      }
    }
    if (!interlocks.empty()) interlock = interlock_;
  }
  // Outside the lock: the callback may well call back into the machine (abort, stop).
  for (const std::string& reason : interlocks) {
    ++counters_->interlocks;
    if (interlock) interlock(reason);
  }
  return out;
}

std::optional<std::string> FaultInjector::on_reading() {
  const std::lock_guard lock(mutex_);
  const std::uint64_t call = ++calls_[slot(FaultTarget::machine_overheat)];
  if (overheated_) return overheated_;
  for (const Entry& e : faults_) {
    if (e.spec.target != FaultTarget::machine_overheat || e.spec.when == FaultWhen::site) continue;
    if (!applies(e, call, std::nullopt)) continue;
    ++counters_->faults_fired;
    overheated_ = e.text;
    break;
  }
  return overheated_;
}

void FaultInjector::on_interlock(std::function<void(std::string)> callback) {
  const std::lock_guard lock(mutex_);
  interlock_ = std::move(callback);
}

void FaultInjector::trigger_interlock(const std::string& reason) {
  std::function<void(std::string)> interlock;
  {
    const std::lock_guard lock(mutex_);
    interlock = interlock_;
  }
  ++counters_->interlocks;
  if (interlock) interlock(reason);
}

namespace {

// Counts a call as hung for as long as it blocks in an injected hang: the tests' handshake.
class HungScope {
 public:
  HungScope(SimCounters& counters, bool hung) : counters_(hung ? &counters : nullptr) {
    if (counters_ != nullptr) ++counters_->hung_calls;
  }
  ~HungScope() {
    if (counters_ != nullptr) --counters_->hung_calls;
  }
  HungScope(const HungScope&) = delete;
  HungScope& operator=(const HungScope&) = delete;

 private:
  SimCounters* counters_;
};

Clock::duration literal_ms(std::uint64_t ms) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::milliseconds(ms));
}

}  // namespace

bool wait_call(AbortableWait& wait, AbortableWait::Ticket ticket, Clock::time_point deadline,
               const CallFaults& faults, SimCounters& counters) {
  if (!faults.hang && !faults.ignore_abort && faults.slow_ms == 0)
    return wait.wait_until(ticket, deadline);
  const WaitRules rules{.abortable = !faults.ignore_abort, .releasable = faults.releasable()};
  std::optional<Clock::time_point> until;
  if (!faults.hang) until = deadline + literal_ms(faults.slow_ms);
  const HungScope hung(counters, faults.hang.has_value());
  switch (wait.wait(ticket, until, rules)) {
    case WaitEnd::deadline:
      return true;
    case WaitEnd::aborted:
      return false;
    case WaitEnd::released:
      break;
  }
  throw HardwareError("injected fault: " + (faults.hang ? *faults.hang : *faults.ignore_abort) +
                      ": released by release_hangs()");
}

bool abort_path(AbortableWait& wait, const CallFaults& faults, SimCounters& counters) {
  if (faults.error) throw HardwareError("injected fault: " + *faults.error);
  if (faults.hang) {
    // A hung abort never reaches the device: once released it returns having done nothing.
    const HungScope hung(counters, true);
    (void)wait.wait(wait.arm(), std::nullopt, {.abortable = false, .releasable = true});
    ++counters.ignored_aborts;
    return false;
  }
  if (faults.slow_ms > 0) {
    (void)wait.wait(wait.arm(), Clock::now() + literal_ms(faults.slow_ms),
                    {.abortable = false, .releasable = faults.releasable()});
  }
  if (faults.ignore_abort) {
    ++counters.ignored_aborts;
    return false;
  }
  return true;
}

}  // namespace ws::sim
