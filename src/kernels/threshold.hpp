// Binary threshold of a difference image, equal to cv::threshold(..., THRESH_BINARY).
#pragma once

#include "kernels/status.hpp"
#include "kernels/stores.hpp"
#include "waferscan/cancel.hpp"

#include <opencv2/core.hpp>

namespace ws::kernels {

/// out(x, y) = src(x, y) > level ? 255 : 0; exactly cv::threshold(src, out, level, 255,
/// cv::THRESH_BINARY) for integer `level`.
///
/// @param src        CV_8UC1.
/// @param level      grey level; values strictly above it are set. Any int (< 0 sets all,
///                   >= 255 sets none).
/// @param band_rows  rows between cancellation checkpoints, >= 1.
/// @param cp         polled once per band.
/// @param out        CV_8UC1 of src's size; may be src itself.
///                   Reused (see output_for) when it already has that size and type
///                   and overlaps no input.
/// @param stores     regular or streaming stores into out (see Stores); the same pixels.
/// @return canceled if `cp` fired (out unspecified), else ok.
/// @throws std::invalid_argument for a wrong type or band_rows. Thread safety: pure.
Status threshold(const cv::Mat& src, int level, int band_rows, const Checkpoint& cp, cv::Mat& out,
                 Stores stores = Stores::automatic);

}  // namespace ws::kernels
