// Preprocess stage: flat-field correction then denoise, banded with cancellation checkpoints.
#pragma once

#include "kernels/status.hpp"
#include "waferscan/cancel.hpp"

#include <opencv2/core.hpp>

namespace ws::kernels {

/// out = denoise(flat_field(raw, flat)). `raw` is CV_8UC1; `flat` is CV_32FC1 of the same size
/// (mean about 1) or empty (no correction). Checks `cp` once per band of `band_rows` rows.
/// Returns canceled (and leaves `out` unspecified) if the checkpoint fired.
Status preprocess(const cv::Mat& raw, const cv::Mat& flat, int band_rows, const Checkpoint& cp,
                  cv::Mat& out);

}  // namespace ws::kernels
