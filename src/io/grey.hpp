// One rule for what counts as an 8-bit grey image, the one read_set_image (recorded_set.hpp) uses.
#pragma once

#include <opencv2/core.hpp>

namespace ws::io {

/// `decoded` as 8-bit grey in `grey`: an 8-bit one-channel image as it is (no copy); an 8-bit
/// three- or four-channel image whose colour channels are identical pixel for pixel (a grey image
/// saved in a colour format, as 4 of the DeepPCB JPEGs are) as its first channel; alpha is
/// ignored. Returns false, leaving `grey` empty, for anything else: real colour, another depth,
/// another channel count, or an empty image.
bool as_grey8(const cv::Mat& decoded, cv::Mat& grey);

}  // namespace ws::io
