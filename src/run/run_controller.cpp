#include "run/run_controller.hpp"

#include "hardware/health_monitor.hpp"
#include "pipeline/file_source.hpp"
#include "pipeline/live_source.hpp"
#include "pipeline/set_recorder.hpp"
#include "waferscan/error.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <thread>

namespace ws {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A deterministic draw in [0, 1) from (seed, n): splitmix64.
double unit_draw(std::uint64_t seed, std::uint64_t n) {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (n + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) / static_cast<double>(1ULL << 53);
}

double ms_since(Clock::time_point t0, Clock::time_point t1) {
  return std::chrono::duration<double, std::milli>(t1 - t0).count();
}

RunState terminal_state_for(StopReason reason, bool failed) {
  if (failed) return RunState::failed;
  switch (reason) {
    case StopReason::none:
      return RunState::completed;
    case StopReason::operator_request:
    case StopReason::shutdown:
    case StopReason::emergency_stop:
      return RunState::canceled;
    case StopReason::timeout:
    case StopReason::fault:
      return RunState::failed;
  }
  return RunState::failed;
}

// Escalates a stop to an abort when the drain deadline passes before the graph is quiet.
class DrainWatch {
 public:
  DrainWatch(StopSource& source, milliseconds drain) : source_(source), drain_(drain) {
    thread_ = std::thread([this] { loop(); });
  }
  ~DrainWatch() {
    finish();
    thread_.join();
  }
  /// The graph is quiet: nothing left to escalate. Does not wait for the watch's thread, which may
  /// not get a core at once on a busy machine (a join here measured up to 12 ms at load 8); the
  /// destructor joins it after the safe-stop sequence.
  void finish() {
    {
      std::lock_guard lock(mutex_);
      finished_ = true;
    }
    cv_.notify_all();
  }
  void poke() {
    { std::lock_guard lock(mutex_); }  // no lost wake-up between the waiter's check and its wait
    cv_.notify_all();
  }

 private:
  void loop() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return finished_ || source_.stop_requested(); });
    if (finished_) return;
    const auto info = source_.info();
    const auto deadline = (info ? info->requested_at : Clock::now()) + drain_;
    if (!cv_.wait_until(lock, deadline, [&] { return finished_; })) {
      lock.unlock();
      source_.request(StopReason::timeout, StopStrength::abort, "drain deadline");
    }
  }

  StopSource& source_;
  milliseconds drain_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool finished_ = false;
  std::thread thread_;
};

// Without hardware (reprocessing a recorded set) the device steps of the safe-stop sequence have
// nothing to make safe: they report `skipped` instead of touching a null device.
void skip_hardware_steps(std::vector<SafeStopStep>& steps, const Machine& m) {
  if (m.stage && m.light && m.camera) return;
  for (SafeStopStep& step : steps) {
    if (step.name == "flush_publisher" || step.name == "persist_sites") continue;
    step.action = [](milliseconds) { return CallResult{CallOutcome::skipped, "no hardware"}; };
  }
}

// Slots for every site index of the run (a resumed or --sites run has gaps in its indices).
std::size_t tracker_slots(const Recipe& recipe) {
  std::size_t n = 0;
  for (const SiteSpec& s : recipe.sites) n = std::max(n, static_cast<std::size_t>(s.index) + 1);
  return n;
}

}  // namespace

int exit_code_for(const RunReport& report) noexcept {
  switch (report.state) {
    case RunState::completed:
      return exit_code::completed;
    case RunState::canceled:
      switch (report.stop_reason) {
        case StopReason::shutdown:
          return exit_code::canceled_shutdown;
        case StopReason::emergency_stop:
          return exit_code::emergency_stop;
        default:
          return exit_code::canceled_operator;
      }
    default:
      if (report.stop_reason == StopReason::timeout) return exit_code::timed_out;
      return exit_code::failed;
  }
}

RunController::RunController(Machine machine, const std::filesystem::path& db,
                             HardwareAgent::Options agent_options)
    : store_(std::make_unique<Store>(db)),
      owner_(db),
      agent_(std::make_unique<HardwareAgent>(std::move(machine), agent_options)),
      agent_options_(agent_options) {
  recover_interrupted_runs(*store_);
  for (const auto& f : store_->faults()) {
    if (auto d = device_from_string(f.device)) agent_->mark_faulted(*d, f.reason);
  }
}

