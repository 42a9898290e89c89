// The wafer map picture of a stored run: wafer outline, die grid, inspected and not-inspected dies
// shaded apart, defects coloured by class with a legend, and the run id and outcome in the title.
#pragma once

#include "publish/run_geometry.hpp"
#include "waferscan/store.hpp"

#include <opencv2/core/mat.hpp>

#include <filesystem>
#include <vector>

namespace ws::publish {

struct WaferMapOptions {
  int width = 1100;  ///< picture size in pixels (the map is the largest square that fits beside
  int height = 900;  ///< the legend and below the title); at least 400 x 300
};

/// Draws the map (CV_8UC3, BGR, exactly options.width x options.height). Dies of `done` sites are
/// green, of `error` sites red, of `incomplete`/`not_started` sites orange, dies of the wafer not
/// in the run grey. Defects are dots at their wafer position (not to scale), one colour per class
/// number of ClassTable. Throws std::invalid_argument for a picture too small.
/// Thread safety: a pure function of its arguments.
cv::Mat draw_wafer_map(const RunRecord& run, const std::vector<SiteResult>& sites,
                       const RunGeometry& geometry, const WaferMapOptions& options = {});

/// draw_wafer_map, written as PNG atomically (base/output_file.hpp: write_file_atomically).
void write_wafer_map_png(const std::filesystem::path& path, const RunRecord& run,
                         const std::vector<SiteResult>& sites, const RunGeometry& geometry,
                         const WaferMapOptions& options = {});

}  // namespace ws::publish
