// The classifier's feature vector: blob features on scales where classes separate linearly.
#pragma once

#include "waferscan/defect.hpp"

#include <Eigen/Core>

#include <string>
#include <vector>

namespace ws::classify {

/// Names of the entries of feature_vector(), in order; stored in model files so a model made for
/// another feature set is rejected on load.
const std::vector<std::string>& feature_names();

/// log(area), log(elongation), fill, log(1 + contrast), log(1 + max_contrast),
/// polarity (+1 bright, -1 dark), log(bbox aspect: long side / short side), then the context:
/// components_delta and holes_delta (clamped to -3..3), added_fraction, ring_fg_ref,
/// core_fraction, touched_ref and touched_frame (at most 4). A model uses a subset, by name (older
/// models use the first seven or the first twelve).
Eigen::VectorXd feature_vector(const BlobFeatures& f);

}  // namespace ws::classify
