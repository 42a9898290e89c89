// The banded loop every kernel uses: one cancellation checkpoint per band of rows.
#pragma once

#include "kernels/status.hpp"
#include "waferscan/cancel.hpp"

#include <algorithm>
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

/// Calls body(begin, end) for consecutive bands of at most `band_rows` rows covering [0, rows).
/// Polls `cp` before every band (also before the first), so a checkpoint that already fired
/// returns canceled without touching any row, and a stop while running is seen within one band.
template <BandBody Body>
Status for_each_band(int rows, int band_rows, const Checkpoint& cp, Body&& body) {
  for (int begin = 0; begin < rows; begin += band_rows) {
    if (cp.should_stop()) return Status::canceled;
    body(begin, std::min(rows, begin + band_rows));
  }
  return cp.should_stop() ? Status::canceled : Status::ok;
}

}  // namespace ws::kernels
