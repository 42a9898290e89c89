// Connected components (8-connectivity) of a binary image, with bounding box and area.
#pragma once

#include "kernels/status.hpp"
#include "waferscan/cancel.hpp"

#include <opencv2/core.hpp>

#include <vector>

namespace ws::kernels {

struct Component {
  cv::Rect bbox;  ///< inclusive-exclusive, frame pixels
  int area = 0;   ///< pixels
};

/// Labels the 8-connected components of the non-zero pixels of `binary` (two passes with a
/// union-find). The same components, boxes and areas as cv::connectedComponentsWithStats(...,
/// 8, CV_32S); the numbering may differ: here components are numbered in raster order of their
/// first pixel.
///
/// @param binary      CV_8UC1; any non-zero pixel is foreground.
/// @param band_rows   rows between cancellation checkpoints, >= 1 (each pass is banded).
/// @param cp          polled once per band.
/// @param labels      CV_32SC1 of binary's size: 0 background, i + 1 for components[i].
/// @param components  one entry per component, in label order.
/// @return canceled if `cp` fired (outputs unspecified), else ok.
/// @throws std::invalid_argument for a wrong type or band_rows. Thread safety: pure.
Status connected_components(const cv::Mat& binary, int band_rows, const Checkpoint& cp,
                            cv::Mat& labels, std::vector<Component>& components);

}  // namespace ws::kernels
