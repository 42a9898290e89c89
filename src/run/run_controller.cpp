// RunController::run as named steps: prepare, start, run the graph, finish recording, safe-stop,
// settle, report. What happens on a stop is in stop_wiring.cpp; the safe-stop plan in
// safe_stop_plan.cpp; the outcome and exit code in outcome.cpp.
#include "waferscan/run.hpp"

#include "base/content_hash.hpp"
#include "hardware/hardware_agent.hpp"
#include "hardware/timeout_policy.hpp"
#include "pipeline/file_source.hpp"
#include "pipeline/inspection_graph.hpp"
#include "pipeline/live_source.hpp"
#include "pipeline/set_recorder.hpp"
#include "publish/journal.hpp"
#include "run/outcome.hpp"
#include "run/safe_stop_plan.hpp"
#include "run/stop_wiring.hpp"
#include "store/run_owner.hpp"
#include "waferscan/classifier.hpp"
#include "waferscan/error.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace ws {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// One run while it is driven: what every step reads and writes.
struct RunSession {
  RunSession(const RunRequest& r, const RunHooks& h, RunId run_id, Store& store,
             Clock::time_point t0)
      : request(r),
        hooks(h),
        recipe(r.recipe),
        id(run_id),
        journal(store, run_id, static_cast<int>(r.recipe.sites.size()), r.event_sinks, r.progress),
        t_start(t0) {}

  const RunRequest& request;
  const RunHooks& hooks;
  const Recipe& recipe;
  RunId id;
  Journal journal;
  Clock::time_point t_start;
  std::unique_ptr<pipeline::SetRecorder> recorder;
  std::shared_ptr<StopSource> stop = std::make_shared<StopSource>();
  std::shared_ptr<pipeline::SiteTracker> tracker;
  std::unique_ptr<StopWiring> wiring;
  std::optional<StopInfo> stopped;  ///< what stopped the run, as seen once the graph was quiet
  std::string unsafe;               ///< the safe-stop steps that left the machine unsafe
  RunOutcome outcome;
  RunReport report;
};

struct RunController::State {
  State(Machine machine, const std::filesystem::path& db, AgentOptions options, RunHooks h)
      : store(std::make_unique<Store>(db)),
        owner(db),
        agent(std::make_unique<HardwareAgent>(std::move(machine), options)),
        agent_options(options),
        hooks(std::move(h)) {}

  std::unique_ptr<Store> store;
  RunOwnerLock owner;
  std::unique_ptr<HardwareAgent> agent;
  AgentOptions agent_options;  // what a recipe without timeouts.abort_grace_ms gets
  RunHooks hooks;
  std::mutex run_mutex;  ///< held for the whole of a run, safe-stop included
  mutable std::mutex active_mutex;
  std::optional<RunId> active_id;
  std::shared_ptr<StopSource> active_stop;
};

namespace {

double ms_since(Clock::time_point t0, Clock::time_point t1) {
  return std::chrono::duration<double, std::milli>(t1 - t0).count();
}

// Slots for every site index of the run (a resumed or --sites run has gaps in its indices).
std::size_t tracker_slots(const Recipe& recipe) {
  std::size_t n = 0;
  for (const SiteSpec& s : recipe.sites) n = std::max(n, static_cast<std::size_t>(s.index) + 1);
  return n;
}

RunRecord run_record(const RunRequest& request) {
  RunRecord record;
  record.recipe_name = request.recipe.name;
  // Absolute, so that `resume` and `export` work from any working directory.
  record.recipe_path = request.recipe.path.empty()
                           ? std::string()
                           : std::filesystem::absolute(request.recipe.path).string();
  if (request.set) record.set_path = request.set->dir.string();
  record.graph_path = request.graph_path;
  record.model_path = request.model_path;
  return record;
}

// What the run is made from, stored with it (Store::run_inputs).
RunInputs run_inputs(const RunRequest& request) {
  RunInputs in;
  in.recipe_text = request.recipe.source_text;
  if (!in.recipe_text.empty()) in.recipe_hash = content_hash(in.recipe_text);
  if (request.set) in.set_hash = request.set->source_hash;
  in.graph_hash = request.graph.source_hash;
  if (request.classifier != nullptr) {
    in.model_hash = request.classifier->content_hash();
    in.model_classes = request.classifier->class_names();
  }
  return in;
}

}  // namespace

