#include "app/signals.hpp"

#include <pthread.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <cstdlib>
#include <iostream>

namespace ws::app {

namespace {

struct StopSignal {
  int sig;
  const char* name;
  StopReason reason;
};

// Every catchable signal whose default action ends the process, and what it asks of a run. A
// closed terminal (SIGHUP), a batch system's limit (SIGXCPU) or a timer are the machine going
// away: shutdown. The rest are someone asking this run to stop: operator.
constexpr std::array<StopSignal, 8> kStopSignals{{
    {SIGINT, "SIGINT", StopReason::operator_request},
    {SIGTERM, "SIGTERM", StopReason::shutdown},
    {SIGHUP, "SIGHUP", StopReason::shutdown},
    {SIGQUIT, "SIGQUIT", StopReason::operator_request},
    {SIGUSR1, "SIGUSR1", StopReason::operator_request},
    {SIGUSR2, "SIGUSR2", StopReason::operator_request},
    {SIGALRM, "SIGALRM", StopReason::shutdown},
    {SIGXCPU, "SIGXCPU", StopReason::shutdown},
}};

const StopSignal* find_stop_signal(int sig) {
  for (const auto& s : kStopSignals) {
    if (s.sig == sig) return &s;
  }
  return nullptr;
}

sigset_t stop_signal_set() {
  sigset_t set;
  sigemptyset(&set);
  for (const auto& s : kStopSignals) sigaddset(&set, s.sig);
  return set;
}

}  // namespace

void block_stop_signals() {
  const sigset_t set = stop_signal_set();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // A reader that goes away (`--events - | head -n 1`) must not kill the run: writes to it fail
  // with EPIPE instead, and the journal drops that sink (see Journal::write_sinks_locked).
  std::signal(SIGPIPE, SIG_IGN);
  // A file-size limit makes the write fail (EFBIG) instead of killing the process.
  std::signal(SIGXFSZ, SIG_IGN);
}

SignalRouter::SignalRouter() : thread_([this] { loop(); }) {
  thread_.detach();  // lives as long as the process; it never touches a destroyed object
}

SignalRouter& SignalRouter::start() {
  static SignalRouter* router = new SignalRouter();  // never destroyed: the thread outlives main
  return *router;
}

void SignalRouter::loop() {
  const sigset_t set = stop_signal_set();
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) == 0) on_signal(sig);
  }
}

void SignalRouter::on_signal(int sig) {
  const StopSignal* s = find_stop_signal(sig);
  if (s == nullptr) return;
  std::lock_guard lock(mutex_);
  if (controller_ == nullptr) {
    // Nothing is being driven: end the process now, as the signal's default would, but with the
    // documented exit code and a word on why.
    const int code = s->reason == StopReason::shutdown ? exit_code::canceled_shutdown
                                                       : exit_code::canceled_operator;
    std::cerr << "waferscan: stopped by " << s->name << std::endl;
    std::_Exit(code);
  }
  ++received_;
  const StopStrength strength = received_ == 1 ? StopStrength::stop : StopStrength::abort;
  held_ = Held{s->reason, strength, s->name};
  if (active_) deliver_locked();
}

void SignalRouter::deliver_locked() {
  if (!held_ || controller_ == nullptr) return;
  // The first signal's reason stays (StopSource keeps it); a later one only raises the strength.
  controller_->request_stop(std::nullopt, held_->reason, held_->strength, held_->origin);
  held_.reset();
}

void SignalRouter::enter(RunController* controller) {
  std::lock_guard lock(mutex_);
  controller_ = controller;
  received_ = 0;
  held_.reset();
  active_ = false;
}

SignalRouter::RunScope::RunScope(RunController& controller) {
  start().enter(&controller);
}

SignalRouter::RunScope::~RunScope() {
  start().enter(nullptr);
}

void SignalRouter::RunScope::run_started() {
  SignalRouter& r = start();
  std::lock_guard lock(r.mutex_);
  r.active_ = true;
  r.deliver_locked();
}

}  // namespace ws::app
