// Counts a blocking device call as "inside the driver" for as long as it runs.
#pragma once

#include "waferscan/sim/sim_machine.hpp"

namespace ws::sim {

/// RAII: busy_calls + 1 for the scope's lifetime, and max_busy_calls raised to the peak.
class BusyScope {
 public:
  explicit BusyScope(SimCounters& counters) : counters_(counters) {
    const int now = ++counters_.busy_calls;
    int peak = counters_.max_busy_calls.load();
    while (now > peak && !counters_.max_busy_calls.compare_exchange_weak(peak, now)) {
    }
  }
  ~BusyScope() { --counters_.busy_calls; }
  BusyScope(const BusyScope&) = delete;
  BusyScope& operator=(const BusyScope&) = delete;

 private:
  SimCounters& counters_;
};

}  // namespace ws::sim
