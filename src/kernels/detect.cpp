#include "kernels/detect.hpp"

#include "kernels/absdiff_shifted.hpp"
#include "kernels/align.hpp"
#include "kernels/band.hpp"
#include "kernels/blob_features.hpp"
#include "kernels/connected_components.hpp"
#include "kernels/diff_histogram.hpp"
#include "kernels/fused_blobs.hpp"
#include "kernels/noise_sigma.hpp"
#include "kernels/threshold.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace ws::kernels {

namespace {
void validate(const cv::Mat& frame, const cv::Mat& golden, const DetectionSpec& spec) {
  require_band_rows(spec.band_rows, "detect");
  if (frame.type() != CV_8UC1 || golden.type() != CV_8UC1 || frame.size() != golden.size()) {
    throw std::invalid_argument("detect: frame and golden must be CV_8UC1 of one size");
  }
  if (spec.max_shift_px < 0 || spec.min_area_px < 0 || !(spec.threshold_sigma >= 0)) {
    throw std::invalid_argument("detect: negative max_shift_px, min_area_px or threshold_sigma");
  }
}
}  // namespace

DetectOutput detect(const cv::Mat& frame, const cv::Mat& golden, const DetectionSpec& spec,
                    const Checkpoint& cp, DetectPath path, const GoldenPyramid* pyramid) {
  validate(frame, golden, spec);
  DetectOutput out;
  const int band = spec.band_rows;
  const auto canceled = [&out] {
    out.status = Status::canceled;
    out.blobs.clear();
    return out;
  };

  const AlignResult shift = align(frame, golden, spec.max_shift_px, band, cp, pyramid);
  if (shift.status == Status::canceled) return canceled();
  out.dx = shift.dx;
  out.dy = shift.dy;
  out.align_confidence = shift.confidence;
  out.subpixel_dx = shift.subpixel_dx;
  out.subpixel_dy = shift.subpixel_dy;
  const auto level_for = [&](double sigma) {
    // Pixels are integers, so "above sigma-scaled noise" is "above its floor".
    const double level =
        std::max(static_cast<double>(spec.min_threshold), std::floor(spec.threshold_sigma * sigma));
    return static_cast<int>(std::clamp(level, 0.0, 255.0));
  };

  if (path == DetectPath::fused) {
    Histogram histogram{};
    if (diff_histogram(frame, golden, out.dx, out.dy, band, cp, histogram) == Status::canceled) {
      return canceled();
    }
    out.threshold = level_for(sigma_from_histogram(histogram));
    if (fused_blobs(frame, golden, out.dx, out.dy, out.threshold, spec.min_area_px, band, cp,
                    out.blobs) == Status::canceled) {
      return canceled();
    }
    return out;
  }

  cv::Mat diff;
  if (absdiff_shifted(frame, golden, out.dx, out.dy, band, cp, diff) == Status::canceled) {
    return canceled();
  }
  const NoiseEstimate noise =
      noise_sigma(diff, valid_region(frame.size(), out.dx, out.dy), band, cp);
  if (noise.status == Status::canceled) return canceled();
  out.threshold = level_for(noise.sigma);

  cv::Mat binary;
  if (threshold(diff, out.threshold, band, cp, binary) == Status::canceled) return canceled();
  cv::Mat labels;
  std::vector<Component> components;
  if (connected_components(binary, band, cp, labels, components) == Status::canceled) {
    return canceled();
  }
  const BlobImages images{frame, golden, out.dx, out.dy, diff, labels};
  if (blob_features(images, components, spec.min_area_px, band, cp, out.blobs) ==
      Status::canceled) {
    return canceled();
  }
  return out;
}

}  // namespace ws::kernels
