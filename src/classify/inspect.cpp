#include "classify/inspect.hpp"

#include "kernels/blob_context.hpp"
#include "kernels/preprocess.hpp"
#include "kernels/register_local.hpp"

#include <vector>

namespace ws::classify {

void refine_blobs(const cv::Mat& frame, const cv::Mat& golden, const DetectionProfile& profile,
                  kernels::DetectOutput& det) {
  if (profile.tolerance_px > 0) {
    kernels::tolerant_blobs(frame, golden, det.dx, det.dy, det.threshold, profile.tolerance_px,
                            profile.spec.min_area_px, det.blobs);
  }
  if (profile.min_core_fraction > 0) {
    // Thin lines along pattern edges come from sub-pixel misregistration; they go before merging
    // so they cannot stretch a real defect's box.
    kernels::blob_core(frame, golden, det.dx, det.dy, profile.context_margin_px,
                       profile.context_min_contrast, det.blobs);
    std::erase_if(det.blobs, [&](const BlobFeatures& b) {
      return b.core_fraction < profile.min_core_fraction;
    });
  }
  kernels::merge_blobs(profile.merge_px, det.blobs);
  kernels::blob_context(frame, golden, det.dx, det.dy, profile.context_margin_px,
                        profile.context_min_contrast, det.blobs);
  if (profile.box_margin_px > 0) {
    kernels::grow_boxes(profile.box_margin_px, cv::Rect(0, 0, frame.cols, frame.rows), det.blobs);
  }
}

kernels::DetectOutput detect_with_profile(const cv::Mat& frame, const cv::Mat& golden,
                                          const DetectionProfile& profile, const Checkpoint& cp) {
  cv::Mat pre = frame;
  if (profile.preprocess && kernels::preprocess(frame, cv::Mat(), profile.spec.band_rows, cp,
                                                pre) == kernels::Status::canceled) {
    kernels::DetectOutput out;
    out.status = kernels::Status::canceled;
    return out;
  }
  if (profile.register_tile_px <= 0) {
    kernels::DetectOutput det = kernels::detect(pre, golden, profile.spec, cp);
    if (det.status == kernels::Status::ok) refine_blobs(pre, golden, profile, det);
    return det;
  }
  kernels::LocalRegistration reg;
  kernels::DetectOutput det =
      kernels::detect_registered(pre, golden, profile.spec, register_spec(profile), cp, reg);
  if (det.status == kernels::Status::ok) refine_blobs(pre, reg.warped, profile, det);
  return det;
}

kernels::LocalRegisterSpec register_spec(const DetectionProfile& profile) {
  kernels::LocalRegisterSpec s;
  s.tile_px = profile.register_tile_px;
  s.level = profile.spec.min_threshold;
  s.tolerance_px = profile.tolerance_px;
  return s;
}

std::vector<Defect> inspect_pair(const cv::Mat& frame, const cv::Mat& golden,
                                 const Classifier& classifier, const DetectionProfile& profile,
                                 const Checkpoint& cp, double min_align_confidence) {
  kernels::DetectOutput det = detect_with_profile(frame, golden, profile, cp);
  std::vector<Defect> defects;
  if (det.status != kernels::Status::ok || det.align_confidence < min_align_confidence ||
      !det.reliable) {
    return defects;
  }
  defects.reserve(det.blobs.size());
  for (auto& b : det.blobs) defects.push_back(Defect{0, b, {}, 0});
  classifier.classify(defects);
  return defects;
}

}  // namespace ws::classify
