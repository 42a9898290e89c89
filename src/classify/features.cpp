#include "classify/features.hpp"

#include <algorithm>
#include <cmath>

namespace ws::classify {

const std::vector<std::string>& feature_names() {
  static const std::vector<std::string> kNames{
      "log_area",           "log_elongation", "fill",        "log1p_contrast",
      "log1p_max_contrast", "polarity",       "log_aspect",  "components_delta",
      "holes_delta",        "added_fraction", "ring_fg_ref", "core_fraction",
      "touched_ref",        "touched_frame"};
  return kNames;
}

Eigen::VectorXd feature_vector(const BlobFeatures& f) {
  const double w = std::max(f.bbox.width, 1);
  const double h = std::max(f.bbox.height, 1);
  Eigen::VectorXd v(14);
  v << std::log(std::max(f.area_px, 1)), std::log(std::max(f.elongation, 1.0)), f.fill,
      std::log1p(std::max(f.contrast, 0.0)), std::log1p(std::max(f.max_contrast, 0.0)),
      f.polarity == Polarity::bright ? 1.0 : -1.0, std::log(std::max(w, h) / std::min(w, h)),
      std::clamp(f.components_delta, -3, 3), std::clamp(f.holes_delta, -3, 3), f.added_fraction,
      f.ring_fg_ref, f.core_fraction, std::min(f.touched_ref, 4), std::min(f.touched_frame, 4);
  return v;
}

}  // namespace ws::classify
