// Fused detection: shifted difference, threshold, 8-connected labelling and blob statistics in
// one pass over bands of rows, merged across band boundaries.
#pragma once

#include "kernels/status.hpp"
#include "waferscan/cancel.hpp"
#include "waferscan/defect.hpp"

#include <opencv2/core.hpp>

#include <vector>

namespace ws::kernels {

/// The blobs of |frame(x, y) - golden(x - dx, y - dy)| > level over valid_region(size, dx, dy):
/// the same blobs, in the same order and with bit-identical features, as the separate chain
/// absdiff_shifted -> threshold -> connected_components -> blob_features, and the same boxes and
/// areas as cv::absdiff on the overlap + cv::threshold(THRESH_BINARY) +
/// cv::connectedComponentsWithStats(8-connectivity). No image is written: each band of rows
/// computes its differences one row at a time, turns them into runs of set pixels, labels the runs
/// with a band-local union-find and sums each component's statistics per run (positions in closed
/// form, contrast per pixel); the bands' components are then joined where runs of a band's last
/// row touch runs of the next band's first row. Blobs are ordered by their first pixel in raster
/// order. Bands run in parallel (parallel_bands) in the caller's task_group_context.
///
/// @param frame, golden  CV_8UC1 of the same size.
/// @param dx, dy         frame(x, y) corresponds to golden(x - dx, y - dy).
/// @param level          grey level, 0..255: differences strictly above it are set.
/// @param min_area_px    smaller blobs are dropped (after joining).
/// @param band_rows      rows per band and between cancellation checkpoints, >= 1.
/// @param cp             polled once per band; a disabled one is never loaded.
/// @param out            the blobs.
/// @return canceled if `cp` fired or the enclosing context was cancelled (out unspecified).
/// @throws std::invalid_argument for wrong types, sizes, level or band_rows. Thread safety: pure.
Status fused_blobs(const cv::Mat& frame, const cv::Mat& golden, int dx, int dy, int level,
                   int min_area_px, int band_rows, const Checkpoint& cp,
                   std::vector<BlobFeatures>& out);

}  // namespace ws::kernels
