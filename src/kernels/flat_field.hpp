// Flat-field correction: divides a raw 8-bit frame by the camera's gain image.
#pragma once

#include "kernels/status.hpp"
#include "waferscan/cancel.hpp"

#include <opencv2/core.hpp>

#include <cstdint>

namespace ws::kernels {

/// out(x, y) = saturate_cast<uchar>(raw(x, y) / flat(x, y)), computed in float: the same values
/// as `cv::divide` of raw (as CV_32F) by flat followed by `convertTo(CV_8U)`. A gain of 0 gives 0
/// (as cv::divide does).
///
/// @param raw        CV_8UC1 frame.
/// @param flat       CV_32FC1 gain image of raw's size (mean about 1), or empty: out = raw copy.
/// @param band_rows  rows between cancellation checkpoints, >= 1.
/// @param cp         polled once per band.
/// @param out        CV_8UC1 of raw's size; may be raw itself.
///                   Reused (see output_for) when it already has that size and type
///                   and overlaps no input.
/// @return canceled if `cp` fired (out unspecified), else ok.
/// @throws std::invalid_argument for wrong types, sizes or band_rows (a programming error).
/// Thread safety: pure; concurrent calls on distinct outputs are safe.
Status flat_field(const cv::Mat& raw, const cv::Mat& flat, int band_rows, const Checkpoint& cp,
                  cv::Mat& out);

/// One row of flat_field(): d[x] = saturate_cast<uchar>(r[x] / g[x]), 0 where g[x] == 0, for
/// x < n. Shared with flat_field_median3(), which must produce the very same pixels.
void divide_row(const std::uint8_t* r, const float* g, std::uint8_t* d, int n);

}  // namespace ws::kernels