void RunController::refuse_if_faulted() {
  std::string faulted;
  for (const auto& f : store_->faults()) {
    faulted += (faulted.empty() ? "" : "; ") + f.device + " is Faulted since " + f.since + " (" +
               f.reason + ")";
  }
  if (!faulted.empty()) {
    throw RunRejected(faulted +
                      ": an operator must check the machine and run "
                      "`waferscan hardware reset`");
  }
}

bool RunController::emergency_stop(const std::string& origin) {
  return request_stop(std::nullopt, StopReason::emergency_stop, StopStrength::abort, origin);
}

int RunController::reset_hardware(const std::string& who) {
  std::unique_lock run_lock(run_mutex_, std::try_to_lock);
  if (!run_lock.owns_lock()) throw RunRejected("cannot reset hardware while a run is in progress");
  agent_->reset_faults();
  return store_->reset_faults(who);
}

RunController::~RunController() = default;

std::optional<RunId> RunController::active_run() const {
  std::lock_guard lock(active_mutex_);
  return active_id_;
}

StopToken RunController::active_token() const {
  std::lock_guard lock(active_mutex_);
  return active_stop_ ? active_stop_->token() : StopToken{};
}

bool RunController::request_stop(std::optional<RunId> id, StopReason reason, StopStrength strength,
                                 std::string origin) {
  std::shared_ptr<StopSource> source;
  {
    std::lock_guard lock(active_mutex_);
    if (!active_id_ || (id && *id != *active_id_)) return false;
    source = active_stop_;
  }
  return source->request(reason, strength, std::move(origin));
}

std::vector<SafeStopStep> RunController::safe_stop_steps(Journal& journal,
                                                         pipeline::SiteTracker& tracker,
                                                         const Recipe& recipe) {
  const Machine& m = agent_->machine();
  auto stage = m.stage;
  auto light = m.light;
  auto camera = m.camera;
  // Park takes real (scaled) time: allow the longest move across the travel plus a margin.
  const double travel = std::hypot(recipe.stage.x_max_um - recipe.stage.x_min_um,
                                   recipe.stage.y_max_um - recipe.stage.y_min_um);
  const TimeoutSpec& o = recipe.timeouts;  // recipe overrides; 0 = derived
  const auto park_timeout = pipeline::override_or(
      o.park_ms,
      milliseconds(2000 + static_cast<long>(3.0 * recipe.time_scale *
                                            (1000.0 * travel / recipe.stage.speed_um_per_s +
                                             recipe.stage.settle_ms))));
  const milliseconds quick(2000);
  const milliseconds abort_timeout = pipeline::override_or(o.abort_ms, quick);
  const milliseconds light_timeout = pipeline::override_or(o.light_ms, quick);
  std::vector<SafeStopStep> steps;
  // Abort paths are called directly (they must work while the agent is blocked in a driver).
  steps.push_back({"abort_capture", abort_timeout, [camera](milliseconds t) {
                     return run_with_timeout([camera] { camera->abort(); }, t);
                   }});
  steps.push_back({"stop_stage", abort_timeout, [stage](milliseconds t) {
                     return run_with_timeout([stage] { stage->stop(); }, t);
                   }});
  // The rest goes through the agent, after whatever it is finishing.
  HardwareAgent* agent = agent_.get();
  steps.push_back({"park_stage", park_timeout, [agent, stage, &journal](milliseconds t) {
                     auto r = agent->call(
                         "park",
                         [agent, stage, t] {
                           agent->device_call(Device::stage, "park", t, [&] { stage->park(); });
                         },
                         t);
                     if (r.outcome == CallOutcome::ok) {
                       journal.event("hardware", {{"device", "stage"}, {"state", "parked"}});
                     }
                     return r;
                   }});
  steps.push_back({"light_off", light_timeout, [agent, light, &journal](milliseconds t) {
                     auto r = agent->call(
                         "light off",
                         [agent, light, t] {
                           agent->device_call(Device::light, "off", t,
                                              [&] { light->set_on(false); });
                         },
                         t);
                     if (r.outcome == CallOutcome::ok) {
                       journal.event("hardware", {{"device", "light"}, {"state", "off"}});
                     }
                     return r;
                   }});
  steps.push_back({"flush_publisher", quick, [&journal](milliseconds) {
                     journal.flush();
                     return CallResult{};
                   }});
  steps.push_back({"persist_sites", quick, [&journal, &tracker, &recipe](milliseconds) {
                     // Sites that never reached the publisher: abandoned if acquired (or being
                     // acquired), otherwise never started. Published sites are not touched again.
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
                   }});
  steps.push_back({"release_hardware", abort_timeout, [agent, camera, &journal](milliseconds t) {
                     auto r = agent->call(
                         "release camera",
                         [agent, camera, t] {
                           agent->device_call(Device::camera, "release", t,
                                              [&] { camera->release(); });
                         },
                         t);
                     if (r.outcome == CallOutcome::ok) {
                       journal.event("hardware", {{"device", "camera"}, {"state", "released"}});
                     }
                     return r;
                   }});
  return steps;
}

