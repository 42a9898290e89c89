#include "publish/journal.hpp"
#include "base/json_text.hpp"

#include "store/timestamp.hpp"

namespace ws {

Journal::Journal(Store& store, RunId run, int sites_total, std::vector<std::ostream*> sinks,
                 ProgressFn progress)
    : store_(store),
      run_(run),
      sinks_(std::move(sinks)),
      progress_fn_(std::move(progress)),
      started_(std::chrono::steady_clock::now()) {
  progress_.sites_total = sites_total;
}

std::string Journal::event_line(const std::string& type, nlohmann::json fields) const {
  nlohmann::json line = {{"t", store::iso8601_utc_now()}, {"run", run_}, {"type", type}};
  for (auto& [k, v] : fields.items()) line[k] = std::move(v);
  return json_text(line);
}

void Journal::emit_locked(const std::string& type, nlohmann::json fields) {
  const std::string text = event_line(type, std::move(fields));
  write_sinks_locked(text);
  store_.append_event(run_, type, text);
}

void Journal::write_sinks_locked(const std::string& text) {
  for (std::size_t i = 0; i < sinks_.size();) {
    std::ostream& sink = *sinks_[i];
    sink << text << '\n';
    sink.flush();  // live consumers (a UI, a test) read events as they happen
    if (sink) {
      ++i;
      continue;
    }
    // A reader that went away (a closed pipe, a full disk) is a sink failure: the run goes on,
    // the store keeps every event, and the failure itself is recorded there.
    sinks_.erase(sinks_.begin() + static_cast<std::ptrdiff_t>(i));
    store_.append_event(
        run_, "sink_failed",
        event_line("sink_failed", {{"sink", "events"},
                                   {"message", "event stream write failed; no more events sent"}}));
  }
}

void Journal::event(const std::string& type, nlohmann::json fields) {
  std::lock_guard lock(mutex_);
  emit_locked(type, std::move(fields));
}

void Journal::state(RunState state, StopReason reason, const std::string& message) {
  std::lock_guard lock(mutex_);
  store_.set_state(run_, state, reason, message);
  nlohmann::json fields = {{"state", to_string(state)}};
  if (reason != StopReason::none) fields["stop_reason"] = to_string(reason);
  if (!message.empty()) fields["message"] = message;
  emit_locked("state", std::move(fields));
}

void Journal::site(SiteResult& result) {
  Progress now;
  {
    std::lock_guard lock(mutex_);
    store_site_locked(result);
    now = progress_;
  }
  // Outside the lock: the callback may request a stop, and the stop is journaled.
  if (progress_fn_) progress_fn_(now);
}

void Journal::store_site_locked(SiteResult& result) {
  store_.store_site(run_, result);
  nlohmann::json fields = {{"index", result.site.index},
                           {"name", result.site.name},
                           {"status", to_string(result.status)},
                           {"defects", result.defects.size()}};
  if (!result.reason.empty()) fields["reason"] = result.reason;
  emit_locked("site", std::move(fields));
  ++progress_.sites_published;
  if (result.status == SiteStatus::done) ++progress_.sites_done;
  if (result.status == SiteStatus::unreliable) ++progress_.sites_unreliable;
  progress_.defects += static_cast<int>(result.defects.size());
  progress_.elapsed_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
}

void Journal::flush() {
  std::lock_guard lock(mutex_);
  for (auto* sink : sinks_) sink->flush();
}

Progress Journal::progress() const {
  std::lock_guard lock(mutex_);
  return progress_;
}

}  // namespace ws
