#include "hardware/hardware_agent.hpp"

#include "waferscan/error.hpp"

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <future>
#include <mutex>
#include <thread>

namespace ws {

namespace {
using Clock = std::chrono::steady_clock;
}  // namespace

std::string_view to_string(CallOutcome outcome) noexcept {
  switch (outcome) {
    case CallOutcome::ok:
      return "ok";
    case CallOutcome::failed:
      return "failed";
    case CallOutcome::timed_out:
      return "timed_out";
    case CallOutcome::skipped:
      return "skipped";
  }
  return "unknown";
}

struct Worker {
  std::thread thread;
  bool abandoned = false;  // guarded by State::mutex
  bool exited = false;     // guarded by State::mutex
  std::function<void()> current_abandon;
};

namespace {
thread_local Worker* tl_worker = nullptr;
}

struct HardwareAgent::State {
  Machine machine;
  Options options;
  std::mutex mutex;
  std::condition_variable wake;       // workers: queue changed or stopping
  std::condition_variable watch;      // watchdog: active call changed
  std::condition_variable call_done;  // an active call returned
  std::condition_variable worker_exit;
  std::deque<Command> queue;
  bool stopping = false;
  bool watchdog_stop = false;
  std::shared_ptr<Worker> worker;
  struct ActiveCall {
    Worker* worker = nullptr;
    Device device = Device::stage;
    std::string what;
    Clock::time_point deadline;
    std::uint64_t serial = 0;
  };
  std::optional<ActiveCall> active;
  std::uint64_t next_serial = 1;
  std::array<std::string, kDeviceCount> faults{};
  FaultListener fault_listener;
  OverrunListener overrun_listener;
  int listener_busy = 0;  // listener invocations in progress (off the lock)
  std::condition_variable listener_idle;
  std::atomic<std::size_t> abandoned{0};
  std::thread watchdog;

  void start_worker_locked(const std::shared_ptr<State>& self) {
    auto w = std::make_shared<Worker>();
    worker = w;
    w->thread = std::thread([self, w] { self->worker_loop(w); });
  }

  void worker_loop(const std::shared_ptr<Worker>& self) {
    tl_worker = self.get();
    for (;;) {
      Command command;
      {
        std::unique_lock lock(mutex);
        wake.wait(lock, [&] { return stopping || !queue.empty(); });
        if (queue.empty()) break;  // stopping, nothing left
        command = std::move(queue.front());
        queue.pop_front();
        self->current_abandon = command.abandon;
      }
      // Commands handle their own errors; an exception escaping one must not kill the only
      // thread that owns the hardware.
      try {
        command.run();
      } catch (...) {
      }
      std::lock_guard lock(mutex);
      if (self->abandoned) return;  // replaced; the queue is no longer ours
      self->current_abandon = nullptr;
    }
    std::lock_guard lock(mutex);
    self->exited = true;
    worker_exit.notify_all();
  }

  // The abort is a driver call too, and may hang as well: it runs on a thread of its own, so the
  // watchdog never blocks in a driver. The returned flag turns true when the abort returned.
  static std::shared_ptr<std::atomic<bool>> launch_abort(const std::shared_ptr<State>& self,
                                                         Device d) {
    auto returned = std::make_shared<std::atomic<bool>>(false);
    std::thread([self, d, returned] {
      self->abort_device(d);
      returned->store(true);
    }).detach();
    return returned;
  }

  void abort_device(Device d) {
    try {
      switch (d) {
        case Device::camera:
          if (machine.camera) machine.camera->abort();
          break;
        case Device::stage:
          if (machine.stage) machine.stage->stop();
          break;
        case Device::light:
          break;  // a lamp has no abort path: only the fault remains
      }
    } catch (...) {  // an abort path that throws is as good as one that does not return
    }
  }

