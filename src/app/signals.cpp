#include "app/signals.hpp"

#include <pthread.h>
#include <csignal>

namespace ws::app {

namespace {
constexpr int kWakeSignal = SIGUSR2;

sigset_t stop_signal_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, kWakeSignal);
  return set;
}
}  // namespace

void block_stop_signals() {
  const sigset_t set = stop_signal_set();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

SignalStopper::SignalStopper(RunController& controller) : controller_(controller) {
  thread_ = std::thread([this] {
    const sigset_t set = stop_signal_set();
    int received = 0;
    while (!done_.load()) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) continue;
      if (sig == kWakeSignal) continue;
      ++received;
      const StopReason reason =
          sig == SIGTERM ? StopReason::shutdown : StopReason::operator_request;
      const StopStrength strength = received == 1 ? StopStrength::stop : StopStrength::abort;
      const char* name = sig == SIGTERM ? "SIGTERM" : "SIGINT";
      controller_.request_stop(std::nullopt, reason, strength, name);
    }
  });
}

SignalStopper::~SignalStopper() {
  done_.store(true);
  pthread_kill(thread_.native_handle(), kWakeSignal);
  thread_.join();
}

}  // namespace ws::app
