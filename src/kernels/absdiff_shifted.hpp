// Absolute difference between a frame and the golden reference moved by an integer shift.
#pragma once

#include "kernels/status.hpp"
#include "kernels/stores.hpp"
#include "waferscan/cancel.hpp"

#include <opencv2/core.hpp>

namespace ws::kernels {

/// The frame pixels that have a reference pixel when frame(x, y) corresponds to
/// golden(x - dx, y - dy); empty when the shift is larger than the image.
cv::Rect valid_region(cv::Size size, int dx, int dy);

/// out(x, y) = |frame(x, y) - golden(x - dx, y - dy)| inside valid_region(), 0 elsewhere: pixels
/// with no reference after the shift never look like a difference. With dx = dy = 0 this is
/// exactly cv::absdiff(frame, golden, out).
///
/// @param frame, golden  CV_8UC1 of the same size.
/// @param dx, dy         shift of the frame relative to the golden image, any int.
/// @param band_rows      rows between cancellation checkpoints, >= 1.
/// @param cp             polled once per band.
/// @param out            CV_8UC1 of frame's size; reused (see output_for) when it already has
///                       that size and type and overlaps no input.
/// @param stores         regular or streaming stores into out (see Stores); the same pixels.
/// @return canceled if `cp` fired (out unspecified), else ok.
/// @throws std::invalid_argument for wrong types, sizes or band_rows. Thread safety: pure.
Status absdiff_shifted(const cv::Mat& frame, const cv::Mat& golden, int dx, int dy, int band_rows,
                       const Checkpoint& cp, cv::Mat& out, Stores stores = Stores::automatic);

}  // namespace ws::kernels
