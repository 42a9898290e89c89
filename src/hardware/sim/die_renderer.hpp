// Renders the frame the simulated camera sees at a die: pattern, placement shift, defects,
// illumination gradient and noise, all deterministic from (recipe seed, die i, die j).
#pragma once

#include "hardware/sim/defect_painter.hpp"
#include "waferscan/recipe.hpp"
#include "waferscan/sim/sim_machine.hpp"

#include <opencv2/core.hpp>

#include <cstdint>
#include <vector>

namespace ws::sim {

/// Pixels kept free of defects along every frame border (the placement shift comes on top).
inline constexpr int defect_border_px = 20;
/// Brightness of a frame captured with the light off, relative to light on.
inline constexpr float dark_gain = 0.08F;

/// Everything that goes on one die's frame, before gradient and noise.
struct DiePlan {
  cv::Point shift;                     ///< placement shift in pixels, |dx|, |dy| <= max_shift
  std::vector<PaintedDefect> defects;  ///< in die pixels at zero shift
};

/// Validated once from a recipe; the base pattern (with a margin for the shift) and the gain image
/// are rendered once in the constructor. Thread safety: all const members are thread-safe.
class DieRenderer {
 public:
  /// Throws ConfigError for a recipe the simulator cannot render (unknown defect class, camera too
  /// small, non-positive pixel size, negative noise).
  explicit DieRenderer(const Recipe& recipe);

  /// Defect-free, noise-free, gradient-free die at zero shift (CV_8UC1).
  [[nodiscard]] const cv::Mat& golden() const { return golden_; }
  /// Multiplicative gain (CV_32F, mean 1): raw ~= ideal * flat.
  [[nodiscard]] const cv::Mat& flat() const { return flat_; }
  /// Largest placement shift in pixels: round(position_jitter_um / pixel_size_um).
  [[nodiscard]] int max_shift_px() const { return max_shift_; }

  [[nodiscard]] DiePlan plan(int die_i, int die_j) const;
  /// Ground truth of die (i, j): defect boxes in frame pixels (after the shift).
  [[nodiscard]] std::vector<TrueDefect> truth(int die_i, int die_j) const;
  /// The raw frame (CV_8UC1) of die (i, j); much darker when `light_on` is false.
  [[nodiscard]] cv::Mat render(int die_i, int die_j, bool light_on) const;

 private:
  std::uint64_t seed_;
  cv::Size frame_;
  int max_shift_ = 0;
  double noise_sigma_ = 0.0;
  double defects_per_site_ = 0.0;
  std::vector<std::pair<DefectClass, std::string>> classes_;
  cv::Mat base_;  ///< CV_32F pattern with a max_shift_ margin on every side
  cv::Mat golden_;
  cv::Mat flat_;
  cv::Mat dark_flat_;
};

}  // namespace ws::sim
