// How frames are turned into defects for a model: the detection settings plus the refinement
// steps after them. The one frame-to-defects path (src/inspect/frame_inspector.hpp) follows it.
#pragma once

#include "waferscan/recipe.hpp"

namespace ws {

/// detect() settings plus the steps after it (kernels/blob_context.hpp). A model file stores one
/// ("detection") when its images need their own settings (binarised DeepPCB pairs), so training,
/// cross-validation and reprocessing detect the same way. A model without one (sim.json) uses the
/// recipe's detection settings and no refinement.
struct DetectionProfile {
  DetectionSpec spec;
  bool preprocess = true;  ///< denoise (3x3 median) after flat-fielding; false: flat-field only
  int tolerance_px = 0;    ///< > 0: blobs of the difference tolerant to this much misregistration
                           ///< (kernels::tolerant_blobs) replace detect()'s
  double min_core_fraction = 0;      ///< drop blobs whose core_fraction is below (edge lines)
  int merge_px = -1;                 ///< merge_blobs distance; < 0: no merging
  int context_margin_px = 6;         ///< blob_context window margin
  int context_min_contrast = 32;     ///< blob_context: minimum pattern contrast in the window
  int context_min_component_px = 0;  ///< blob_context: smaller components and holes are specks
                                     ///< of the binarisation, not pattern, and are not counted
  int box_margin_px = 0;             ///< grow_boxes: reported box = blob box grown by this
  int register_tile_px = 0;          ///< > 0: kernels::detect_registered with tiles of this side (a
                                     ///< local shift field and a reliability verdict); 0: one shift
};

}  // namespace ws
