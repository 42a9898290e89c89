// The simulated machine: stage, light and camera with realistic (scaled) timing, and a camera that
// renders a synthetic die image per site with known defects (the ground truth).
#pragma once

#include "waferscan/hardware.hpp"
#include "waferscan/recipe.hpp"
#include "waferscan/sim/fault_spec.hpp"
#include "waferscan/site.hpp"

#include <opencv2/core.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ws {

/// A defect the simulator put on a frame: its class and its box in frame pixels.
struct TrueDefect {
  cv::Rect bbox;
  std::string class_name;
};

/// Counters the tests read to check what the hardware went through.
struct SimCounters {
  std::atomic<int> moves{0};
  std::atomic<int> captures{0};
  std::atomic<int> camera_aborts{0};
  std::atomic<int> stage_stops{0};
  std::atomic<int> parks{0};
  std::atomic<int> light_switches{0};
  std::atomic<int> busy_calls{0};      ///< device calls currently inside a driver
  std::atomic<int> max_busy_calls{0};  ///< the most ever inside at once (must stay 1 for blocking
                                       ///< calls: one thread owns the hardware)

  // Fault injection (see SimMachine::add_fault).
  std::atomic<int> faults_fired{0};     ///< matches of a fault spec with a call, every kind
  std::atomic<int> injected_hangs{0};   ///< calls that hung
  std::atomic<int> injected_slows{0};   ///< calls made slow
  std::atomic<int> injected_errors{0};  ///< calls that threw an injected HardwareError
  std::atomic<int> ignored_aborts{0};   ///< camera.abort / stage.stop calls that did nothing
  std::atomic<int> corrupt_frames{0};   ///< wrong-size frames returned by capture
  std::atomic<int> interlocks{0};       ///< interlock events raised (faults and API)
  std::atomic<int> hung_calls{0};       ///< calls blocked in an injected hang right now
  std::atomic<int> health_readings{0};  ///< temperature readings taken from the health sensor
};

/// Builds the simulated devices from a recipe. Everything is deterministic from recipe.seed: the
/// same die renders the same image, the same defects, and the same placement jitter every time.
/// Thread safety: the devices follow the interfaces' rules; truth() and render() are const and
/// thread-safe.
///
/// Fault injection (recipe.faults, add_fault()). Every device call is numbered per target and
/// matched against the faults; the ones that apply act before the call proceeds:
/// - `hang`: the call blocks until its abort path (camera.abort for capture, stage.stop for move
///   and park) is called, then throws HardwareAborted. With an `ignore_abort` that also applies,
///   or on a call with no abort path (light.on/off, camera.abort, stage.stop themselves), it blocks
///   until release_hangs(); a hung abort path then returns having aborted nothing.
/// - `ignore_abort`: on camera.abort / stage.stop the call does nothing (counts in
///   ignored_aborts); on capture / move / park, aborts do not end that call.
/// - `slow:MS`: the call takes MS more milliseconds, literal (not scaled by time_scale), and stays
///   abortable. On an abort path, the abort takes effect MS ms late.
/// - `error`: the call throws HardwareError("injected fault: SPEC") before doing anything (an
///   abort path then aborts nothing).
/// - `frame.corrupt=fire`: that capture returns random bytes of half the recipe's width and
///   height (CV_8UC1), so a frame check flags it.
/// - `machine.estop=fire`: that capture first raises the interlock (see on_interlock()).
/// - `machine.overheat=fire`: the health sensor reads 40 C hotter from then on (the machine does
///   not cool down on its own); with site:N it fires when the stage is sent to site N, with
///   call:N / p:P on the N-th reading / per reading.
/// - `store.write`: ignored here; the store reads it through faults_for("store.write").
/// WHEN: `call:N` is the N-th call of the target (captures count for frame.corrupt and
/// machine.estop); `site:N` matches while the stage is commanded to site N's position (for
/// stage.move: the move's target), so every site at the same position matches; `p:P` draws once
/// per (fault, call) from recipe.seed: deterministic, whatever the timing.
class SimMachine {
 public:
  /// Throws ConfigError for timing the simulator cannot run, and for a fault in recipe.faults
  /// whose site:N is not a site of the recipe.
  explicit SimMachine(const Recipe& recipe);
  ~SimMachine();

  /// The devices and calibration (golden, flat). Shares ownership with this object.
  [[nodiscard]] Machine machine() const;

  /// Ground truth of die (i, j) in frame pixels, as the camera will render it.
  [[nodiscard]] std::vector<TrueDefect> truth(int die_i, int die_j) const;
  /// The frame the camera returns with the stage at die (i, j) (no timing; for tests and tools).
  [[nodiscard]] cv::Mat render(int die_i, int die_j) const;

  [[nodiscard]] SimCounters& counters() const;

  /// Benchmarks: the camera returns frames[k % size] itself (sharing its buffer, read only, as a
  /// frame grabber hands out the DMA buffer it filled: no processor time) for its k-th capture
  /// instead of rendering the die under the stage; timing, faults and aborts are unchanged. An
  /// empty vector restores rendering. Rendering a large frame costs more than inspecting it, so a
  /// benchmark pre-renders a pool (render()) to measure the pipeline rather than the simulator.
  /// Thread safety: call before machine() is used for a run.
  void set_frame_pool(std::vector<cv::Mat> frames);

  /// Adds a fault to inject, as if it were in recipe.faults (after those). Throws
  /// ConfigError("", 0, "--inject", ...) when its site:N is not a site of the recipe.
  /// Thread safety: safe from any thread, but meant to be called before machine() is used; a
  /// call already in progress is not affected.
  void add_fault(FaultSpec fault);

  /// The faults on `target` ("store.write", "camera.capture", ...), in the order added; empty for
  /// an unknown target. For the parts of the system that inject their own (the store).
  [[nodiscard]] std::vector<FaultSpec> faults_for(std::string_view target) const;

  /// The `store.write` faults as a decorator of a run's site writer: a write they match throws
  /// StoreError("injected fault: SPEC: disk full"), as a full disk would, before `inner` stores
  /// anything. `site:N` matches the write of the site with index N, `call:N` the N-th write of the
  /// run (each decorator counts from 1), `p:P` a draw per write (FaultMatcher). Without such
  /// faults it returns `inner` itself. Thread safety: the returned writer is called serially.
  [[nodiscard]] std::function<void(SiteResult&)> decorate_site_writer(
      std::function<void(SiteResult&)> inner) const;

  /// A test and teardown escape: ends every call blocked by an injected hang or ignore_abort, now
  /// and from now on (sticky: a hang that starts later ends at once). A released blocking call
  /// throws HardwareError("injected fault: SPEC: released by release_hangs()"); a released abort
  /// path returns having done nothing. Call it before process end (or in a test's teardown) so no
  /// thread is left stuck in a simulated driver. Faults without a hang are unaffected.
  /// Thread safety: safe from any thread; never blocks for long.
  void release_hangs();

  /// Registers the interlock callback, replacing any earlier one ({} clears it). The machine calls
  /// it with a reason ("injected fault: machine.estop=fire@site:5", or trigger_interlock()'s) on
  /// the thread of the device call that raised it, before that call proceeds; the callback may
  /// call the devices' abort paths. It must not block for long or call on_interlock().
  /// Thread safety: safe from any thread.
  void on_interlock(std::function<void(std::string)> callback);

  /// Raises the interlock now, on this thread: counts in `interlocks` and calls the callback.
  void trigger_interlock(const std::string& reason);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace ws
