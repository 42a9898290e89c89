#include "app/signals.hpp"

#include <pthread.h>
#include <array>
#include <csignal>

namespace ws::app {

namespace {
// The destructor wakes the waiting thread with this signal; from anyone else it is a stop.
constexpr int kWakeSignal = SIGUSR2;

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

SignalStopper::SignalStopper(RunController& controller) : controller_(controller) {
  thread_ = std::thread([this] {
    const sigset_t set = stop_signal_set();
    int received = 0;
    for (;;) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) continue;
      if (done_.load()) return;
      const StopSignal* s = find_stop_signal(sig);
      if (s == nullptr) continue;
      ++received;
      const StopStrength strength = received == 1 ? StopStrength::stop : StopStrength::abort;
      controller_.request_stop(std::nullopt, s->reason, strength, s->name);
    }
  });
}

SignalStopper::~SignalStopper() {
  done_.store(true);
  pthread_kill(thread_.native_handle(), kWakeSignal);
  thread_.join();
}

}  // namespace ws::app
