#include "waferscan/inspect.hpp"

#include "kernels/blob_context.hpp"
#include "kernels/flat_field.hpp"
#include "kernels/preprocess.hpp"
#include "kernels/register_local.hpp"

#include <string>
#include <utility>

namespace ws::inspect {

std::string_view to_string(FrameVerdict v) noexcept {
  switch (v) {
    case FrameVerdict::inspected:
      return "inspected";
    case FrameVerdict::canceled:
      return "canceled";
    case FrameVerdict::bad_frame:
      return "bad_frame";
    case FrameVerdict::unreliable:
      return "unreliable";
  }
  return "unknown";
}

namespace {
DetectionProfile profile_or_default(const std::optional<DetectionProfile>& profile,
                                    const DetectionSpec& recipe_spec) {
  if (profile) return *profile;
  DetectionProfile p;
  p.spec = recipe_spec;
  return p;
}
}  // namespace

FrameInspector::FrameInspector(std::optional<DetectionProfile> profile,
                               const DetectionSpec& recipe_spec)
    : profile_(profile_or_default(profile, recipe_spec)), refine_(profile.has_value()) {}

FrameInspector FrameInspector::for_model(const classify::Classifier& classifier,
                                         const DetectionSpec& recipe_spec) {
  return FrameInspector(classifier.detection(), recipe_spec);
}

StepResult FrameInspector::preprocess(const cv::Mat& raw, const cv::Mat& flat, cv::Size expected,
                                      const Checkpoint& cp, cv::Mat& out) const {
  if (raw.empty() || raw.type() != CV_8UC1) {
    return {FrameVerdict::bad_frame, "bad frame: expected 8-bit grey, got OpenCV type " +
                                         std::to_string(raw.type()) + " " +
                                         std::to_string(raw.cols) + "x" + std::to_string(raw.rows)};
  }
  if (raw.size() != expected) {  // a frame that cannot be laid over its reference is not clean
    return {FrameVerdict::unreliable, "registration unreliable: frame " + std::to_string(raw.cols) +
                                          "x" + std::to_string(raw.rows) + " does not match its " +
                                          std::to_string(expected.width) + "x" +
                                          std::to_string(expected.height) + " reference"};
  }
  kernels::Status status = kernels::Status::ok;
  if (profile_.preprocess) {
    status = kernels::preprocess(raw, flat, profile_.spec.band_rows, cp, out);
  } else if (!flat.empty()) {
    status = kernels::flat_field(raw, flat, profile_.spec.band_rows, cp, out);
  } else {
    out = raw;
  }
  if (status == kernels::Status::canceled) return {FrameVerdict::canceled, "aborted in preprocess"};
  return {};
}

namespace {

// The profile's steps after detect(): tolerant blobs, the edge-line test, merge, context, grow.
void refine(const DetectionProfile& p, const cv::Mat& frame, const cv::Mat& reference,
            kernels::DetectOutput& det) {
  if (p.tolerance_px > 0) {
    kernels::tolerant_blobs(frame, reference, det.dx, det.dy, det.threshold, p.tolerance_px,
                            p.spec.min_area_px, det.blobs);
  }
  if (p.min_core_fraction > 0) {
    // Thin lines along pattern edges come from sub-pixel misregistration; they go before merging
    // so they cannot stretch a real defect's box.
    kernels::blob_core(frame, reference, det.dx, det.dy, p.context_margin_px,
                       p.context_min_contrast, det.blobs);
    std::erase_if(det.blobs,
                  [&](const BlobFeatures& b) { return b.core_fraction < p.min_core_fraction; });
  }
  kernels::merge_blobs(p.merge_px, det.blobs);
  kernels::blob_context(frame, reference, det.dx, det.dy, p.context_margin_px,
                        p.context_min_contrast, det.blobs, p.context_min_component_px);
  if (p.box_margin_px > 0) {
    kernels::grow_boxes(p.box_margin_px, cv::Rect(0, 0, frame.cols, frame.rows), det.blobs);
  }
}

kernels::LocalRegisterSpec register_spec(const DetectionProfile& p) {
  kernels::LocalRegisterSpec s;
  s.tile_px = p.register_tile_px;
  s.level = p.spec.min_threshold;
  s.tolerance_px = p.tolerance_px;
  s.min_confidence = kMinAlignConfidence;
  return s;
}

}  // namespace

// A profile with register_tile_px: the local shift field, its verdict, and the comparison
// against the reference warped by it (kernels/register_local.hpp).
FrameDetection FrameInspector::detect_local(const cv::Mat& frame, const cv::Mat& reference,
                                            const Checkpoint& cp,
                                            const kernels::GoldenPyramid* pyramid) const {
  kernels::LocalRegistration reg;
  kernels::DetectOutput det = kernels::detect_registered(frame, reference, profile_.spec,
                                                         register_spec(profile_), cp, reg, pyramid);
  FrameDetection out;
  if (det.status == kernels::Status::canceled) {
    out.step = {FrameVerdict::canceled, "aborted in detect"};
    return out;
  }
  out.dx = reg.global.x;
  out.dy = reg.global.y;
  out.align_confidence = det.align_confidence;
  if (!det.reliable) {  // never done with results that rest on a bad fit
    out.step = {FrameVerdict::unreliable, "registration unreliable: " + det.unreliable_reason};
    return out;
  }
  refine(profile_, frame, reg.warped, det);
  out.blobs = std::move(det.blobs);
  return out;
}

FrameDetection FrameInspector::detect(const cv::Mat& frame, const cv::Mat& reference,
                                      const Checkpoint& cp,
                                      const kernels::GoldenPyramid* pyramid) const {
  if (refine_ && profile_.register_tile_px > 0) return detect_local(frame, reference, cp, pyramid);
  kernels::DetectOutput det =
      kernels::detect(frame, reference, profile_.spec, cp, kernels::DetectPath::fused, pyramid);
  FrameDetection out;
  if (det.status == kernels::Status::canceled) {
    out.step = {FrameVerdict::canceled, "aborted in detect"};
    return out;
  }
  out.dx = det.dx;
  out.dy = det.dy;
  out.align_confidence = det.align_confidence;
  if (det.align_confidence < kMinAlignConfidence) {
    out.step = {FrameVerdict::unreliable, "alignment confidence " +
                                              std::to_string(det.align_confidence) + " below " +
                                              std::to_string(kMinAlignConfidence)};
    return out;
  }
  if (refine_) refine(profile_, frame, reference, det);
  out.blobs = std::move(det.blobs);
  return out;
}

StepResult FrameInspector::classify(const classify::Classifier& classifier,
                                    std::vector<Defect>& defects, const Checkpoint& cp) const {
  if (cp.should_stop()) return {FrameVerdict::canceled, "aborted before classify"};
  classifier.classify(defects);
  return {};
}

FrameInspection FrameInspector::inspect(const cv::Mat& raw, const cv::Mat& reference,
                                        const cv::Mat& flat, const classify::Classifier& classifier,
                                        const Checkpoint& cp,
                                        const kernels::GoldenPyramid* pyramid) const {
  FrameInspection out;
  cv::Mat pre;
  out.detection.step = preprocess(raw, flat, reference.size(), cp, pre);
  if (!out.detection.step.ok()) return out;
  out.detection = detect(pre, reference, cp, pyramid);
  if (!out.detection.step.ok()) return out;
  out.defects = as_defects(out.detection.blobs);
  out.detection.blobs.clear();
  out.detection.step = classify(classifier, out.defects, cp);
  if (!out.detection.step.ok()) out.defects.clear();
  return out;
}

std::vector<Defect> as_defects(const std::vector<BlobFeatures>& blobs) {
  std::vector<Defect> defects;
  defects.reserve(blobs.size());
  for (const auto& b : blobs) defects.push_back(Defect{0, b, {}, 0});
  return defects;
}

}  // namespace ws::inspect
