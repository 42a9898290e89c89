// The banded loops every kernel uses: one cancellation checkpoint per band of rows, serial or
// parallel over bands (tbb::parallel_for in the caller's task_group_context).
#pragma once

#include "kernels/status.hpp"
#include "waferscan/cancel.hpp"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>
#include <oneapi/tbb/task.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <concepts>
#include <stdexcept>
#include <string>

namespace ws::kernels {

/// A band body processes rows [begin, end) of a frame.
template <typename Body>
concept BandBody = std::invocable<Body&, int, int>;

/// Throws std::invalid_argument unless band_rows >= 1. Kernels call it while validating.
inline void require_band_rows(int band_rows, const char* kernel) {
  if (band_rows < 1) {
    throw std::invalid_argument(std::string(kernel) + ": band_rows must be >= 1, got " +
                                std::to_string(band_rows));
  }
}

/// True when the task_group_context the calling code runs in (a flow-graph node body's graph
/// context, an enclosing parallel algorithm's) was cancelled. About 10 ns.
inline bool enclosing_context_canceled() noexcept {
  return tbb::is_current_task_group_canceling();
}

/// True when no other thread can take a task from the calling one: a one-thread arena, or
/// `tbb::global_control max_allowed_parallelism 1`. About 0.1 us.
inline bool one_thread_only() {
  return tbb::this_task_arena::max_concurrency() <= 1 ||
         tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism) <= 1;
}

/// Number of bands of at most `band_rows` rows covering `rows` rows.
inline int band_count(int rows, int band_rows) noexcept {
  return rows <= 0 ? 0 : (rows - 1) / band_rows + 1;
}

/// Calls body(begin, end) for consecutive bands of at most `band_rows` rows covering [0, rows).
/// With an enabled checkpoint it polls `cp` and the enclosing task_group_context before every
/// band (also before the first), so a checkpoint that already fired returns canceled without
/// touching any row, and a stop while running is seen within one band. A disabled checkpoint
/// (`Checkpoint{}`) takes a loop with no checks at all: that is what the benchmarks compare.
template <BandBody Body>
Status for_each_band(int rows, int band_rows, const Checkpoint& cp, Body&& body) {
  if (!cp.enabled()) {
    for (int begin = 0; begin < rows; begin += band_rows) {
      body(begin, std::min(rows, begin + band_rows));
    }
    return enclosing_context_canceled() ? Status::canceled : Status::ok;
  }
  for (int begin = 0; begin < rows; begin += band_rows) {
    if (cp.should_stop() || enclosing_context_canceled()) return Status::canceled;
    body(begin, std::min(rows, begin + band_rows));
  }
  return cp.should_stop() || enclosing_context_canceled() ? Status::canceled : Status::ok;
}

/// Like for_each_band(), but the bands may run concurrently (one tbb task per band), so `body`
/// must be safe to call concurrently on disjoint bands. The tasks run in the caller's
/// task_group_context: cancelling it (g.cancel() on the graph whose node body calls this) drops
/// the bands not yet started, and the bands already started see it at their checkpoint. With an
/// enabled checkpoint each band first polls `cp` and the context; once one band sees a stop, the
/// remaining bands return at once. With one thread to run them (one_thread_only()) the bands run
/// in order on the calling thread as for_each_band() runs them, with no tasks.
/// @return canceled if `cp` fired or the enclosing context was cancelled (some bands may not have
/// run), else ok.
template <BandBody Body>
Status parallel_bands(int rows, int band_rows, const Checkpoint& cp, Body&& body) {
  const int bands = band_count(rows, band_rows);
  if (bands == 0)
    return cp.should_stop() || enclosing_context_canceled() ? Status::canceled : Status::ok;
  const auto run_band = [&](int b) { body(b * band_rows, std::min(rows, (b + 1) * band_rows)); };
  if (bands == 1) {
    // One band: no task, same checks as the serial loop.
    return for_each_band(rows, band_rows, cp, body);
  }
  if (one_thread_only()) {
    // Nobody to share the bands with: no tasks (each costs more than a small band of a
    // memory-bound kernel is worth). The same checks as the tasks get: TBB skips a task whose
    // context was cancelled even when the checkpoint is disabled.
    if (cp.enabled()) return for_each_band(rows, band_rows, cp, body);
    for (int b = 0; b < bands; ++b) {
      if (enclosing_context_canceled()) return Status::canceled;
      run_band(b);
    }
    return enclosing_context_canceled() ? Status::canceled : Status::ok;
  }
  if (!cp.enabled()) {
    tbb::parallel_for(
        tbb::blocked_range<int>(0, bands, 1),
        [&](const tbb::blocked_range<int>& r) {
          for (int b = r.begin(); b < r.end(); ++b) run_band(b);
        },
        tbb::simple_partitioner{});
    return enclosing_context_canceled() ? Status::canceled : Status::ok;
  }
  if (cp.should_stop() || enclosing_context_canceled()) return Status::canceled;
  std::atomic<bool> stopped{false};
  tbb::parallel_for(
      tbb::blocked_range<int>(0, bands, 1),
      [&](const tbb::blocked_range<int>& r) {
        for (int b = r.begin(); b < r.end(); ++b) {
          if (stopped.load(std::memory_order_relaxed)) return;
          if (cp.should_stop() || enclosing_context_canceled()) {
            stopped.store(true, std::memory_order_relaxed);
            return;
          }
          run_band(b);
        }
      },
      tbb::simple_partitioner{});
  return stopped.load() || cp.should_stop() || enclosing_context_canceled() ? Status::canceled
                                                                            : Status::ok;
}

}  // namespace ws::kernels
