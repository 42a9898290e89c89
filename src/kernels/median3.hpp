// 3x3 median denoise, equal to cv::medianBlur(src, dst, 3).
#pragma once

#include "kernels/status.hpp"
#include "kernels/stores.hpp"
#include "waferscan/cancel.hpp"

#include <opencv2/core.hpp>

namespace ws::kernels {

/// out = 3x3 median of `src` with replicated borders: exactly cv::medianBlur(src, out, 3).
///
/// @param src        CV_8UC1, any size (1 row and 1 column included).
/// @param band_rows  rows between cancellation checkpoints, >= 1.
/// @param cp         polled once per band.
/// @param out        CV_8UC1 of src's size; may be src itself.
///                   Reused (see output_for) when it already has that size and type
///                   and overlaps no input.
/// @param stores     regular or streaming stores into out (see Stores); the same pixels.
/// @return canceled if `cp` fired (out unspecified), else ok.
/// @throws std::invalid_argument for a wrong type or band_rows.
/// Thread safety: pure.
Status median3(const cv::Mat& src, int band_rows, const Checkpoint& cp, cv::Mat& out,
               Stores stores = Stores::automatic);

/// out = median3(flat_field(raw, flat)) in one banded pass, bit for bit: each band flat-fields the
/// rows it needs (its own and one on each side) into a rolling window of four rows, so the
/// corrected frame is never written to memory and read back (one frame-sized buffer and its page
/// faults less per frame, and the rows are still in cache when the median reads them).
///
/// @param raw   CV_8UC1.
/// @param flat  CV_32FC1 of raw's size (x / 0 gives 0, as flat_field()).
/// @param out   as median3(); reused when it fits and overlaps neither input.
/// @param stores as median3().
/// @return canceled if `cp` fired (out unspecified), else ok.
/// @throws std::invalid_argument for wrong types or sizes or band_rows.
/// Thread safety: pure.
Status flat_field_median3(const cv::Mat& raw, const cv::Mat& flat, int band_rows,
                          const Checkpoint& cp, cv::Mat& out, Stores stores = Stores::automatic);

}  // namespace ws::kernels
