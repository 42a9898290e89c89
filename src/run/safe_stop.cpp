#include "run/safe_stop.hpp"

#include <exception>
#include <future>
#include <memory>
#include <thread>

namespace ws {

std::string_view to_string(SafeStopStepId id) noexcept {
  switch (id) {
    case SafeStopStepId::abort_capture:
      return "abort_capture";
    case SafeStopStepId::stop_stage:
      return "stop_stage";
    case SafeStopStepId::park_stage:
      return "park_stage";
    case SafeStopStepId::light_off:
      return "light_off";
    case SafeStopStepId::flush_publisher:
      return "flush_publisher";
    case SafeStopStepId::persist_sites:
      return "persist_sites";
    case SafeStopStepId::release_hardware:
      return "release_hardware";
  }
  return "unknown";
}

bool touches_hardware(SafeStopStepId id) noexcept {
  return id != SafeStopStepId::flush_publisher && id != SafeStopStepId::persist_sites;
}

CallResult run_with_timeout(std::function<void()> fn, std::chrono::milliseconds timeout) {
  auto done = std::make_shared<std::promise<CallResult>>();
  auto result = done->get_future();
  std::thread([fn = std::move(fn), done] {
    try {
      fn();
      done->set_value(CallResult{CallOutcome::ok, {}});
    } catch (const std::exception& e) {
      done->set_value(CallResult{CallOutcome::failed, e.what()});
    }
  }).detach();
  if (result.wait_for(timeout) != std::future_status::ready) {
    return CallResult{CallOutcome::timed_out,
                      "no answer within " + std::to_string(timeout.count()) + " ms"};
  }
  return result.get();
}

std::vector<SafeStopStepResult> run_safe_stop(
    const std::vector<SafeStopStep>& steps,
    const std::function<void(const SafeStopStepResult&)>& on_step) {
  std::vector<SafeStopStepResult> results;
  results.reserve(steps.size());
  for (const auto& step : steps) {
    SafeStopStepResult r;
    r.id = step.id;
    const auto start = std::chrono::steady_clock::now();
    try {
      const CallResult c = step.action(step.timeout);
      r.outcome = c.outcome;
      r.message = c.message;
    } catch (const std::exception& e) {
      r.outcome = CallOutcome::failed;
      r.message = e.what();
    }
    r.duration_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (on_step) {
      try {
        on_step(r);
      } catch (...) {  // reporting must not stop the cleanup
      }
    }
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace ws
