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
  cv::Rect bbox;           ///< x, y, width, height (inclusive-exclusive)
  int area_px = 0;         ///< pixels above threshold
  cv::Point2d centroid;    ///< frame pixels
  double elongation = 1;   ///< sqrt(major/minor eigenvalue of the second-moment matrix), >= 1
  double fill = 1;         ///< area / bbox area
  Polarity polarity = Polarity::bright;
  double contrast = 0;     ///< mean |frame - reference| over the blob, grey levels
  double max_contrast = 0; ///< max |frame - reference| over the blob
};

/// A classified defect.
struct Defect {
  int id = 0;  ///< unique within a run (assigned when stored)
  BlobFeatures features;
  std::string class_name;
  double confidence = 0;  ///< 0..1
};

}  // namespace ws
