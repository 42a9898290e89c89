// The one frame-to-defects path: preprocess, register and compare against the reference, refine
// the blobs as the model's detection profile says, apply the alignment rule, classify. The graph's
// stages call its steps one node each; the serial baseline, train and crossval call the same steps
// (inspect() is all of them in order), so every consumer finds the same defects on the same pair.
#pragma once

#include "waferscan/cancel.hpp"
#include "waferscan/classifier.hpp"
#include "waferscan/defect.hpp"
#include "waferscan/detection_profile.hpp"
#include "waferscan/recipe.hpp"

#include <opencv2/core.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ws::kernels {
struct GoldenPyramid;  // kernels/align.hpp: a reference's alignment pyramid, made once per run
}  // namespace ws::kernels

namespace ws::inspect {

/// How a step left the frame. Anything but `inspected` ends the frame: it has no defects.
enum class FrameVerdict {
  inspected,   ///< the step did its part; the frame goes on
  canceled,    ///< the checkpoint fired (the site is `incomplete`)
  bad_frame,   ///< not an 8-bit grey image (the site is an `error`)
  unreliable,  ///< registration too poor to trust a comparison, or the frame's size differs
               ///< from its reference's (the site is `unreliable`)
};
std::string_view to_string(FrameVerdict v) noexcept;

/// A step's verdict and, for anything but `inspected`, why.
struct StepResult {
  FrameVerdict verdict = FrameVerdict::inspected;
  std::string reason;
  [[nodiscard]] bool ok() const noexcept { return verdict == FrameVerdict::inspected; }
};

/// What detect() found: the registration and the (refined, unclassified) blobs.
struct FrameDetection {
  StepResult step;
  int dx = 0;  ///< frame(x, y) corresponds to reference(x - dx, y - dy)
  int dy = 0;
  double align_confidence = 0;
  std::vector<BlobFeatures> blobs;
};

/// One frame inspected end to end (inspect()).
struct FrameInspection {
  FrameDetection detection;     ///< detection.step is the verdict of the whole frame
  std::vector<Defect> defects;  ///< classified; empty unless the frame was inspected (ids 0)
};

/// Below this alignment confidence a frame is not compared: its verdict is `unreliable`.
inline constexpr double kMinAlignConfidence = 0.2;

/// Detection as a model's profile says. Built once per run (or per evaluation); every method is
/// const and pure, so one inspector serves every node body concurrently.
class FrameInspector {
 public:
  /// Follows `profile` when there is one (a model that carries it, e.g. deeppcb.json), else
  /// `recipe_spec` with the default profile steps and no refinement after detect().
  FrameInspector(std::optional<DetectionProfile> profile, const DetectionSpec& recipe_spec);
  /// The inspector for `classifier`'s profile (if any) and the recipe's settings otherwise.
  static FrameInspector for_model(const classify::Classifier& classifier,
                                  const DetectionSpec& recipe_spec);

  /// The settings detect() runs with (the profile's spec, or the recipe's).
  [[nodiscard]] const DetectionSpec& spec() const noexcept { return profile_.spec; }

  /// Checks `raw` (8-bit grey: else `bad_frame`; of `expected` size: else `unreliable`), then
  /// writes the flat-fielded (when `flat` is not empty) and denoised (when the profile says so)
  /// frame into `out`, which the caller may have allocated (reused when it fits). `canceled` if
  /// `cp` fired mid-kernel.
  StepResult preprocess(const cv::Mat& raw, const cv::Mat& flat, cv::Size expected,
                        const Checkpoint& cp, cv::Mat& out) const;

  /// Registers `frame` (preprocessed) to `reference`, compares, thresholds and extracts blobs;
  /// then the alignment rule (confidence under kMinAlignConfidence: `unreliable`, no blobs) and
  /// the profile's refinement. `pyramid` (optional): kernels::golden_pyramid(reference).
  [[nodiscard]] FrameDetection detect(const cv::Mat& frame, const cv::Mat& reference,
                                      const Checkpoint& cp,
                                      const kernels::GoldenPyramid* pyramid = nullptr) const;

  /// Classifies `defects` in place (the model may drop its reject class). `canceled` if `cp` has
  /// fired before it starts.
  StepResult classify(const classify::Classifier& classifier, std::vector<Defect>& defects,
                      const Checkpoint& cp) const;

  /// preprocess(), detect() and classify() in order: the single per-frame call. The frame must be
  /// of `reference`'s size.
  [[nodiscard]] FrameInspection inspect(const cv::Mat& raw, const cv::Mat& reference,
                                        const cv::Mat& flat, const classify::Classifier& classifier,
                                        const Checkpoint& cp,
                                        const kernels::GoldenPyramid* pyramid = nullptr) const;

 private:
  [[nodiscard]] FrameDetection detect_local(const cv::Mat& frame, const cv::Mat& reference,
                                            const Checkpoint& cp,
                                            const kernels::GoldenPyramid* pyramid) const;

  DetectionProfile profile_;
  bool refine_ = false;  ///< the profile came from a model: refine detect()'s blobs with it
};

/// Unclassified defects (ids 0) from blobs, in order.
std::vector<Defect> as_defects(const std::vector<BlobFeatures>& blobs);

}  // namespace ws::inspect
