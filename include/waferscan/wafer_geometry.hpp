// The wafer and camera geometry a recipe, a recorded set and an export share: which wafer, its die
// grid, and the frame size and pixel size of the camera that looked at it.
#pragma once

#include <string>

namespace ws {

struct Recipe;

/// Geometry of a wafer, in micrometres in stage coordinates (a recipe's `wafer` section, a
/// manifest's lot_id, wafer_id and wafer keys). Convention (documented in the README): stage (0, 0)
/// is the wafer centre; die (i, j) has its lower-left corner at die_origin + (i * pitch_x,
/// j * pitch_y).
struct WaferGeometry {
  std::string lot_id = "LOT0";
  std::string wafer_id = "W01";
  double wafer_diameter_mm = 200;
  double die_pitch_x_um = 10000;
  double die_pitch_y_um = 10000;
  double die_origin_x_um = 0;
  double die_origin_y_um = 0;
};

/// The frames the camera takes of it. Frame columns run along +x and rows along +y of the stage,
/// so a pixel (c, r) of the frame taken at stage position P lies at
/// P + ((c, r) - frame centre) * pixel_size.
struct FrameGeometry {
  int frame_width = 0;
  int frame_height = 0;
  double pixel_size_um = 1;
};

/// The frames a recipe takes: its camera's frame and pixel size.
FrameGeometry frame_geometry(const Recipe& recipe);

}  // namespace ws
