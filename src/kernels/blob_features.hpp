// Shape and intensity features of labelled blobs (second moments with Eigen).
#pragma once

#include "kernels/connected_components.hpp"
#include "kernels/status.hpp"
#include "waferscan/cancel.hpp"
#include "waferscan/defect.hpp"

#include <opencv2/core.hpp>

#include <vector>

namespace ws::kernels {

/// What blob_features() measures on: the aligned pair and the products of the earlier kernels.
struct BlobImages {
  const cv::Mat& frame;   ///< CV_8UC1
  const cv::Mat& golden;  ///< CV_8UC1, frame's size
  int dx = 0;             ///< frame(x, y) corresponds to golden(x - dx, y - dy)
  int dy = 0;
  const cv::Mat& absdiff;  ///< CV_8UC1, absdiff_shifted(frame, golden, dx, dy)
  const cv::Mat& labels;   ///< CV_32SC1 from connected_components()
};

/// Sums over a blob's pixels, positions (u, v) relative to its bbox corner, d = frame - reference.
struct BlobMoments {
  double n = 0;           ///< pixels
  double sx = 0;          ///< sum u
  double sy = 0;          ///< sum v
  double sxx = 0;         ///< sum u^2
  double sxy = 0;         ///< sum u v
  double syy = 0;         ///< sum v^2
  double abs_sum = 0;     ///< sum |d|
  double signed_sum = 0;  ///< sum d
  int abs_max = 0;        ///< max |d|

  /// Adds one pixel at (u, v) from the box corner: its frame - reference difference d and the
  /// absolute difference a the contrast is measured on.
  void add(double u, double v, int a, int d) {
    n += 1;
    sx += u;
    sy += v;
    sxx += u * u;
    sxy += u * v;
    syy += v * v;
    abs_sum += a;
    signed_sum += d;
    abs_max = abs_max < a ? a : abs_max;
  }
};

/// The features blob_features() reports for component `c` with moments `m` (m.n > 0).
BlobFeatures blob_from_moments(const Component& c, const BlobMoments& m);

/// Features of every component with area >= min_area_px, in label order:
/// - bbox, area, centroid (mean pixel position) and fill = area / bbox area;
/// - elongation = sqrt(major / minor eigenvalue) of the blob's second-moment matrix, each pixel
///   counted as a unit square (so a one-pixel blob is round: 1, a 1xN line sqrt(N^2) ~ N);
/// - polarity bright if the sum of frame - reference over the blob is >= 0, else dark;
/// - contrast and max_contrast: mean and max of absdiff over the blob.
///
/// @param band_rows  rows between cancellation checkpoints, >= 1.
/// @return canceled if `cp` fired (out unspecified), else ok.
/// @throws std::invalid_argument for wrong types, sizes or parameters. Thread safety: pure.
Status blob_features(const BlobImages& images, const std::vector<Component>& components,
                     int min_area_px, int band_rows, const Checkpoint& cp,
                     std::vector<BlobFeatures>& out);

}  // namespace ws::kernels