RunController::RunController(Machine machine, const std::filesystem::path& db,
                             AgentOptions agent_options, RunHooks hooks)
    : state_(std::make_unique<State>(std::move(machine), db, agent_options, std::move(hooks))) {
  recover_interrupted_runs(*state_->store);
  for (const auto& f : state_->store->faults()) {
    if (auto d = device_from_string(f.device)) state_->agent->mark_faulted(*d, f.reason);
  }
}

RunController::~RunController() = default;

RunReport RunController::run(const RunRequest& request) {
  return run(request, state_->hooks);
}

RunReport RunController::run(const RunRequest& request, const RunHooks& hooks) {
  std::unique_lock run_lock(state_->run_mutex, std::try_to_lock);
  if (!run_lock.owns_lock()) {
    throw RunRejected("a run is in progress; a new run starts only after its safe-stop finished");
  }
  if (request.classifier == nullptr) throw std::invalid_argument("run: no classifier");
  refuse_if_faulted();
  const std::unique_ptr<RunSession> s = prepare(request, hooks);
  start(*s);
  run_graph(*s);
  finish_recording(*s);
  safe_stop(*s);
  settle(*s);
  return report(*s);
}

void RunController::refuse_if_faulted() {
  std::string faulted;
  for (const auto& f : state_->store->faults()) {
    faulted += (faulted.empty() ? "" : "; ") + f.device + " is Faulted since " + f.since + " (" +
               f.reason + ")";
  }
  if (!faulted.empty()) {
    throw RunRejected(faulted +
                      ": an operator must check the machine and run "
                      "`waferscan hardware reset`");
  }
}

// The run exists in the store, its journal is open, a recording folder is ready (one that
// cannot be written is refused before the run exists).
std::unique_ptr<RunSession> RunController::prepare(const RunRequest& request,
                                                   const RunHooks& hooks) {
  const auto t0 = Clock::now();
  const Recipe& recipe = request.recipe;
  std::unique_ptr<pipeline::SetRecorder> recorder;
  if (!request.record_dir.empty()) {
    recorder = std::make_unique<pipeline::SetRecorder>(
        request.record_dir, recipe,
        request.golden.empty() ? state_->agent->machine().golden : request.golden,
        request.flat.empty() ? state_->agent->machine().flat : request.flat);
  }
  const RunId id = request.resume ? (state_->store->resume_run(*request.resume), *request.resume)
                                  : state_->store->create_run(run_record(request), recipe.sites,
                                                              run_inputs(request));
  state_->store->set_run_owner(id, state_->owner.path());
  auto s = std::make_unique<RunSession>(request, hooks, id, *state_->store, t0);
  s->recorder = std::move(recorder);
  s->tracker = std::make_shared<pipeline::SiteTracker>(tracker_slots(recipe));
  s->report.id = id;
  s->journal.event("state", {{"state", to_string(RunState::starting)},
                             {"recipe", recipe.name},
                             {"sites", recipe.sites.size()},
                             {"in_flight", request.graph.in_flight}});
  return s;
}

void RunController::set_active(RunSession* s) {
  std::lock_guard lock(state_->active_mutex);
  if (s != nullptr) {
    state_->active_id = s->id;
    state_->active_stop = s->stop;
  } else {
    state_->active_id.reset();
    state_->active_stop.reset();
  }
}

// Stops are wired and accepted for this run from here on.
void RunController::start(RunSession& s) {
  s.wiring = std::make_unique<StopWiring>(s.stop, s.journal, *state_->agent, s.recipe);
  set_active(&s);
  if (s.request.resume) {
    const auto again = state_->store->run(s.id);
    s.journal.event("resumed", {{"sites", s.recipe.sites.size()},
                                {"resume_count", again ? again->resume_count : 0},
                                {"resumed_at", again ? again->resumed_at : std::string()}});
  }
  state_->agent->set_abort_grace(s.recipe.timeouts.abort_grace_ms > 0
                                     ? call_timeout(0, s.recipe.timeouts.abort_grace_ms)
                                     : state_->agent_options.abort_grace);
  if (s.request.on_started) s.request.on_started(s.id);
}

