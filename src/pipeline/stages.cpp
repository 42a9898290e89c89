#include "pipeline/stages.hpp"

#include "base/frame_buffers.hpp"

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

// A step that did not inspect ends the site: incomplete when it was canceled, unreliable when the
// frame could not be registered well enough to compare, else an error.
SiteStatus status_for(inspect::FrameVerdict v) {
  switch (v) {
    case inspect::FrameVerdict::canceled:
      return SiteStatus::incomplete;
    case inspect::FrameVerdict::unreliable:
      return SiteStatus::unreliable;
    default:
      return SiteStatus::error;
  }
}

void end_site(Work& work, inspect::StepResult step) {
  end_site(work, status_for(step.verdict), std::move(step.reason));
}

const cv::Mat& reference_of(const Work& work, const cv::Mat& golden) {
  return work.reference.empty() ? golden : work.reference;
}
}  // namespace

void preprocess_stage(Work& work, const inspect::FrameInspector& inspector, const cv::Mat& golden,
                      const cv::Mat& flat, const Checkpoint& cp) {
  if (!work.processing) return;
  // In a buffer an earlier site let go of: no page faults on the frame, and no munmap inside the
  // node body that drops it (see FrameBuffers).
  cv::Mat out;
  if (work.image.type() == CV_8UC1) frame_buffers().create(out, work.image.size(), CV_8UC1);
  auto step = inspector.preprocess(work.image, flat, reference_of(work, golden).size(), cp, out);
  if (!step.ok()) return end_site(work, std::move(step));
  work.image = std::move(out);
}

void detect_stage(Work& work, const inspect::FrameInspector& inspector, const cv::Mat& golden,
                  const Checkpoint& cp, const kernels::GoldenPyramid* pyramid) {
  if (!work.processing) return;
  const bool own_reference = !work.reference.empty();
  auto det = inspector.detect(work.image, reference_of(work, golden), cp,
                              own_reference ? nullptr : pyramid);
  work.result.align_dx = det.dx;
  work.result.align_dy = det.dy;
  work.result.align_confidence = det.align_confidence;
  if (!det.step.ok()) return end_site(work, std::move(det.step));
  work.result.defects = inspect::as_defects(det.blobs);
  work.image.release();  // the frame is not needed downstream; free it early
  work.reference.release();
}

void classify_stage(Work& work, const inspect::FrameInspector& inspector,
                    const classify::Classifier& classifier, const Checkpoint& cp) {
  if (!work.processing) return;
  auto step = inspector.classify(classifier, work.result.defects, cp);
  if (!step.ok()) return end_site(work, std::move(step));
  work.processing = false;
  work.result.status = SiteStatus::done;
}

}  // namespace ws::pipeline