RunReport RunController::run(const RunRequest& request) {
  std::unique_lock run_lock(run_mutex_, std::try_to_lock);
  if (!run_lock.owns_lock()) {
    throw RunRejected("a run is in progress; a new run starts only after its safe-stop finished");
  }
  const Recipe& recipe = request.recipe;
  if (request.classifier == nullptr) throw std::invalid_argument("run: no classifier");
  refuse_if_faulted();
  const auto t_start = Clock::now();

  // A folder that cannot be written is refused before the run exists.
  std::unique_ptr<pipeline::SetRecorder> recorder;
  if (!request.record_dir.empty()) {
    recorder = std::make_unique<pipeline::SetRecorder>(
        request.record_dir, recipe,
        request.golden.empty() ? agent_->machine().golden : request.golden,
        request.flat.empty() ? agent_->machine().flat : request.flat);
  }

  RunRecord record;
  record.recipe_name = recipe.name;
  // Absolute, so that `resume` and `export` work from any working directory.
  record.recipe_path =
      recipe.path.empty() ? std::string() : std::filesystem::absolute(recipe.path).string();
  if (request.set) record.set_path = request.set->dir.string();
  record.graph_path = request.graph_path;
  record.model_path = request.model_path;
  const RunId id = request.resume ? (store_->resume_run(*request.resume), *request.resume)
                                  : store_->create_run(record, recipe.sites);
  store_->set_run_owner(id, owner_.path());
  Journal journal(*store_, id, static_cast<int>(recipe.sites.size()), request.event_sinks,
                  request.progress);
  journal.event("state", {{"state", to_string(RunState::starting)},
                          {"recipe", recipe.name},
                          {"sites", recipe.sites.size()},
                          {"in_flight", request.graph.in_flight}});

  auto stop = std::make_shared<StopSource>();
  auto tracker = std::make_shared<pipeline::SiteTracker>(tracker_slots(recipe));
  RunReport report;
  report.id = id;
  std::string failure;  // first exception out of a node body
  std::mutex failure_mutex;

  // Every request (and escalation) is journaled while the run is active, safe-stop included.
  StopCallback journal_stops = stop->on_stop([&journal, &stop](StopStrength s) {
    if (auto info = stop->info()) {
      journal.event("stop_requested", {{"reason", to_string(info->reason)},
                                       {"strength", to_string(s)},
                                       {"origin", info->origin}});
    }
  });
  // The watchdog reports on its own thread: journal it, and end the run on a fault.
  agent_->set_overrun_listener([&journal](Device d, const std::string& what) {
    journal.event("hardware", {{"device", to_string(d)}, {"state", "overrun"}, {"call", what}});
  });
  agent_->set_fault_listener([&journal, stop](Device d, const std::string& why) {
    journal.event("hardware", {{"device", to_string(d)}, {"state", "faulted"}, {"reason", why}});
    stop->request(StopReason::timeout, StopStrength::abort, std::string(to_string(d)) + " faulted");
  });
  {
    std::lock_guard lock(active_mutex_);
    active_id_ = id;
    active_stop_ = stop;
  }
  if (request.resume) {
    const auto again = store_->run(id);
    journal.event("resumed", {{"sites", recipe.sites.size()},
                              {"resume_count", again ? again->resume_count : 0},
                              {"resumed_at", again ? again->resumed_at : std::string()}});
  }
  agent_->set_abort_grace(
      pipeline::override_or(recipe.timeouts.abort_grace_ms, agent_options_.abort_grace));
  // The health monitor runs from here until the safe-stop sequence has finished.
  std::unique_ptr<HealthMonitor> monitor;
  if (const auto& sensor = agent_->machine().health; sensor && recipe.monitor.period_ms > 0) {
    HealthMonitor::Options options;
    options.period = milliseconds(static_cast<long>(std::ceil(recipe.monitor.period_ms)));
    options.temperature_limit_c = recipe.monitor.temperature_limit_c;
    options.hysteresis_c = recipe.monitor.hysteresis_c;
    monitor = std::make_unique<HealthMonitor>(
        sensor, options, [&journal, stop, action = recipe.monitor.on_alarm](const HealthEvent& e) {
          nlohmann::json f = {
              {"kind", to_string(e.kind)}, {"limit_c", e.limit_c}, {"message", e.message}};
          if (e.kind != HealthEvent::Kind::sensor_error) f["temperature_c"] = e.temperature_c;
          journal.event("alarm", std::move(f));
          // A sensor that cannot be read is no safer than one over its limit.
          if (e.kind == HealthEvent::Kind::cleared || action == AlarmAction::record) return;
          stop->request(StopReason::fault,
                        action == AlarmAction::abort ? StopStrength::abort : StopStrength::stop,
                        "health monitor: " + e.message);
        });
  }
  if (request.on_started) request.on_started(id);

  DrainWatch drain(*stop, milliseconds(static_cast<long>(recipe.drain_timeout_ms)));
  {
    oneapi::tbb::task_group_context tgc;
    std::unique_ptr<pipeline::FrameSource> source_ptr;
    if (request.set) {
      source_ptr = std::make_unique<pipeline::FileSource>(request.set, stop->token(), tracker);
    } else {
      source_ptr = std::make_unique<pipeline::LiveSource>(
          *agent_, stop->token(), tracker, pipeline::AcquisitionTimeouts::from(recipe),
          request.probe);
    }
    pipeline::FrameSource& source = *source_ptr;
    pipeline::GraphContext ctx;
    ctx.recipe = &recipe;
    ctx.spec = request.graph;
    ctx.source = &source;
    ctx.golden = request.golden.empty() ? agent_->machine().golden : request.golden;
    ctx.flat = request.flat.empty() ? agent_->machine().flat : request.flat;
    if (recorder) ctx.record = [r = recorder.get()](const pipeline::Work& w) { r->record(w); };
    ctx.classifier = request.classifier;
    ctx.token = stop->token();
    ctx.tracker = tracker.get();
    ctx.publish = [&journal, &request, writes = std::make_shared<std::uint32_t>(0)](SiteResult& r) {
      ++*writes;
      for (const auto& f : request.store_faults) {
        const bool fires =
            (f.when == FaultWhen::site && f.n == static_cast<std::uint32_t>(r.site.index)) ||
            (f.when == FaultWhen::call && f.n == *writes) ||
            (f.when == FaultWhen::probability && unit_draw(request.recipe.seed, *writes) < f.p);
        if (fires) throw StoreError("injected fault: " + to_string(f) + ": disk full");
      }
      journal.site(r);
    };
    ctx.probe = request.probe;
    ctx.on_body_failure = [&](std::string_view node, const std::exception& e) {
      {
        std::lock_guard lock(failure_mutex);
        if (failure.empty()) failure = std::string(node) + ": " + e.what();
      }
      stop->request(StopReason::fault, StopStrength::abort, "exception in " + std::string(node));
    };
    pipeline::InspectionGraph graph(std::move(ctx), tgc);

    const Machine& m = agent_->machine();
    StopCallback on_stop = stop->on_stop([&, camera = m.camera, stage = m.stage](StopStrength s) {
      drain.poke();
      // No new site starts: queued acquisitions leave the graph as not_started.
      agent_->drop_pending();
      if (s == StopStrength::abort) {
        graph.cancel();
        // Driver abort paths may fail; that must not keep the other one from being called or
        // escape into whichever thread requested the stop. The safe-stop sequence calls them again.
        try {
          if (camera) camera->abort();  // null when reprocessing a recorded set
        } catch (const std::exception& e) {
          spdlog::warn("camera abort failed: {}", e.what());
        }
        try {
          if (stage) stage->stop();
        } catch (const std::exception& e) {
          spdlog::warn("stage stop failed: {}", e.what());
        }
      }
    });

    journal.state(RunState::running);
    try {
      graph.run();
    } catch (const std::exception& e) {
      std::lock_guard lock(failure_mutex);
      if (failure.empty()) failure = e.what();
    }
    drain.finish();
    report.max_in_flight = graph.max_in_flight();
    on_stop.reset();
  }
  const auto t_quiet = Clock::now();
  const auto info = stop->info();
  if (info) report.graph_quiet_ms = ms_since(info->requested_at, t_quiet);

  if (recorder) {
    try {
      const Manifest recorded = recorder->finish();
      journal.event("recorded",
                    {{"set", recorded.dir.string()}, {"frames", recorded.frames.size()}});
    } catch (const std::exception& e) {  // the inspection's results stand; only the set is lost
      spdlog::warn("record: cannot write the manifest: {}", e.what());
      journal.event("recorded", {{"set", request.record_dir.string()}, {"error", e.what()}});
    }
  }

  journal.state(RunState::stopping);
  auto steps = safe_stop_steps(journal, *tracker, recipe);
  skip_hardware_steps(steps, agent_->machine());
  if (request.probe) {  // tests: a stop may land during the safe-stop sequence itself
    for (std::size_t i = 0; i < steps.size(); ++i) {
      steps[i].action = [probe = request.probe, name = "safe_stop." + steps[i].name, i,
                         action = std::move(steps[i].action)](milliseconds t) {
        probe(name, i);
        return action(t);
      };
    }
  }
  report.safe_stop = run_safe_stop(std::move(steps), [&](const SafeStopStepResult& r) {
    nlohmann::json f = {
        {"step", r.name}, {"outcome", to_string(r.outcome)}, {"duration_ms", r.duration_ms}};
    if (!r.message.empty()) f["message"] = r.message;
    journal.event("safe_stop_step", std::move(f));
    if (r.outcome != CallOutcome::ok && r.outcome != CallOutcome::skipped) {
      spdlog::warn("safe-stop step {} {}: {}", r.name, to_string(r.outcome), r.message);
    }
  });
  if (info) report.hardware_safe_ms = ms_since(info->requested_at, Clock::now());
  if (monitor) {
    monitor->stop();
    const auto h = monitor->stats();
    journal.event("monitor", {{"readings", h.readings},
                              {"max_temperature_c", h.max_temperature_c},
                              {"alarms", h.alarms},
                              {"sensor_errors", h.sensor_errors}});
  }

  // A stop that came after every site was done changed nothing: the run completed.
  const SiteCounts counts = store_->count_sites(id);
  StopReason reason = info ? info->reason : StopReason::none;
  if (failure.empty() && counts.done == counts.total) reason = StopReason::none;
  const bool failed = !failure.empty();
  report.state = terminal_state_for(reason, failed);
  report.stop_reason = failed && reason == StopReason::none ? StopReason::fault : reason;
  report.stop_strength = info ? info->strength : StopStrength::none;
  // A stop for a fault (the health monitor) says why, as a failure would.
  report.message = failure.empty() && info && reason == StopReason::fault ? info->origin : failure;
  {
    std::lock_guard lock(active_mutex_);
    active_id_.reset();
    active_stop_.reset();
  }
  journal_stops.reset();
  agent_->set_overrun_listener({});
  agent_->set_fault_listener({});
  // Faults outlive the process: record them so that no later run starts on a Faulted device.
  for (std::size_t d = 0; d < kDeviceCount; ++d) {
    const auto device = static_cast<Device>(d);
    if (agent_->faulted(device)) {
      store_->record_fault(std::string(to_string(device)), agent_->fault_reason(device), id);
    }
  }
  store_->finish_run(id, report.state, report.stop_reason,
                     reason == StopReason::none ? std::nullopt : report.graph_quiet_ms,
                     reason == StopReason::none ? std::nullopt : report.hardware_safe_ms,
                     report.message);
  {
    nlohmann::json f = {{"state", to_string(report.state)}};
    if (report.stop_reason != StopReason::none) f["stop_reason"] = to_string(report.stop_reason);
    if (!report.message.empty()) f["message"] = report.message;
    journal.event("state", std::move(f));
    journal.flush();
  }

  report.sites = store_->count_sites(id);
  for (const auto& site : store_->sites(id)) {
    for (const auto& d : site.defects) {
      ++report.defects_by_class[d.class_name];
      ++report.defects;
    }
  }
  if (reason == StopReason::none) {
    report.graph_quiet_ms.reset();
    report.hardware_safe_ms.reset();
  }
  report.duration_s = std::chrono::duration<double>(Clock::now() - t_start).count();
  return report;
}

}  // namespace ws
