// Training and evaluation over a labelled recorded set, through the one frame-to-defects path
// (FrameInspector): detect every frame once, label the blobs from the truth boxes, train, score;
// k-fold cross-validation and throughput measurement.
#pragma once

#include "classify/scoring.hpp"
#include "waferscan/classifier.hpp"
#include "waferscan/inspect.hpp"
#include "waferscan/recorded_set.hpp"

#include <opencv2/core.hpp>

#include <string>
#include <vector>

namespace ws::inspect {

using classify::Classifier;
using classify::ClassScore;
using classify::Scorer;
using classify::TrainOptions;

/// A labelled frame, decoded.
struct LabelledFrame {
  std::string name;
  int site_index = 0;
  cv::Mat frame;      ///< CV_8UC1
  cv::Mat reference;  ///< CV_8UC1; of another size than the frame's, the frame is `unreliable`
  std::vector<LabelledDefect> truth;
};

/// Decodes the labelled frames of `m` (frames without truth are skipped), in manifest order, with
/// read_frame_images and read_golden: a frame needs its own reference or the set's golden, each of
/// the set's frame size. Throws ConfigError naming the manifest and the image file and saying what
/// is wrong with it when one cannot be read.
std::vector<LabelledFrame> load_labelled_frames(const Manifest& m);

/// The detections of every frame (FrameInspector::preprocess and detect), frames in parallel on
/// the current task arena; deterministic (per-frame results, in frame order). A frame whose
/// verdict is not `inspected` has no blobs: its true defects count as missed, never as clean.
std::vector<FrameDetection> detect_frames(const std::vector<LabelledFrame>& frames,
                                          const FrameInspector& inspector);

/// The blobs of each detection, in order (what collect_examples and score_frames take).
std::vector<std::vector<BlobFeatures>> blobs_of(const std::vector<FrameDetection>& detections);

/// Training examples: the blobs that label_blobs() gives a class.
struct Examples {
  std::vector<BlobFeatures> features;
  std::vector<std::string> labels;
  int unlabelled = 0;  ///< blobs on no true box (left out)
};

/// Collects the examples of frames `which` (indices into frames/blobs), in that order. With a
/// non-empty `reject_label` the blobs on no true box are examples too, labelled so (TrainOptions::
/// reject_label); they are counted in `unlabelled` either way.
Examples collect_examples(const std::vector<LabelledFrame>& frames,
                          const std::vector<std::vector<BlobFeatures>>& blobs,
                          const std::vector<std::size_t>& which, double min_cover = 0.3,
                          const std::string& reject_label = {});

/// Classifies the blobs of frames `which` with `model` and adds them to `scorer`.
void score_frames(const Classifier& model, const std::vector<LabelledFrame>& frames,
                  const std::vector<std::vector<BlobFeatures>>& blobs,
                  const std::vector<std::size_t>& which, Scorer& scorer);

/// Cross-validation scores: each fold scored by a model trained (with the given options) on the
/// other folds, pooled over the folds.
struct CrossvalResult {
  Scorer pooled;
  Scorer agnostic;  ///< the same detections, every class named "defect": location only
  std::vector<ClassScore> per_fold;       ///< overall score of each fold
  std::vector<std::string> fold_names;    ///< the group of each fold ("1", "2", ... for k-fold)
  std::vector<Scorer> fold_scores;        ///< per-class scores of each fold
  std::vector<ClassScore> fold_agnostic;  ///< location-only score of each fold
};

/// k-fold cross-validation: frame i (in manifest order) is in fold i % folds (interleaved folds:
/// near-identical boards of one group land on both sides; see crossval_groups()).
CrossvalResult crossval(const std::vector<LabelledFrame>& frames,
                        const std::vector<std::vector<BlobFeatures>>& blobs,
                        const TrainOptions& options, int folds, double min_iou = 0.33);

/// The group of each name under `rule`: "first N digits" (N >= 1) takes the name's first N
/// characters, which must all be digits; any other rule is an ECMAScript regex searched in the
/// name, and the group is its first capture group (the whole match if it has none). Throws
/// std::invalid_argument for a bad regex, or naming the first name the rule does not match.
std::vector<std::string> group_names(const std::vector<std::string>& names,
                                     const std::string& rule);

/// Leave-one-group-out cross-validation: one fold per distinct group (folds in order of the
/// groups' names), each scored by a model trained on all the other groups' frames.
/// @param groups  the group of each frame (group_names()), frames.size() of them.
/// Throws std::invalid_argument for a size mismatch or fewer than two groups.
CrossvalResult crossval_groups(const std::vector<LabelledFrame>& frames,
                               const std::vector<std::vector<BlobFeatures>>& blobs,
                               const TrainOptions& options, const std::vector<std::string>& groups,
                               double min_iou = 0.33);

/// Throughput of the whole per-frame path (FrameInspector::inspect: preprocess, detect, refine,
/// classify) on decoded frames (decoding not included), frames in parallel with at most `threads`
/// threads, repeated `repeat` times.
struct Throughput {
  double fps = 0;               ///< median over the repetitions of frames / wall-clock seconds
  double cpu_ms_per_frame = 0;  ///< process CPU time / frames, median over the repetitions:
                                ///< less sensitive than fps to other load on the machine
};
Throughput measure_fps(const std::vector<LabelledFrame>& frames, const Classifier& model,
                       const FrameInspector& inspector, int threads, int repeat);

}  // namespace ws::inspect
