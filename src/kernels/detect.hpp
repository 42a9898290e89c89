// Detect stage: align to the golden reference, difference, noise-adaptive threshold, blobs.
#pragma once

#include "kernels/align.hpp"
#include "kernels/status.hpp"
#include "waferscan/cancel.hpp"
#include "waferscan/defect.hpp"
#include "waferscan/recipe.hpp"

#include <opencv2/core.hpp>

#include <string>
#include <vector>

namespace ws::kernels {

struct DetectOutput {
  Status status = Status::ok;
  int dx = 0;  ///< frame(x, y) corresponds to golden(x - dx, y - dy)
  int dy = 0;
  double align_confidence = 0;  ///< 0..1
  double subpixel_dx = 0;       ///< sub-pixel residue of the shift, -0.5..0.5 (reported only)
  double subpixel_dy = 0;
  int threshold = 0;                ///< grey level used
  std::vector<BlobFeatures> blobs;  ///< in frame pixels, area >= spec.min_area_px
  /// The registration verdict (detect_registered(); detect() itself leaves it reliable): a frame
  /// that is not must not be reported clean, whatever its blobs.
  bool reliable = true;
  std::string unreliable_reason;
};

/// How detect() computes the blobs once the shift and threshold are known. Both give the same
/// output; `separate` is kept to compare against and to benchmark.
enum class DetectPath {
  fused,    ///< fused_blobs(): difference, threshold, labelling and statistics in one banded pass
  separate  ///< absdiff_shifted -> threshold -> connected_components -> blob_features, whole images
};

/// Runs the whole detection chain on a preprocessed frame: align() within spec.max_shift_px, the
/// noise level of the shifted difference over the overlap (noise_sigma), threshold =
/// clamp(max(min_threshold, floor(threshold_sigma * sigma)), 0, 255), then the blobs of the
/// difference above it with area >= min_area_px. Pure: no I/O, no state. Bands run in parallel
/// in the caller's task_group_context.
/// Checks `cp` (and the enclosing context) once per band; returns status canceled (no blobs) if
/// either fired. `pyramid` (optional): golden_pyramid(golden), passed on to align().
/// @throws std::invalid_argument for wrong types, sizes or negative parameters.
DetectOutput detect(const cv::Mat& frame, const cv::Mat& golden, const DetectionSpec& spec,
                    const Checkpoint& cp, DetectPath path = DetectPath::fused,
                    const GoldenPyramid* pyramid = nullptr);

}  // namespace ws::kernels
