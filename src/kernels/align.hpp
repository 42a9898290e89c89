// Alignment of a frame to the golden reference by an exhaustive integer-shift search.
#pragma once

#include "kernels/status.hpp"
#include "waferscan/cancel.hpp"

#include <opencv2/core.hpp>

namespace ws::kernels {

struct AlignResult {
  Status status = Status::ok;
  int dx = 0;  ///< frame(x, y) corresponds to golden(x - dx, y - dy)
  int dy = 0;
  double confidence = 0;  ///< zero-mean normalised cross-correlation at the best shift, in 0..1
};

/// Finds the integer shift |dx|, |dy| <= max_shift_px that maximises the zero-mean normalised
/// cross-correlation (ZNCC) of the frame's interior with the shifted golden image. Every shift is
/// scored on the same frame pixels (the frame minus a margin of max_shift_px, clamped for small
/// images), using every k-th row of that interior (k chosen so about 256 rows are scored; all
/// columns are used); each row costs (2r+1)^2 dot products. Ties go to the smaller |dx| + |dy|.
/// A frame or golden image with no contrast gives shift (0, 0) and confidence 0; an unrelated
/// image gives a confidence near 0.
///
/// @param frame, golden  CV_8UC1 of the same size, at most 32768 columns.
/// @param max_shift_px   search radius, >= 0.
/// @param band_rows      rows between cancellation checkpoints, >= 1.
/// @param cp             polled once per band.
/// @return the shift and confidence, or status canceled (other fields unspecified).
/// @throws std::invalid_argument for wrong types, sizes or parameters. Thread safety: pure.
AlignResult align(const cv::Mat& frame, const cv::Mat& golden, int max_shift_px, int band_rows,
                  const Checkpoint& cp);

}  // namespace ws::kernels
