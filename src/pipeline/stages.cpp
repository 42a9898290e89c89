#include "pipeline/stages.hpp"

#include "base/frame_buffers.hpp"
#include "classify/inspect.hpp"
#include "kernels/detect.hpp"
#include "kernels/preprocess.hpp"
#include "kernels/register_local.hpp"

#include <string>

namespace ws::pipeline {

namespace {
void end_site(Work& work, SiteStatus status, std::string reason) {
  work.processing = false;
  work.image.release();
  work.reference.release();
  work.result.defects.clear();  // only a done site has defects
  work.result.status = status;
  work.result.reason = std::move(reason);
}

constexpr double kMinAlignConfidence = 0.2;
}  // namespace

void preprocess_stage(Work& work, const Recipe& recipe, const cv::Mat& flat, const Checkpoint& cp) {
  if (!work.processing) return;
  const cv::Mat& raw = work.image;
  if (raw.empty() || raw.type() != CV_8UC1 || raw.cols != recipe.camera.width ||
      raw.rows != recipe.camera.height) {
    end_site(work, SiteStatus::error,
             "bad frame: expected 8-bit grey " + std::to_string(recipe.camera.width) + "x" +
                 std::to_string(recipe.camera.height) + ", got type " + std::to_string(raw.type()) +
                 " " + std::to_string(raw.cols) + "x" + std::to_string(raw.rows));
    return;
  }
  // In a buffer an earlier site let go of: no page faults on the frame, and no munmap inside the
  // node body that drops it (see FrameBuffers).
  cv::Mat out;
  frame_buffers().create(out, raw.size(), CV_8UC1);
  if (kernels::preprocess(raw, flat, recipe.detection.band_rows, cp, out) ==
      kernels::Status::canceled) {
    end_site(work, SiteStatus::incomplete, "aborted in preprocess");
    return;
  }
  work.image = std::move(out);
}

void detect_stage(Work& work, const Recipe& recipe, const cv::Mat& golden, const Checkpoint& cp,
                  const classify::DetectionProfile* profile,
                  const kernels::GoldenPyramid* pyramid) {
  if (!work.processing) return;
  const bool own_reference = !work.reference.empty();
  const cv::Mat& reference = own_reference ? work.reference : golden;
  const kernels::GoldenPyramid* shared = own_reference ? nullptr : pyramid;
  const bool local = profile != nullptr && profile->register_tile_px > 0;
  kernels::LocalRegistration reg;
  auto det =
      local ? kernels::detect_registered(work.image, reference, profile->spec,
                                         classify::register_spec(*profile), cp, reg, shared)
            : kernels::detect(work.image, reference, profile ? profile->spec : recipe.detection, cp,
                              kernels::DetectPath::fused, shared);
  if (det.status == kernels::Status::canceled) {
    end_site(work, SiteStatus::incomplete, "aborted in detect");
    return;
  }
  work.result.align_dx = local ? reg.global.x : det.dx;
  work.result.align_dy = local ? reg.global.y : det.dy;
  work.result.align_confidence = det.align_confidence;
  if (!local && det.align_confidence < kMinAlignConfidence) {  // local: part of the verdict
    end_site(work, SiteStatus::error,
             "alignment confidence " + std::to_string(det.align_confidence) + " below " +
                 std::to_string(kMinAlignConfidence));
    return;
  }
  if (!det.reliable) {  // never done with results that rest on a bad fit
    end_site(work, SiteStatus::error, "registration unreliable: " + det.unreliable_reason);
    return;
  }
  if (profile) classify::refine_blobs(work.image, local ? reg.warped : reference, *profile, det);
  work.result.defects.clear();
  work.result.defects.reserve(det.blobs.size());
  for (auto& blob : det.blobs) {
    Defect d;
    d.features = blob;
    work.result.defects.push_back(std::move(d));
  }
  work.image.release();  // the frame is not needed downstream; free it early
  work.reference.release();
}

const classify::DetectionProfile* detection_profile(const classify::Classifier* classifier) {
  if (classifier == nullptr || !classifier->detection()) return nullptr;
  return &*classifier->detection();
}

void classify_stage(Work& work, const classify::Classifier& classifier, const Checkpoint& cp) {
  if (!work.processing) return;
  if (cp.should_stop()) {
    end_site(work, SiteStatus::incomplete, "aborted before classify");
    return;
  }
  classifier.classify(work.result.defects);
  work.processing = false;
  work.result.status = SiteStatus::done;
}

}  // namespace ws::pipeline
