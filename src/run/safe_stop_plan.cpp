#include "run/safe_stop_plan.hpp"

#include "hardware/timeout_policy.hpp"

#include <spdlog/spdlog.h>

#include <string>
#include <utility>

namespace ws {

using std::chrono::milliseconds;

namespace {

// What a step through the agent does: the agent's command `command`, which makes the driver call
// `call` on `device`, and the `state` it journals for the device when it succeeds.
struct AgentCall {
  Device device;
  std::string command;
  std::string call;
  std::string state;
};

SafeStopStep agent_step(SafeStopStepId id, milliseconds timeout, HardwareAgent& agent,
                        Journal& journal, AgentCall what, std::function<void()> driver_call) {
  return {id, timeout,
          [&agent, &journal, device = what.device, command = std::move(what.command),
           call = std::move(what.call), state = std::move(what.state),
           driver_call = std::move(driver_call)](milliseconds t) {
            auto r = agent.call(
                command,
                [&agent, device, call, t, &driver_call] {
                  agent.device_call(device, call, t, driver_call);
                },
                t);
            if (r.outcome == CallOutcome::ok) {
              try {  // the device is safe whether or not the store can say so (a full disk)
                journal.event("hardware", {{"device", to_string(device)}, {"state", state}});
              } catch (const std::exception& e) {
                spdlog::warn("cannot journal {} {}: {}", to_string(device), state, e.what());
              }
            }
            return r;
          }};
}

SafeStopStep persist_sites_step(Journal& journal, pipeline::SiteTracker& tracker,
                                const Recipe& recipe, milliseconds timeout) {
  return {SafeStopStepId::persist_sites, timeout, [&journal, &tracker, &recipe](milliseconds) {
            // Sites that never reached the publisher: abandoned if acquired (or being acquired),
            // otherwise never started. Published sites are not touched again.
            for (const SiteSpec& site : recipe.sites) {
              const auto i = static_cast<std::size_t>(site.index);
              const auto phase = tracker.phase(i);
              if (phase == pipeline::SitePhase::published) continue;
              if (phase == pipeline::SitePhase::pending) continue;  // stored as such
              SiteResult r;
              r.site = site;
              r.status = SiteStatus::incomplete;
              r.reason = "abandoned by abort";
              journal.site(r);
              tracker.mark(i, pipeline::SitePhase::published);
            }
            return CallResult{};
          }};
}

// Without hardware (reprocessing a recorded set) the device steps have nothing to make safe.
void skip_hardware_steps(std::vector<SafeStopStep>& steps, const Machine& m) {
  if (m.stage && m.light && m.camera) return;
  for (SafeStopStep& step : steps) {
    if (!touches_hardware(step.id)) continue;
    step.action = [](milliseconds) { return CallResult{CallOutcome::skipped, "no hardware"}; };
  }
}

}  // namespace

std::vector<SafeStopStep> safe_stop_plan(HardwareAgent& agent, Journal& journal,
                                         pipeline::SiteTracker& tracker, const Recipe& recipe) {
  const Machine& m = agent.machine();
  const DeviceTimeouts t = DeviceTimeouts::from(recipe);
  std::vector<SafeStopStep> steps;
  steps.push_back({SafeStopStepId::abort_capture, t.abort, [camera = m.camera](milliseconds d) {
                     return run_with_timeout([camera] { camera->abort(); }, d);
                   }});
  steps.push_back({SafeStopStepId::stop_stage, t.abort, [stage = m.stage](milliseconds d) {
                     return run_with_timeout([stage] { stage->stop(); }, d);
                   }});
  steps.push_back(agent_step(SafeStopStepId::park_stage, t.park, agent, journal,
                             {Device::stage, "park", "park", "parked"},
                             [stage = m.stage] { stage->park(); }));
  steps.push_back(agent_step(SafeStopStepId::light_off, t.light, agent, journal,
                             {Device::light, "light off", "off", "off"},
                             [light = m.light] { light->set_on(false); }));
  steps.push_back({SafeStopStepId::flush_publisher, t.abort, [&journal](milliseconds) {
                     journal.flush();
                     return CallResult{};
                   }});
  steps.push_back(persist_sites_step(journal, tracker, recipe, t.abort));
  steps.push_back(agent_step(SafeStopStepId::release_hardware, t.abort, agent, journal,
                             {Device::camera, "release camera", "release", "released"},
                             [camera = m.camera] { camera->release(); }));
  skip_hardware_steps(steps, m);
  return steps;
}

void probe_steps(std::vector<SafeStopStep>& steps, const pipeline::NodeProbe& probe) {
  for (std::size_t i = 0; i < steps.size(); ++i) {
    steps[i].action = [probe, name = "safe_stop." + std::string(to_string(steps[i].id)), i,
                       action = std::move(steps[i].action)](milliseconds t) {
      probe(name, i);
      return action(t);
    };
  }
}

void journal_step(Journal& journal, const SafeStopStepResult& r) {
  nlohmann::json f = {
      {"step", to_string(r.id)}, {"outcome", to_string(r.outcome)}, {"duration_ms", r.duration_ms}};
  if (!r.message.empty()) f["message"] = r.message;
  journal.event("safe_stop_step", std::move(f));
  if (r.outcome != CallOutcome::ok && r.outcome != CallOutcome::skipped) {
    spdlog::warn("safe-stop step {} {}: {}", to_string(r.id), to_string(r.outcome), r.message);
  }
}

}  // namespace ws
