#include "run/run_controller.hpp"

#include "pipeline/live_source.hpp"
#include "waferscan/error.hpp"

#include <spdlog/spdlog.h>

#include <cmath>
#include <condition_variable>
#include <thread>

namespace ws {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

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
    {
      std::lock_guard lock(mutex_);
      finished_ = true;
    }
    cv_.notify_all();
    thread_.join();
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

RunController::RunController(Machine machine, const std::filesystem::path& db)
    : store_(std::make_unique<Store>(db)), agent_(std::make_unique<HardwareAgent>(std::move(machine))) {}

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
  const auto park_timeout = milliseconds(
      2000 + static_cast<long>(3.0 * recipe.time_scale *
                               (1000.0 * travel / recipe.stage.speed_um_per_s +
                                recipe.stage.settle_ms)));
  const milliseconds quick(2000);
  std::vector<SafeStopStep> steps;
  // Abort paths are called directly (they must work while the agent is blocked in a driver).
  steps.push_back({"abort_capture", quick, [camera](milliseconds t) {
                     return run_with_timeout([camera] { camera->abort(); }, t);
                   }});
  steps.push_back({"stop_stage", quick, [stage](milliseconds t) {
                     return run_with_timeout([stage] { stage->stop(); }, t);
                   }});
  // The rest goes through the agent, after whatever it is finishing.
  steps.push_back({"park_stage", park_timeout, [this, stage, &journal](milliseconds t) {
                     auto r = agent_->call("park", [stage] { stage->park(); }, t);
                     if (r.outcome == CallOutcome::ok) {
                       journal.event("hardware", {{"device", "stage"}, {"state", "parked"}});
                     }
                     return r;
                   }});
  steps.push_back({"light_off", quick, [this, light, &journal](milliseconds t) {
                     auto r = agent_->call("light off", [light] { light->set_on(false); }, t);
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
                     for (std::size_t i = 0; i < tracker.size(); ++i) {
                       const auto phase = tracker.phase(i);
                       if (phase == pipeline::SitePhase::published) continue;
                       if (phase == pipeline::SitePhase::pending) continue;  // stored as such
                       SiteResult r;
                       r.site = recipe.sites[i];
                       r.status = SiteStatus::incomplete;
                       r.reason = "abandoned by abort";
                       journal.site(r);
                       tracker.mark(i, pipeline::SitePhase::published);
                     }
                     return CallResult{};
                   }});
  steps.push_back({"release_hardware", quick, [this, camera, &journal](milliseconds t) {
                     auto r = agent_->call("release camera", [camera] { camera->release(); }, t);
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
  const auto t_start = Clock::now();

  RunRecord record;
  record.recipe_name = recipe.name;
  record.recipe_path = recipe.path.string();
  const RunId id = store_->create_run(record, recipe.sites);
  Journal journal(*store_, id, static_cast<int>(recipe.sites.size()), request.event_sinks,
                  request.progress);
  journal.event("state", {{"state", to_string(RunState::starting)},
                          {"recipe", recipe.name},
                          {"sites", recipe.sites.size()},
                          {"in_flight", request.graph.in_flight}});

  auto stop = std::make_shared<StopSource>();
  pipeline::SiteTracker tracker(recipe.sites.size());
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
  {
    std::lock_guard lock(active_mutex_);
    active_id_ = id;
    active_stop_ = stop;
  }
  if (request.on_started) request.on_started(id);

  {
    oneapi::tbb::task_group_context tgc;
    pipeline::LiveSource source(*agent_, stop->token(), tracker);
    pipeline::GraphContext ctx;
    ctx.recipe = &recipe;
    ctx.spec = request.graph;
    ctx.source = &source;
    ctx.golden = agent_->machine().golden;
    ctx.flat = agent_->machine().flat;
    ctx.classifier = request.classifier;
    ctx.token = stop->token();
    ctx.tracker = &tracker;
    ctx.publish = [&journal](SiteResult& r) { journal.site(r); };
    ctx.probe = request.probe;
    ctx.on_body_failure = [&](std::string_view node, const std::exception& e) {
      {
        std::lock_guard lock(failure_mutex);
        if (failure.empty()) failure = std::string(node) + ": " + e.what();
      }
      stop->request(StopReason::fault, StopStrength::abort, "exception in " + std::string(node));
    };
    pipeline::InspectionGraph graph(std::move(ctx), tgc);
    DrainWatch drain(*stop, milliseconds(static_cast<long>(recipe.drain_timeout_ms)));

    const Machine& m = agent_->machine();
    StopCallback on_stop = stop->on_stop([&, camera = m.camera, stage = m.stage](StopStrength s) {
      drain.poke();
      // No new site starts: queued acquisitions leave the graph as not_started.
      agent_->drop_pending();
      if (s == StopStrength::abort) {
        camera->abort();
        stage->stop();
        graph.cancel();
      }
    });

    journal.state(RunState::running);
    try {
      graph.run();
    } catch (const std::exception& e) {
      std::lock_guard lock(failure_mutex);
      if (failure.empty()) failure = e.what();
    }
    report.max_in_flight = graph.max_in_flight();
    on_stop.reset();
  }
  const auto t_quiet = Clock::now();
  const auto info = stop->info();
  if (info) report.graph_quiet_ms = ms_since(info->requested_at, t_quiet);

  journal.state(RunState::stopping);
  report.safe_stop = run_safe_stop(safe_stop_steps(journal, tracker, recipe),
                                   [&](const SafeStopStepResult& r) {
                                     nlohmann::json f = {{"step", r.name},
                                                         {"outcome", to_string(r.outcome)},
                                                         {"duration_ms", r.duration_ms}};
                                     if (!r.message.empty()) f["message"] = r.message;
                                     journal.event("safe_stop_step", std::move(f));
                                     if (r.outcome != CallOutcome::ok) {
                                       spdlog::warn("safe-stop step {} {}: {}", r.name,
                                                    to_string(r.outcome), r.message);
                                     }
                                   });
  if (info) report.hardware_safe_ms = ms_since(info->requested_at, Clock::now());

  // A stop that came after every site was done changed nothing: the run completed.
  const SiteCounts counts = store_->count_sites(id);
  StopReason reason = info ? info->reason : StopReason::none;
  if (failure.empty() && counts.done == counts.total) reason = StopReason::none;
  const bool failed = !failure.empty();
  report.state = terminal_state_for(reason, failed);
  report.stop_reason = failed && reason == StopReason::none ? StopReason::fault : reason;
  report.stop_strength = info ? info->strength : StopStrength::none;
  report.message = failure;
  {
    std::lock_guard lock(active_mutex_);
    active_id_.reset();
    active_stop_.reset();
  }
  journal_stops.reset();
  store_->finish_run(id, report.state, report.stop_reason,
                     reason == StopReason::none ? std::nullopt : report.graph_quiet_ms,
                     reason == StopReason::none ? std::nullopt : report.hardware_safe_ms, failure);
  {
    nlohmann::json f = {{"state", to_string(report.state)}};
    if (report.stop_reason != StopReason::none) f["stop_reason"] = to_string(report.stop_reason);
    if (!failure.empty()) f["message"] = failure;
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