namespace {

std::unique_ptr<pipeline::FrameSource> frame_source(RunSession& s, HardwareAgent& agent) {
  if (s.request.set) {
    return std::make_unique<pipeline::FileSource>(s.request.set, s.stop->token(), s.tracker);
  }
  return std::make_unique<pipeline::LiveSource>(
      agent, s.stop->token(), s.tracker, DeviceTimeouts::from(s.recipe),
      cv::Size(s.recipe.camera.width, s.recipe.camera.height), s.hooks.probe);
}

pipeline::GraphContext graph_context(RunSession& s, HardwareAgent& agent,
                                     pipeline::FrameSource& source) {
  const RunRequest& request = s.request;
  pipeline::GraphContext ctx;
  ctx.recipe = &s.recipe;
  ctx.spec = request.graph;
  ctx.source = &source;
  ctx.golden = request.golden.empty() ? agent.machine().golden : request.golden;
  ctx.flat = request.flat.empty() ? agent.machine().flat : request.flat;
  if (s.recorder) ctx.record = [r = s.recorder.get()](const pipeline::Work& w) { r->record(w); };
  ctx.classifier = request.classifier;
  ctx.token = s.stop->token();
  ctx.tracker = s.tracker.get();
  SiteWriter write = [&journal = s.journal](SiteResult& r) { journal.site(r); };
  ctx.publish = s.hooks.decorate_site_writer ? s.hooks.decorate_site_writer(std::move(write))
                                             : std::move(write);
  ctx.probe = s.hooks.probe;
  ctx.on_body_failure = [&wiring = *s.wiring](std::string_view node, const std::exception& e) {
    wiring.body_failed(node, e.what());
  };
  return ctx;
}

}  // namespace

// The graph runs until it is quiet: every site published, or a stop drained or aborted it.
void RunController::run_graph(RunSession& s) {
  {
    oneapi::tbb::task_group_context tgc;
    const auto source = frame_source(s, *state_->agent);
    pipeline::InspectionGraph graph(graph_context(s, *state_->agent, *source), tgc);
    StopCallback fan_out = s.wiring->fan_out_to(graph);
    s.journal.state(RunState::running);
    try {
      graph.run();
    } catch (const std::exception& e) {
      s.wiring->record_failure(e.what());
    }
    s.wiring->graph_quiet();
    s.report.max_in_flight = graph.max_in_flight();
  }
  s.stopped = s.stop->info();
  if (s.stopped) s.report.graph_quiet_ms = ms_since(s.stopped->requested_at, Clock::now());
}

// The inspection's results stand whatever happens to the recording; only the set may be lost.
void RunController::finish_recording(RunSession& s) {
  if (!s.recorder) return;
  try {
    const Manifest recorded = s.recorder->finish();
    s.journal.event("recorded",
                    {{"set", recorded.dir.string()}, {"frames", recorded.frames.size()}});
  } catch (const std::exception& e) {
    spdlog::warn("record: cannot write the manifest: {}", e.what());
    s.journal.event("recorded", {{"set", s.request.record_dir.string()}, {"error", e.what()}});
  }
}

namespace {

// The device a safe-stop step makes safe: the stage parked, the light off.
std::optional<Device> made_safe_by(SafeStopStepId id) {
  if (id == SafeStopStepId::park_stage) return Device::stage;
  if (id == SafeStopStepId::light_off) return Device::light;
  return std::nullopt;
}

// A stage that did not park or a light that did not go off leaves the machine unsafe: the device
// is Faulted (until an operator reset) and the steps are named for the run's outcome.
std::string fault_unsafe_devices(HardwareAgent& agent, Journal& journal,
                                 const std::vector<SafeStopStepResult>& steps) {
  std::string unsafe;
  for (const SafeStopStepResult& r : steps) {
    const auto device = made_safe_by(r.id);
    if (!device || r.outcome == CallOutcome::ok || r.outcome == CallOutcome::skipped) continue;
    std::string what = std::string(to_string(r.id)) + " " + std::string(to_string(r.outcome));
    if (!r.message.empty()) what += " (" + r.message + ")";
    if (!agent.faulted(*device)) {
      agent.mark_faulted(*device, "safe stop: " + what);
      journal.event("hardware", {{"device", to_string(*device)},
                                 {"state", "faulted"},
                                 {"reason", agent.fault_reason(*device)}});
    }
    unsafe += (unsafe.empty() ? "" : "; ") + what;
  }
  return unsafe;
}

// The devices Faulted now, with their reasons ("camera: ...; stage: ...").
std::string faulted_devices(const HardwareAgent& agent) {
  std::string faulted;
  for (std::size_t d = 0; d < kDeviceCount; ++d) {
    const auto device = static_cast<Device>(d);
    if (!agent.faulted(device)) continue;
    faulted += (faulted.empty() ? "" : "; ") + std::string(to_string(device)) + ": " +
               agent.fault_reason(device);
  }
  return faulted;
}

}  // namespace

