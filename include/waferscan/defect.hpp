// A defect found on a frame: where it is, how it looks, and what the classifier says it is.
#pragma once

#include <opencv2/core/types.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace ws {

/// Bright: the frame is brighter than the reference there; dark: darker.
enum class Polarity : std::uint8_t { bright, dark };
std::string_view to_string(Polarity p) noexcept;

/// Shape and intensity features of one blob of the difference image, in frame pixels.
struct BlobFeatures {
  cv::Rect bbox;          ///< x, y, width, height (inclusive-exclusive)
  int area_px = 0;        ///< pixels above threshold
  cv::Point2d centroid;   ///< frame pixels
  double elongation = 1;  ///< sqrt(major/minor eigenvalue of the second-moment matrix), >= 1
  double fill = 1;        ///< area / bbox area
  Polarity polarity = Polarity::bright;
  double contrast = 0;      ///< mean |frame - reference| over the blob, grey levels
  double max_contrast = 0;  ///< max |frame - reference| over the blob

  // Context of the blob in the pattern (kernels/blob_context.hpp), from the frame and the aligned
  // reference binarised at mid-grey inside a window around the blob. They say whether a change
  // splits or joins pattern features, opens or fills a hole, or stands alone. All 0 when the
  // window has no pattern contrast.
  int components_delta = 0;   ///< foreground components in the frame minus in the reference
  int holes_delta = 0;        ///< enclosed background components, frame minus reference
  double added_fraction = 0;  ///< changed pixels that became foreground / all changed pixels
  double ring_fg_ref = 0;     ///< fraction of the 1-px ring around the change that is foreground
                              ///< (in both images: outside the change they agree)
  double core_fraction = 0;   ///< changed pixels surviving a 3x3 erosion / changed pixels (0 for
                              ///< 1-2 px lines: edge misregistration, not a defect)
  // The same question asked at the change itself rather than over the window, so that other
  // pattern in the window cannot answer it: the foreground components (8-connected, in the
  // window) within 2 px of the changed pixels, in the reference and in the frame. A short touches
  // two conductors and makes them one (2, 1), a spur one (1, 1), an open splits one (1, 2), a
  // mousebite does not (1, 1), stray copper stands alone (0, 1), a pin-hole sits in one (1, 1).
  int touched_ref = 0;
  int touched_frame = 0;
};

/// A classified defect.
struct Defect {
  int id = 0;  ///< unique within a run (assigned when stored)
  BlobFeatures features;
  std::string class_name;
  double confidence = 0;  ///< 0..1
};

}  // namespace ws
