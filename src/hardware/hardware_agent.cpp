#include "hardware/hardware_agent.hpp"

#include <exception>
#include <future>
#include <memory>

namespace ws {

HardwareAgent::HardwareAgent(Machine machine) : machine_(std::move(machine)) {
  thread_ = std::thread([this] { loop(); });
}

HardwareAgent::~HardwareAgent() {
  drop_pending();
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void HardwareAgent::post(Command command) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      queue_.push_back(std::move(command));
      wake_.notify_one();
      return;
    }
  }
  if (command.drop) command.drop();
}

std::size_t HardwareAgent::drop_pending() {
  std::deque<Command> dropped;
  {
    std::lock_guard lock(mutex_);
    dropped.swap(queue_);
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
  auto result = done->get_future();
  post(Command{std::move(name),
               [fn = std::move(fn), done] {
                 try {
                   fn();
                   done->set_value(CallResult{CallOutcome::ok, {}});
                 } catch (const std::exception& e) {
                   done->set_value(CallResult{CallOutcome::failed, e.what()});
                 }
               },
               [done] { done->set_value(CallResult{CallOutcome::failed, "dropped before running"}); }});
  if (result.wait_for(timeout) != std::future_status::ready) {
    return CallResult{CallOutcome::timed_out, "no answer within " + std::to_string(timeout.count()) +
                                                  " ms"};
  }
  return result.get();
}

void HardwareAgent::loop() {
  for (;;) {
    Command command;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and nothing left
      command = std::move(queue_.front());
      queue_.pop_front();
    }
    // Commands handle their own errors; an exception escaping one must not kill the only thread
    // that owns the hardware.
    try {
      command.run();
    } catch (...) {
    }
    commands_run_.fetch_add(1);
  }
}

}  // namespace ws
