// Detect stage: align to the golden reference, difference, noise-adaptive threshold, blobs.
#pragma once

#include "kernels/status.hpp"
#include "waferscan/cancel.hpp"
#include "waferscan/defect.hpp"
#include "waferscan/recipe.hpp"

#include <opencv2/core.hpp>

#include <vector>

namespace ws::kernels {

struct DetectOutput {
  Status status = Status::ok;
  int dx = 0;  ///< frame(x, y) corresponds to golden(x - dx, y - dy)
  int dy = 0;
  double align_confidence = 0;      ///< 0..1
  int threshold = 0;                ///< grey level used
  std::vector<BlobFeatures> blobs;  ///< in frame pixels, area >= spec.min_area_px
};

/// Runs the whole detection chain on a preprocessed frame. Pure: no I/O, no state.
/// Checks `cp` once per band; returns status canceled if it fired.
DetectOutput detect(const cv::Mat& frame, const cv::Mat& golden, const DetectionSpec& spec,
                    const Checkpoint& cp);

}  // namespace ws::kernels
