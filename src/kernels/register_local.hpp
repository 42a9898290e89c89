// Local registration: a per-tile shift field on top of the global alignment, the reference
// resampled onto the frame by it, and a per-tile residual that says how well it fits everywhere.
#pragma once

#include "kernels/detect.hpp"
#include "kernels/status.hpp"
#include "waferscan/cancel.hpp"
#include "waferscan/recipe.hpp"

#include <opencv2/core.hpp>

#include <string>

namespace ws::kernels {

/// Settings of register_local(); the defaults suit binarised 640x640 pairs (DeepPCB).
struct LocalRegisterSpec {
  int tile_px = 64;      ///< side of the square tiles whose shifts are measured
  int search_px = 4;     ///< each tile searches this far around the global integer shift
  int min_edges = 40;    ///< edge pixels across an axis a tile needs for that axis to be measured
  int level = 100;       ///< grey difference that counts as an edge and as a residual pixel
  int tolerance_px = 1;  ///< the residual's tolerance (Chebyshev) around the warped reference
  double max_step_px = 1.0;  ///< a tile this far off the median of its neighbours is an outlier
  double max_plane_dev_px = 1.5;    ///< a tile this far off the robust plane fit takes the plane's
  int min_textured = 16;            ///< with at least this many textured tiles, ...
  double min_registered = 0.25;     ///< ... fewer measured than this share of them: unreliable
  double max_tile_residual = 0.12;  ///< a tile whose residual is above this is badly fitted
  int max_bad_tiles = 3;            ///< more badly fitted tiles than this: unreliable
  double min_confidence = 0.2;      ///< global alignment confidence below this: unreliable
};

/// The local model of one frame against its reference.
struct LocalRegistration {
  Status status = Status::ok;
  cv::Point global;          ///< the integer shift it started from (align())
  cv::Point2d mean_shift;    ///< the field's mean: the sub-pixel global shift
  cv::Mat shift_x;           ///< CV_32F, one per tile: frame(x, y) ~ golden(x - sx, y - sy)
  cv::Mat shift_y;           ///< at the tile's centre, bilinear in between
  cv::Mat residual;          ///< CV_32F, one per tile: share of its pixels left unexplained
  cv::Mat warped;            ///< CV_8UC1, frame's size: the reference resampled by the field;
                             ///< where it has no reference pixel, the frame's own value
  int textured_tiles = 0;    ///< tiles with edges (in the reference) on at least one axis
  int registered_tiles = 0;  ///< of those, tiles whose shift was measured on every textured axis
  int bad_tiles = 0;         ///< tiles with residual above LocalRegisterSpec::max_tile_residual
  double max_residual = 0;   ///< largest tile residual
  bool reliable = true;      ///< the frame can be compared (see reason when not)
  std::string reason;        ///< why not: "alignment confidence ...", "blank frame", ...
};

/// Measures each tile's shift (sum of absolute differences over integer shifts within search_px of
/// `global`, refined to sub-pixel by an equiangular fit on each axis; an axis with fewer than
/// min_edges edges across it, or a minimum on the window's edge, is not measured), drops values
/// off the median of their neighbours by more than max_step_px, fits a plane to each axis' values
/// over the tiles (robust: Tukey-weighted least squares; a constant with fewer than 6 values; the
/// global shift with none), so that a small rotation, scale or stretch is one model; values off
/// the plane by more than max_plane_dev_px, and unmeasured tiles, take the plane's. Then resamples
/// `golden` bilinearly through the field (bilinear between tile centres) and scores each tile: the
/// share of its pixels that differ by more than `level` from every warped reference pixel within
/// tolerance_px. Verdict: unreliable when the reference has texture and `confidence` <
/// min_confidence, the frame has under a tenth of the reference's edges ("blank frame"), with
/// min_textured textured tiles or more fewer than min_registered of them were measured, or more
/// than max_bad_tiles tiles are badly fitted. A reference with no texture at all is reliable.
/// @param frame, golden  CV_8UC1 of one size.
/// @param global         integer shift from align(); `confidence` its ZNCC.
/// @param cp             polled (with the enclosing context) before every row of tiles of each
///                       pass: measuring, resampling, residual.
/// @return status canceled (other fields unspecified) if `cp` or the enclosing context fired.
/// @throws std::invalid_argument for wrong types, sizes or settings. Thread safety: pure.
LocalRegistration register_local(const cv::Mat& frame, const cv::Mat& golden, cv::Point global,
                                 double confidence, const LocalRegisterSpec& spec,
                                 const Checkpoint& cp);

/// align(), register_local(), then detect() of `frame` against the warped reference (shift 0).
/// The output's dx, dy are 0 (its blobs and any later refinement are relative to reg.warped);
/// align_confidence and the sub-pixel fields are the global alignment's. Canceled if `cp` fired.
DetectOutput detect_registered(const cv::Mat& frame, const cv::Mat& golden,
                               const DetectionSpec& spec, const LocalRegisterSpec& rs,
                               const Checkpoint& cp, LocalRegistration& reg,
                               const GoldenPyramid* pyramid = nullptr);

}  // namespace ws::kernels