// Always, also after completion or failure: every step on its own deadline, none skipped.
void RunController::safe_stop(RunSession& s) {
  try {
    s.journal.state(RunState::stopping);
  } catch (const std::exception& e) {  // a full disk must not keep the machine from being made safe
    s.wiring->record_failure(e.what());
  }
  auto steps = safe_stop_plan(*state_->agent, s.journal, *s.tracker, s.recipe);
  if (s.hooks.probe) probe_steps(steps, s.hooks.probe);
  s.report.safe_stop =
      run_safe_stop(steps, [&](const SafeStopStepResult& r) { journal_step(s.journal, r); });
  s.unsafe = fault_unsafe_devices(*state_->agent, s.journal, s.report.safe_stop);
  if (s.stopped) s.report.hardware_safe_ms = ms_since(s.stopped->requested_at, Clock::now());
  s.wiring->finish_monitor();
}

// The outcome is decided and stored; device faults are recorded so that no later run (of this
// process or another) starts on a Faulted device.
void RunController::settle(RunSession& s) {
  s.outcome = settle_outcome(s.stopped, s.wiring->failure(), state_->store->count_sites(s.id),
                             {s.unsafe, faulted_devices(*state_->agent)});
  set_active(nullptr);
  s.wiring->unhook();
  for (std::size_t d = 0; d < kDeviceCount; ++d) {
    const auto device = static_cast<Device>(d);
    if (state_->agent->faulted(device)) {
      state_->store->record_fault(std::string(to_string(device)),
                                  state_->agent->fault_reason(device), s.id);
    }
  }
  const bool stopped = s.outcome.reason != StopReason::none;
  if (!stopped) {  // a stop that changed nothing has no latency to report
    s.report.graph_quiet_ms.reset();
    s.report.hardware_safe_ms.reset();
  }
  state_->store->finish_run(s.id, s.outcome.state, s.outcome.reason, s.report.graph_quiet_ms,
                            s.report.hardware_safe_ms, s.outcome.message);
  nlohmann::json f = {{"state", to_string(s.outcome.state)}};
  if (stopped) f["stop_reason"] = to_string(s.outcome.reason);
  if (!s.outcome.message.empty()) f["message"] = s.outcome.message;
  s.journal.event("state", std::move(f));
  s.journal.flush();
}

RunReport RunController::report(RunSession& s) {
  RunReport& r = s.report;
  r.state = s.outcome.state;
  r.stop_reason = s.outcome.reason;
  r.stop_strength = s.stopped ? s.stopped->strength : StopStrength::none;
  r.message = s.outcome.message;
  r.machine_safe = s.outcome.machine_safe;
  r.sites = state_->store->count_sites(s.id);
  // Counted by the store: loading every site of a long run would cost memory with its length.
  r.defects_by_class = state_->store->count_defects_by_class(s.id);
  r.defects = 0;
  for (const auto& [name, n] : r.defects_by_class) r.defects += n;
  r.duration_s = std::chrono::duration<double>(Clock::now() - s.t_start).count();
  return std::move(r);
}

bool RunController::device_faulted(Device d) const {
  return state_->agent->faulted(d);
}

std::size_t RunController::abandoned_driver_threads() const {
  return state_->agent->abandoned_threads();
}

Store& RunController::store() noexcept {
  return *state_->store;
}

bool RunController::emergency_stop(const std::string& origin) {
  return request_stop(std::nullopt, StopReason::emergency_stop, StopStrength::abort, origin);
}

int RunController::reset_hardware(const std::string& who) {
  std::unique_lock run_lock(state_->run_mutex, std::try_to_lock);
  if (!run_lock.owns_lock()) throw RunRejected("cannot reset hardware while a run is in progress");
  state_->agent->reset_faults();
  return state_->store->reset_faults(who);
}

std::optional<RunId> RunController::active_run() const {
  std::lock_guard lock(state_->active_mutex);
  return state_->active_id;
}

StopToken RunController::active_token() const {
  std::lock_guard lock(state_->active_mutex);
  return state_->active_stop ? state_->active_stop->token() : StopToken{};
}

bool RunController::request_stop(std::optional<RunId> id, StopReason reason, StopStrength strength,
                                 std::string origin) {
  std::shared_ptr<StopSource> source;
  {
    std::lock_guard lock(state_->active_mutex);
    if (!state_->active_id || (id && *id != *state_->active_id)) return false;
    source = state_->active_stop;
  }
  return source->request(reason, strength, std::move(origin));
}

}  // namespace ws
