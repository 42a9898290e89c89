// Paints one synthetic defect of a given class onto the ideal die image, and reports exactly which
// pixels it changed (the ground truth).
#pragma once

#include "hardware/sim/sim_rng.hpp"

#include <opencv2/core.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ws::sim {

enum class DefectClass { particle, scratch, residue, pattern };

/// The recipe's name for a class ("particle", "scratch", "residue", "pattern"), or nullopt.
std::optional<DefectClass> parse_defect_class(std::string_view name) noexcept;

/// One painted defect, in die pixels at zero placement shift.
struct PaintedDefect {
  std::string class_name;
  cv::Rect bbox;   ///< tight box around the changed pixels
  cv::Mat values;  ///< CV_32F, bbox.size(): the ideal image there with the defect in it
  cv::Mat mask;    ///< CV_8U, bbox.size(): non-zero exactly where the defect changed the image
};

/// Gap in pixels kept between the boxes of two defects of one die, so they never touch.
inline constexpr int defect_gap_px = 10;

/// Tries up to a fixed number of random placements of a `cls` defect whose box lies inside
/// `region` and keeps `defect_gap_px` away from every box in `taken`. `die` is the ideal die image
/// (CV_32F, die pixels, not modified). Returns nullopt when no placement fits.
///
/// Shapes and contrasts (ideal grey levels; pattern levels are 60 / 120 / 170):
/// - particle: filled disc 4-12 px across, level 225-245 (bright) or 5-20 (dark);
/// - scratch: straight line 40-200 px long, 2-3 px wide, +-50..70 grey levels (mostly dark); not
///   1 px: a 1 px line does not survive the 3x3 median of preprocessing, so no detector could
///   find it;
/// - residue: union of 3-6 ellipses 20-60 px across, +-35..45 grey levels (mostly dark);
/// - pattern: a rectangle of missing pattern (set to background; 8-24 px) or an extra piece
///   (set to pad level; 10-30 x 3-10 px), counting only the pixels that actually change.
std::optional<PaintedDefect> paint_defect(DefectClass cls, std::string_view class_name,
                                          const cv::Mat& die, cv::Rect region,
                                          const std::vector<cv::Rect>& taken, Rng& rng);

}  // namespace ws::sim
