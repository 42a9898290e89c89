// The simulated machine: stage, light and camera with realistic (scaled) timing, and a camera that
// renders a synthetic die image per site with known defects (the ground truth).
#pragma once

#include "waferscan/hardware.hpp"
#include "waferscan/recipe.hpp"

#include <opencv2/core.hpp>

#include <atomic>
#include <memory>
#include <string>
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
};

/// Builds the simulated devices from a recipe. Everything is deterministic from recipe.seed: the
/// same die renders the same image, the same defects, and the same placement jitter every time.
/// Thread safety: the devices follow the interfaces' rules; truth() and render() are const and
/// thread-safe.
class SimMachine {
 public:
  explicit SimMachine(const Recipe& recipe);
  ~SimMachine();

  /// The devices and calibration (golden, flat). Shares ownership with this object.
  [[nodiscard]] Machine machine() const;

  /// Ground truth of die (i, j) in frame pixels, as the camera will render it.
  [[nodiscard]] std::vector<TrueDefect> truth(int die_i, int die_j) const;
  /// The frame the camera returns with the stage at die (i, j) (no timing; for tests and tools).
  [[nodiscard]] cv::Mat render(int die_i, int die_j) const;

  [[nodiscard]] SimCounters& counters() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace ws
