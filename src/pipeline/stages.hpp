// The per-frame node bodies of the inspection graph: thin adaptors from a Work message to the
// steps of the one frame-to-defects path (inspect::FrameInspector). Each does its part while the
// frame is still being processed and passes it on; none throws for a bad frame and none blocks.
#pragma once

#include "kernels/align.hpp"
#include "pipeline/work.hpp"
#include "waferscan/cancel.hpp"
#include "waferscan/classifier.hpp"
#include "waferscan/inspect.hpp"

#include <opencv2/core.hpp>

namespace ws::pipeline {

/// Checks the frame (8-bit grey, its reference's size: work.reference, else `golden`) and
/// flat-fields and denoises it (FrameInspector::preprocess). A bad frame ends the site as
/// `error`, one of another size `unreliable`; an abort mid-kernel ends it `incomplete`.
void preprocess_stage(Work& work, const inspect::FrameInspector& inspector, const cv::Mat& golden,
                      const cv::Mat& flat, const Checkpoint& cp);

/// Registers to the frame's own reference (work.reference) when it has one, else to `golden`,
/// and detects (FrameInspector::detect): unclassified defects, or the site ends `unreliable` when
/// the registration is. `pyramid` (optional): kernels::golden_pyramid(golden).
void detect_stage(Work& work, const inspect::FrameInspector& inspector, const cv::Mat& golden,
                  const Checkpoint& cp, const kernels::GoldenPyramid* pyramid = nullptr);

/// Classifies the defects; the site is `done` after this.
void classify_stage(Work& work, const inspect::FrameInspector& inspector,
                    const classify::Classifier& classifier, const Checkpoint& cp);

}  // namespace ws::pipeline
