#include "io/wafer_sites.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace ws::io {

namespace {

double radius_um(const WaferGeometry& wafer) noexcept {
  return wafer.wafer_diameter_mm * 1000.0 / 2.0;
}

// First and last die index whose extent [origin + k*pitch, origin + (k+1)*pitch] can meet
// [-r, r]; a die outside this range cannot have all four corners inside the circle.
// Clamped to half the int range so the casts and the loop counters stay defined for a far-off
// die_origin_um: the span is at most die_grid_bound() wide, so a span beyond the clamp lies wholly
// outside it and the clamped indices name no die inside the wafer.
std::pair<int, int> index_span(double origin, double pitch, double r) noexcept {
  constexpr double kLimit = std::numeric_limits<int>::max() / 2.0;
  const double lo = std::clamp(std::floor((-r - origin) / pitch), -kLimit, kLimit);
  const double hi = std::clamp(std::ceil((r - origin) / pitch), -kLimit, kLimit);
  return {static_cast<int>(lo), static_cast<int>(hi)};
}

}  // namespace

std::string die_name(int i, int j) {
  // Appended piecewise: "r" + std::to_string(j) trips a GCC 12 -Wrestrict false positive.
  std::string name("r");
  name.append(std::to_string(j)).append("c").append(std::to_string(i));
  return name;
}

double die_centre_x(const WaferGeometry& wafer, int i) noexcept {
  return wafer.die_origin_x_um + (i + 0.5) * wafer.die_pitch_x_um;
}

double die_centre_y(const WaferGeometry& wafer, int j) noexcept {
  return wafer.die_origin_y_um + (j + 0.5) * wafer.die_pitch_y_um;
}

bool die_inside_wafer(const WaferGeometry& wafer, int i, int j) noexcept {
  const double r2 = radius_um(wafer) * radius_um(wafer);
  const double x0 = wafer.die_origin_x_um + i * wafer.die_pitch_x_um;
  const double y0 = wafer.die_origin_y_um + j * wafer.die_pitch_y_um;
  const double x1 = x0 + wafer.die_pitch_x_um;
  const double y1 = y0 + wafer.die_pitch_y_um;
  // The farthest corner from the centre decides; compare squared distances (no sqrt rounding).
  const double fx = std::max(std::abs(x0), std::abs(x1));
  const double fy = std::max(std::abs(y0), std::abs(y1));
  return fx * fx + fy * fy <= r2;
}

double die_grid_bound(const WaferGeometry& wafer) noexcept {
  const double d = wafer.wafer_diameter_mm * 1000.0;
  return (d / wafer.die_pitch_x_um + 2.0) * (d / wafer.die_pitch_y_um + 2.0);
}

std::vector<SiteSpec> all_dies_on_wafer(const WaferGeometry& wafer) {
  const double r = radius_um(wafer);
  const auto [i_lo, i_hi] = index_span(wafer.die_origin_x_um, wafer.die_pitch_x_um, r);
  const auto [j_lo, j_hi] = index_span(wafer.die_origin_y_um, wafer.die_pitch_y_um, r);

  std::vector<SiteSpec> sites;
  std::vector<int> row;
  bool forward = true;
  for (int j = j_lo; j <= j_hi; ++j) {
    row.clear();
    for (int i = i_lo; i <= i_hi; ++i) {
      if (die_inside_wafer(wafer, i, j)) row.push_back(i);
    }
    if (row.empty()) continue;
    if (!forward) std::reverse(row.begin(), row.end());
    forward = !forward;
    for (int i : row) {
      SiteSpec s;
      s.index = static_cast<int>(sites.size());
      s.name = die_name(i, j);
      s.die_i = i;
      s.die_j = j;
      s.x_um = die_centre_x(wafer, i);
      s.y_um = die_centre_y(wafer, j);
      sites.push_back(std::move(s));
    }
  }
  return sites;
}

}  // namespace ws::io
