// Die geometry on the wafer: die centres and the serpentine list of every die inside the wafer.
#pragma once

#include "waferscan/recipe.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace ws::io {

/// Stage position of the centre of die (i, j): die_origin + ((i + 0.5) * pitch_x, (j + 0.5) *
/// pitch_y).
[[nodiscard]] double die_centre_x(const WaferGeometry& wafer, int i) noexcept;
[[nodiscard]] double die_centre_y(const WaferGeometry& wafer, int j) noexcept;

/// Default site name of die (i, j): "r{j}c{i}".
[[nodiscard]] std::string die_name(int i, int j);

/// True if all four corners of die (i, j) lie inside (or on) the wafer circle of wafer_diameter_mm
/// centred at stage (0, 0).
[[nodiscard]] bool die_inside_wafer(const WaferGeometry& wafer, int i, int j) noexcept;

/// Upper bound on the number of dies `all_dies_on_wafer` could return (the bounding square).
[[nodiscard]] double die_grid_bound(const WaferGeometry& wafer) noexcept;

/// Every die inside the wafer, in serpentine order: rows by ascending j; the first row by
/// ascending i, the next by descending i, and so on. Names are "r{j}c{i}", indices 0, 1, ...
/// Requires positive pitches and diameter.
[[nodiscard]] std::vector<SiteSpec> all_dies_on_wafer(const WaferGeometry& wafer);

}  // namespace ws::io
