// The per-frame node bodies of the inspection graph. Each takes a Work, does its part when the
// frame is still being processed, and passes it on; none throws for a bad frame and none blocks.
#pragma once

#include "classify/classifier.hpp"
#include "kernels/align.hpp"
#include "pipeline/work.hpp"
#include "waferscan/cancel.hpp"
#include "waferscan/recipe.hpp"

#include <opencv2/core.hpp>

namespace ws::pipeline {

/// Checks the frame (8-bit grey, the recipe's size) and flat-fields and denoises it. A bad frame
/// ends the site as `error`; an abort mid-kernel ends it `incomplete`.
void preprocess_stage(Work& work, const Recipe& recipe, const cv::Mat& flat, const Checkpoint& cp);

/// Aligns to the frame's own reference (work.reference) when it has one, else to `golden`;
/// compares, thresholds and extracts blobs as unclassified defects. With a detection profile (from
/// a model that carries one, e.g. data/models/deeppcb.json) it detects with profile->spec instead
/// of the recipe's settings and refines the blobs as training did (classify::refine_blobs: edge
/// lines dropped, pieces merged, context features, reported boxes). `pyramid` (optional):
/// kernels::golden_pyramid(golden), used when the frame is aligned to `golden`.
void detect_stage(Work& work, const Recipe& recipe, const cv::Mat& golden, const Checkpoint& cp,
                  const classify::DetectionProfile* profile = nullptr,
                  const kernels::GoldenPyramid* pyramid = nullptr);

/// The detection profile `classifier` carries, or nullptr (none, or no classifier).
const classify::DetectionProfile* detection_profile(const classify::Classifier* classifier);

/// Classifies the defects; the site is `done` after this.
void classify_stage(Work& work, const classify::Classifier& classifier, const Checkpoint& cp);

}  // namespace ws::pipeline