  void watchdog_loop(const std::shared_ptr<State>& self) {
    std::unique_lock lock(mutex);
    while (!watchdog_stop) {
      if (!active) {
        watch.wait(lock);
        continue;
      }
      const ActiveCall call = *active;
      const auto same_call = [&] { return active && active->serial == call.serial; };
      if (watch.wait_until(lock, call.deadline, [&] { return watchdog_stop || !same_call(); })) {
        continue;
      }
      // Overrun: abort through the driver's own abort path, off the lock.
      auto on_overrun = overrun_listener;
      ++listener_busy;
      lock.unlock();
      if (on_overrun) on_overrun(call.device, call.what);
      const auto abort_returned = launch_abort(self, call.device);
      lock.lock();
      if (--listener_busy == 0) listener_idle.notify_all();
      if (call_done.wait_for(lock, options.abort_grace, [&] { return !same_call(); })) continue;
      // The abort did not end the call within its grace: fault the device and abandon the stuck
      // thread (and the abort's, if that is stuck too).
      std::string reason = call.what + " did not return after its timeout and the abort path";
      if (!abort_returned->load()) {
        reason += " (the abort itself did not return within " +
                  std::to_string(options.abort_grace.count()) + " ms)";
        abandoned.fetch_add(1);
      }
      faults[static_cast<std::size_t>(call.device)] = reason;
      Worker* stuck = call.worker;
      stuck->abandoned = true;
      auto abandon = std::move(stuck->current_abandon);
      active.reset();
      abandoned.fetch_add(1);
      if (worker.get() == stuck) {
        worker->thread.detach();
        worker.reset();
        if (!stopping) start_worker_locked(self);
        worker_exit.notify_all();
      }
      auto on_fault = fault_listener;
      ++listener_busy;
      lock.unlock();
      if (abandon) abandon();
      if (on_fault) on_fault(call.device, reason);
      lock.lock();
      if (--listener_busy == 0) listener_idle.notify_all();
    }
  }
};

HardwareAgent::HardwareAgent(Machine machine, Options options)
    : state_(std::make_shared<State>()), machine_(machine) {
  state_->machine = std::move(machine);
  state_->options = options;
  std::lock_guard lock(state_->mutex);
  state_->start_worker_locked(state_);
  state_->watchdog = std::thread([s = state_] { s->watchdog_loop(s); });
}

HardwareAgent::~HardwareAgent() {
  drop_pending();
  std::shared_ptr<Worker> last;
  {
    std::unique_lock lock(state_->mutex);
    state_->stopping = true;
    state_->wake.notify_all();
    // The current worker finishes its command (the watchdog may abandon it meanwhile).
    state_->worker_exit.wait(lock, [&] { return !state_->worker || state_->worker->exited; });
    last = state_->worker;
    state_->watchdog_stop = true;
    state_->watch.notify_all();
  }
  if (last && last->thread.joinable()) last->thread.join();
  state_->watchdog.join();
}

void HardwareAgent::post(Command command) {
  {
    std::lock_guard lock(state_->mutex);
    if (!state_->stopping) {
      state_->queue.push_back(std::move(command));
      state_->wake.notify_all();
      return;
    }
  }
  if (command.drop) command.drop();
}

std::size_t HardwareAgent::drop_pending() {
  std::deque<Command> dropped;
  {
    std::lock_guard lock(state_->mutex);
    dropped.swap(state_->queue);
  }
  for (auto& c : dropped) {
    if (c.drop) c.drop();
  }
  return dropped.size();
}

CallResult HardwareAgent::call(std::string name, std::function<void()> fn,
                               std::chrono::milliseconds timeout) {
  // The promise is shared so that a late completion after a timeout touches only what it owns.
  auto done = std::make_shared<std::promise<CallResult>>();
  auto settled = std::make_shared<std::atomic<bool>>(false);
  auto settle = [done, settled](CallResult r) {
    if (!settled->exchange(true)) done->set_value(std::move(r));
  };
  auto result = done->get_future();
  post(Command{std::move(name),
               [fn = std::move(fn), settle] {
                 try {
                   fn();
                   settle(CallResult{CallOutcome::ok, {}});
                 } catch (const CommandAbandoned&) {
                   throw;
                 } catch (const std::exception& e) {
                   settle(CallResult{CallOutcome::failed, e.what()});
                 }
               },
               [settle] {
                 settle(CallResult{CallOutcome::failed, "dropped before running"});
               },
               [settle] {
                 settle(CallResult{CallOutcome::timed_out, "abandoned by the watchdog"});
               }});
  if (result.wait_for(timeout) != std::future_status::ready) {
    return CallResult{CallOutcome::timed_out,
                      "no answer within " + std::to_string(timeout.count()) + " ms"};
  }
  return result.get();
}

void HardwareAgent::device_call(Device device, std::string_view what,
                                std::chrono::milliseconds timeout,
                                const std::function<void()>& fn) {
  Worker* self = tl_worker;
  State& s = *state_;
  {
    std::lock_guard lock(s.mutex);
    const auto& fault = s.faults[static_cast<std::size_t>(device)];
    if (!fault.empty()) {
      throw HardwareError(std::string(to_string(device)) + " is Faulted (" + fault +
                          "); an operator reset is required");
    }
    if (self != nullptr) {
      if (self->abandoned) throw CommandAbandoned{};
      const auto deadline = timeout.count() > 0 ? Clock::now() + timeout : Clock::time_point::max();
      s.active =
          State::ActiveCall{self, device, std::string(to_string(device)) + " " + std::string(what),
                            deadline, s.next_serial++};
      s.watch.notify_all();
    }
  }
  std::exception_ptr error;
  try {
    fn();
  } catch (...) {
    error = std::current_exception();
  }
  if (self == nullptr) {  // not on a worker: no watchdog (e.g. a direct call in a test)
    if (error) std::rethrow_exception(error);
    return;
  }
  bool abandoned = false;
  {
    std::lock_guard lock(s.mutex);
    abandoned = self->abandoned;
    if (s.active && s.active->worker == self) s.active.reset();
    s.call_done.notify_all();
    s.watch.notify_all();
  }
  if (abandoned) throw CommandAbandoned{};
  if (error) std::rethrow_exception(error);
}

void HardwareAgent::set_abort_grace(std::chrono::milliseconds grace) {
  std::lock_guard lock(state_->mutex);
  state_->options.abort_grace = grace;
}

bool HardwareAgent::faulted(Device d) const {
  std::lock_guard lock(state_->mutex);
  return !state_->faults[static_cast<std::size_t>(d)].empty();
}

std::string HardwareAgent::fault_reason(Device d) const {
  std::lock_guard lock(state_->mutex);
  return state_->faults[static_cast<std::size_t>(d)];
}

void HardwareAgent::mark_faulted(Device d, const std::string& reason) {
  std::lock_guard lock(state_->mutex);
  state_->faults[static_cast<std::size_t>(d)] = reason.empty() ? "faulted" : reason;
}

void HardwareAgent::reset_faults() {
  std::lock_guard lock(state_->mutex);
  for (auto& f : state_->faults) f.clear();
}

// Both setters wait for a listener invocation in progress, so that after clearing a listener
// nothing it captured is used any more.
void HardwareAgent::set_fault_listener(FaultListener fn) {
  std::unique_lock lock(state_->mutex);
  state_->listener_idle.wait(lock, [&] { return state_->listener_busy == 0; });
  state_->fault_listener = std::move(fn);
}

void HardwareAgent::set_overrun_listener(OverrunListener fn) {
  std::unique_lock lock(state_->mutex);
  state_->listener_idle.wait(lock, [&] { return state_->listener_busy == 0; });
  state_->overrun_listener = std::move(fn);
}

std::size_t HardwareAgent::abandoned_threads() const noexcept {
  return state_->abandoned.load();
}

}  // namespace ws
