// One frame against its reference, the way a model's detection profile says: preprocess, detect,
// merge, context, reported boxes, then classify. Shared by train, crossval and score tooling.
#pragma once

#include "classify/classifier.hpp"
#include "kernels/detect.hpp"
#include "kernels/register_local.hpp"
#include "waferscan/cancel.hpp"
#include "waferscan/defect.hpp"

#include <opencv2/core.hpp>

#include <vector>

namespace ws::classify {

/// Runs kernels::preprocess (if profile.preprocess) and kernels::detect with profile.spec (or
/// kernels::detect_registered when profile.register_tile_px > 0, then refines against its warped
/// reference; the output's `reliable` carries the verdict),
/// replaces the blobs by kernels::tolerant_blobs(profile.tolerance_px) if that is > 0, drops
/// blobs whose core_fraction < profile.min_core_fraction, then
/// kernels::merge_blobs(profile.merge_px), kernels::blob_context on the merged blobs and
/// kernels::grow_boxes(profile.box_margin_px). The returned blobs carry the reported boxes (grown)
/// and the context features; status canceled if `cp` fired (no blobs).
/// @param frame, golden  CV_8UC1 of one size (the raw frame; the reference is used as it is).
/// Thread safety: pure.
kernels::DetectOutput detect_with_profile(const cv::Mat& frame, const cv::Mat& golden,
                                          const DetectionProfile& profile, const Checkpoint& cp);

/// The local registration settings of a profile with register_tile_px > 0: its tiles, its
/// difference level (spec.min_threshold) and tolerance, the other settings at their defaults.
kernels::LocalRegisterSpec register_spec(const DetectionProfile& profile);

/// Post-detection steps alone (tolerant blobs, edge-line test, merge, context, grow), for a caller
/// that ran detect() itself (the graph's detect stage) on `frame` (as detected) and `golden`.
void refine_blobs(const cv::Mat& frame, const cv::Mat& golden, const DetectionProfile& profile,
                  kernels::DetectOutput& det);

/// detect_with_profile() and classify(): the defects of one frame (ids 0). A frame whose
/// alignment confidence is below `min_align_confidence`, or that its registration calls
/// unreliable, gives no defects (callers that must tell it apart use detect_with_profile()).
std::vector<Defect> inspect_pair(const cv::Mat& frame, const cv::Mat& golden,
                                 const Classifier& classifier, const DetectionProfile& profile,
                                 const Checkpoint& cp, double min_align_confidence = 0.2);

}  // namespace ws::classify
