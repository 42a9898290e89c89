// Scoring detections against labelled truth with a data set's rule (DeepPCB: IoU > 0.33 with a
// true box of the same class), and labelling detected blobs from truth boxes for training.
#pragma once

#include "waferscan/defect.hpp"
#include "waferscan/recorded_set.hpp"

#include <opencv2/core/types.hpp>

#include <optional>
#include <string>
#include <vector>

namespace ws::classify {

/// Intersection over union of two boxes (0 when both are empty).
double iou(const cv::Rect& a, const cv::Rect& b);

/// Counts of one class (or of all classes together).
struct ClassScore {
  std::string name;
  int truths = 0;      ///< true boxes of this class
  int detections = 0;  ///< detections classified as this class
  int correct = 0;     ///< detections matched one-to-one to a true box of this class
  [[nodiscard]] double precision() const;  ///< correct / detections (1 when no detections)
  [[nodiscard]] double recall() const;     ///< correct / truths (1 when no truths)
  [[nodiscard]] double f_score() const;    ///< 2PR / (P + R), 0 when P + R = 0
};

/// Accumulates frames. The rule per frame and class: detections in decreasing confidence (ties:
/// input order) each take the unmatched true box of their class with the highest IoU, if that IoU
/// is > min_iou. A true box matches at most one detection, so duplicates are false positives.
class Scorer {
 public:
  explicit Scorer(double min_iou = 0.33) : min_iou_(min_iou) {}
  void add(const std::vector<Defect>& detections, const std::vector<LabelledDefect>& truth);
  /// Per class, sorted by name: every class seen in truth or detections.
  [[nodiscard]] std::vector<ClassScore> per_class() const;
  /// All classes together (micro-average): what the data set's authors report as F-score.
  [[nodiscard]] ClassScore overall() const;
  [[nodiscard]] int frames() const { return frames_; }

 private:
  double min_iou_;
  int frames_ = 0;
  std::vector<ClassScore> classes_;  // sorted by name
  ClassScore& entry(const std::string& name);
};

/// The truth class of each blob for training: the true box that covers the largest part of the
/// blob's box, if that part is at least `min_cover` of the blob's box area; nullopt otherwise (a
/// blob that is not a labelled defect). Labels in DeepPCB are boxes larger than the changed copper,
/// so coverage of the blob, not IoU, decides.
std::vector<std::optional<std::string>> label_blobs(const std::vector<BlobFeatures>& blobs,
                                                    const std::vector<LabelledDefect>& truth,
                                                    double min_cover = 0.5);

}  // namespace ws::classify
