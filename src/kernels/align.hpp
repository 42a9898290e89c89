// Alignment of a frame to the golden reference: coarse-to-fine ZNCC search with a sub-pixel fit.
#pragma once

#include "kernels/status.hpp"
#include "waferscan/cancel.hpp"

#include <opencv2/core.hpp>

#include <vector>

namespace ws::kernels {

struct AlignResult {
  Status status = Status::ok;
  int dx = 0;  ///< frame(x, y) corresponds to golden(x - dx, y - dy)
  int dy = 0;
  double confidence = 0;  ///< zero-mean normalised cross-correlation at the best shift, in 0..1
  /// Sub-pixel residue in [-0.5, 0.5]: the true shift is about (dx + subpixel_dx, dy +
  /// subpixel_dy). From a parabola through the ZNCC at the best shift and its two neighbours on
  /// each axis; 0 where that is not a peak or a neighbour is outside the search. Reported only;
  /// the difference image uses the integer shift.
  double subpixel_dx = 0;
  double subpixel_dy = 0;
  int levels = 0;  ///< pyramid levels searched (1 = full resolution only)
};

/// The number of times align() halves the images before its exhaustive search: until the radius
/// is at most 3 pixels, keeping at least 48 rows and columns.
int pyramid_levels(cv::Size size, int max_shift_px);

/// A golden image's halves as align() makes them (2x2 means): halves[k] is the image halved k + 1
/// times, down to the smallest level any search radius uses. Every frame of a run is aligned to the
/// same golden image; built once, the halves save align() remaking them for each frame (about half
/// of its own halving work).
struct GoldenPyramid {
  cv::Mat golden;  ///< the image the halves were made from (shares its buffer)
  std::vector<cv::Mat> halves;
};

/// Builds the pyramid of `golden` (CV_8UC1), pyramid_levels(size, any radius) halves. Not
/// cancellable: a run builds it before it starts. Thread safety: pure.
GoldenPyramid golden_pyramid(const cv::Mat& golden, int band_rows);

/// Finds the integer shift |dx|, |dy| <= max_shift_px that maximises the zero-mean normalised
/// cross-correlation (ZNCC) of the frame with the shifted golden image, coarse to fine:
/// both images are halved pyramid_levels() times (2x2 means); the coarsest level tries every
/// shift within the scaled radius, each finer level a 5x5 window around twice the coarser peak
/// (re-centred, at every level, while the peak sits on the window's edge). So offsets of tens
/// of pixels cost about as much as a few. Within a window every shift is scored on the same frame
/// pixels (those with a reference under every shift of the window), using every k-th row (about
/// 128 rows) and all columns; each row's dot products run in the widest SIMD the CPU has. Ties go
/// to the smaller |dx| + |dy|. The radius is clamped for small images. A frame or golden image with
/// no contrast gives shift (0, 0) and confidence 0; an unrelated image gives a confidence near 0. A
/// periodic pattern whose period is below 2^levels pixels can fool the coarse level; the confidence
/// then stays low.
///
/// @param frame, golden  CV_8UC1 of the same size, at most 32768 columns.
/// @param max_shift_px   search radius, >= 0.
/// @param band_rows      rows between cancellation checkpoints, >= 1.
/// @param cp             polled once per band.
/// @param pyramid        optional: golden_pyramid(golden) (the very same image), whose halves are
///                       used instead of halving `golden` again; the results are the same.
/// @return the shift, sub-pixel residue and confidence, or status canceled (other fields
/// unspecified).
/// @throws std::invalid_argument for wrong types, sizes or parameters, or a pyramid made from
/// another image. Thread safety: pure (a pyramid may be shared by concurrent calls).
AlignResult align(const cv::Mat& frame, const cv::Mat& golden, int max_shift_px, int band_rows,
                  const Checkpoint& cp, const GoldenPyramid* pyramid = nullptr);

}  // namespace ws::kernels
