// What happens on Stop, in one place. Every way a run can be asked to stop (an operator or signal
// through RunController::request_stop, the machine's interlock, a Faulted device, a health alarm,
// an exception in a node body, the drain deadline) ends in the run's one StopSource; this file
// holds everything that listens to it: the journal of requests, the escalation of a stop to an
// abort when the drain deadline passes, and the fan-out of a request to the graph and the drivers.
#pragma once

#include "hardware/hardware_agent.hpp"
#include "hardware/health_monitor.hpp"
#include "pipeline/inspection_graph.hpp"
#include "publish/journal.hpp"
#include "waferscan/cancel.hpp"
#include "waferscan/recipe.hpp"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace ws {

/// Escalates a stop to an abort (reason kept, origin "drain deadline") when the drain deadline
/// passes after the first request before the graph is quiet.
class DrainWatch {
 public:
  DrainWatch(StopSource& source, std::chrono::milliseconds drain);
  ~DrainWatch();
  DrainWatch(const DrainWatch&) = delete;
  DrainWatch& operator=(const DrainWatch&) = delete;
  /// The graph is quiet: nothing left to escalate. Does not wait for the watch's thread, which may
  /// not get a core at once on a busy machine (a join here measured up to 12 ms at load 8); the
  /// destructor joins it after the safe-stop sequence.
  void finish();
  /// A request arrived: start counting down.
  void poke();

 private:
  void loop();

  StopSource& source_;
  std::chrono::milliseconds drain_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool finished_ = false;
  std::thread thread_;
};

/// The stop wiring of one run, from its start to its end (RAII: the destructor unhooks whatever
/// is still hooked). Thread safety: construct, fan_out_to(), graph_quiet(), finish_monitor() and
/// unhook() from the run's thread; the callbacks it installs run on whichever thread requests.
class StopWiring {
 public:
  /// Journals every request and escalation; makes a device fault (the agent's watchdog) an abort
  /// with reason timeout; starts the health monitor when the machine has a sensor and the recipe a
  /// period (an alarm is a stop or an abort with reason fault, as `monitor.on_alarm` says); arms
  /// the drain watch with the recipe's drain_timeout_ms.
  StopWiring(std::shared_ptr<StopSource> stop, Journal& journal, HardwareAgent& agent,
             const Recipe& recipe);
  ~StopWiring();
  StopWiring(const StopWiring&) = delete;
  StopWiring& operator=(const StopWiring&) = delete;

  /// While `graph` runs: any request admits no new site (queued acquisitions are dropped and end
  /// not_started); an abort also cancels the graph and calls the camera's and the stage's abort
  /// paths at once. The returned registration must be reset before `graph` is destroyed.
  [[nodiscard]] StopCallback fan_out_to(pipeline::InspectionGraph& graph);
  /// A node body threw: the first failure is kept and the run aborts with reason fault.
  void body_failed(std::string_view node, const std::string& what);
  /// The graph's run rethrew `what`: kept if it is the first failure.
  void record_failure(const std::string& what);
  /// The first body failure, if any.
  [[nodiscard]] std::string failure() const;
  /// The graph is quiet: the drain watch has nothing left to escalate.
  void graph_quiet() { drain_.finish(); }
  /// After the safe-stop sequence: stops the health monitor and journals its statistics.
  void finish_monitor();
  /// Requests stop being journaled and device faults reaching the run (the run is over).
  void unhook();

 private:
  void start_monitor(const Recipe& recipe);

  std::shared_ptr<StopSource> stop_;
  Journal& journal_;
  HardwareAgent& agent_;
  StopCallback journal_stops_;
  std::unique_ptr<HealthMonitor> monitor_;
  DrainWatch drain_;
  mutable std::mutex failure_mutex_;
  std::string failure_;
};

}  // namespace ws
