// Blob context: how a change sits in the pattern (splits, joins, encloses, stands alone), and
// merging of nearby blobs into one defect.
#pragma once

#include "waferscan/defect.hpp"

#include <opencv2/core.hpp>

#include <vector>

namespace ws::kernels {

/// Fills the context fields of each blob (components_delta, holes_delta, added_fraction,
/// ring_fg_ref, core_fraction, touched_ref, touched_frame; see BlobFeatures) from the frame and
/// the reference aligned by
/// (dx, dy). Inside the window bbox grown by `margin_px` (clipped to the overlap), both images are
/// binarised at the windows' mid-grey (min + max of both) / 2; windows spanning fewer than
/// `min_contrast` grey levels have no pattern and leave the fields 0. Components are
/// 8-connected foreground, holes 4-connected background not touching the window border; the ring
/// is the 3x3 dilation of the changed pixels minus the changed pixels; the core is the 3x3 erosion
/// of the changed pixels.
/// Cost: one small window per blob (O(window area)); no checkpoint inside (bounded, small work).
/// @throws std::invalid_argument for wrong types or sizes, or margin_px < 1. Thread safety: pure.
/// `min_component_px`: components and holes of fewer pixels are not counted (specks the
/// binarisation leaves in ragged copper, which would otherwise make a spur look like a short).
void blob_context(const cv::Mat& frame, const cv::Mat& golden, int dx, int dy, int margin_px,
                  int min_contrast, std::vector<BlobFeatures>& blobs, int min_component_px = 0);

/// Only core_fraction (the other context fields 0): the cheap part of blob_context(), to drop edge
/// lines before the rest is computed on what remains.
void blob_core(const cv::Mat& frame, const cv::Mat& golden, int dx, int dy, int margin_px,
               int min_contrast, std::vector<BlobFeatures>& blobs);

/// Replaces `blobs` (found by detect() at shift (dx, dy) with level `threshold`) by the blobs of
/// the misregistration-tolerant difference: a frame pixel is changed only if it differs by more
/// than `threshold` from every reference pixel within `radius_px` (Chebyshev) of where it maps,
/// i.e. frame > max + threshold or frame < min - threshold over that neighbourhood (clipped to the
/// reference). A shift error of up to `radius_px` then leaves no lines along pattern edges, and a
/// defect joined to such lines comes out alone. Changed pixels are a subset of detect()'s, so only
/// the blobs' boxes are searched (boxes that overlap as one window), and the neighbourhood is read
/// only where the plain difference is above `threshold`. The new blobs are the 8-connected
/// components with area >= min_area_px, with the features blob_features() gives (moments,
/// polarity and contrast of frame - reference; radius 0 gives detect()'s blobs exactly), ordered
/// by box top, left and area within each window, windows in order of their first blob. Context
/// fields are 0.
/// Cost: O(area of the boxes); no checkpoint inside (the boxes are a small part of a frame).
/// @throws std::invalid_argument for wrong types or sizes, threshold outside 0..254 or
/// radius_px < 0. Thread safety: pure.
void tolerant_blobs(const cv::Mat& frame, const cv::Mat& golden, int dx, int dy, int threshold,
                    int radius_px, int min_area_px, std::vector<BlobFeatures>& blobs);

/// Merges blobs whose boxes, each grown by `distance_px`, overlap (transitively): one defect seen
/// as several pieces of difference. The merged blob has the union box, the summed area, the
/// area-weighted centroid and contrast, the maximum max_contrast, fill = area / box area, and the
/// polarity and elongation of its largest piece. Order: by first member in input order.
/// distance_px < 0 leaves the blobs unchanged. Deterministic. Thread safety: pure.
void merge_blobs(int distance_px, std::vector<BlobFeatures>& blobs);

/// Grows every box by `margin_px` on each side, clipped to `bounds`.
void grow_boxes(int margin_px, const cv::Rect& bounds, std::vector<BlobFeatures>& blobs);

}  // namespace ws::kernels
