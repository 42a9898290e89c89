// The repeating die pattern the simulated camera sees: a grid of cells with routing lines and pads.
#pragma once

#include <opencv2/core.hpp>

namespace ws::sim {

/// Grey levels of the ideal (flat-field corrected, noise-free) image.
namespace level {
inline constexpr float background = 60.0F;
inline constexpr float line = 120.0F;
inline constexpr float pad = 170.0F;
}  // namespace level

/// Side of one pattern cell in pixels.
inline constexpr int cell_px = 32;

/// Renders the die pattern (CV_32F, levels from `level`) covering die pixels
/// [-margin, width + margin) x [-margin, height + margin); pixel (0, 0) of the result is die pixel
/// (-margin, -margin). Every cell has a 3 px horizontal bus and a 2 px vertical line; most cells
/// also have a pad whose size (6..14 px a side) varies from cell to cell, so the pattern is not
/// periodic and a shift search has a single clear optimum.
cv::Mat render_die_pattern(int width, int height, int margin);

}  // namespace ws::sim
