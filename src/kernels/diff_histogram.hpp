// Histogram of the shifted reference difference, without writing the difference image.
#pragma once

#include "kernels/noise_sigma.hpp"
#include "kernels/status.hpp"
#include "waferscan/cancel.hpp"

#include <opencv2/core.hpp>

namespace ws::kernels {

/// out[k] = number of pixels of valid_region(frame.size(), dx, dy) where
/// |frame(x, y) - golden(x - dx, y - dy)| == k: the histogram noise_sigma() reads from
/// absdiff_shifted()'s output over that region, computed in one pass with no image written.
/// Bands run in parallel (parallel_bands) in the caller's task_group_context.
///
/// @param frame, golden  CV_8UC1 of the same size.
/// @param band_rows      rows between cancellation checkpoints, >= 1.
/// @param cp             polled once per band; a disabled one is never loaded.
/// @return canceled if `cp` fired or the enclosing context was cancelled (out unspecified).
/// @throws std::invalid_argument for wrong types, sizes or band_rows. Thread safety: pure.
Status diff_histogram(const cv::Mat& frame, const cv::Mat& golden, int dx, int dy, int band_rows,
                      const Checkpoint& cp, Histogram& out);

}  // namespace ws::kernels
