// One rule for turning a decoded image into the 8-bit grey that inspection compares, the one
// read_set_image (recorded_set.hpp) uses; documented in docs/recorded-sets.md ("Pixel rule").
#pragma once

#include <opencv2/core.hpp>

namespace ws::io {

/// `decoded` as 8-bit grey in `grey`:
/// - depth: 8-bit as it is; 16-bit scaled by its full range, round(v * 255 / 65535), so 65535 is
///   255 and the scale never depends on the image's content (a 12-bit camera's 4095 becomes 16);
/// - channels: one as it is (8-bit: no copy); two (grey and alpha) the grey; three (BGR) or four
///   (BGRA, alpha ignored) as luma with the ITU-R BT.601 weights, Y = 0.299 R + 0.587 G + 0.114 B
///   (OpenCV's COLOR_BGR2GRAY), which leaves a grey image saved in colour (channels identical
///   pixel for pixel) exactly as it was.
/// Returns false, leaving `grey` empty, for any other depth (signed, 32-bit, floating point), any
/// other channel count, or an empty image.
bool as_grey8(const cv::Mat& decoded, cv::Mat& grey);

}  // namespace ws::io
