// An image's size from its header, read before anything is decoded: a 4 MB PNG may claim
// 30000 x 30000 pixels, and decoding it would take 900 MB before any size check could refuse it.
#pragma once

#include <opencv2/core/types.hpp>

#include <cstdint>
#include <optional>
#include <span>

namespace ws::io {

/// The width and height a PNG, JPEG (baseline or progressive), TIFF, BMP or PNM header declares;
/// nullopt when `bytes` start with none of these headers or the header is cut short.
std::optional<cv::Size> header_size(std::span<const std::uint8_t> bytes);

}  // namespace ws::io
