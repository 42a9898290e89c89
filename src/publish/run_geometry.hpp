// What the exports (KLARF, CSV, wafer map) need beyond the store: the wafer and camera geometry of
// a run, the class-number table, where each defect lies on the wafer, and the inspected area.
#pragma once

#include "waferscan/recipe.hpp"
#include "waferscan/recorded_set.hpp"
#include "waferscan/store.hpp"
#include "waferscan/wafer_geometry.hpp"

#include <opencv2/core/types.hpp>

#include <string>
#include <vector>

namespace ws::publish {

/// Geometry of one run: the wafer and camera geometry (see WaferGeometry for the convention),
/// and the class names that number the defects.
struct RunGeometry : WaferGeometry, FrameGeometry {
  /// The classifier's class names in model order (class number = position + 1); may be empty.
  std::vector<std::string> model_classes;
  std::string source;  ///< the recipe or manifest the geometry came from (for messages)
};

/// Geometry of a recipe; `model_classes` from the recipe's classifier model when it loads,
/// otherwise the simulator's defect classes.
RunGeometry geometry_from_recipe(const Recipe& recipe);
/// Geometry of a recorded set; `model_classes` are the set's label classes.
RunGeometry geometry_from_manifest(const Manifest& manifest);

/// Geometry of a stored run. A live run: from the recipe text stored with it (`inputs`), so an
/// edited or moved recipe file changes nothing; class names from the stored model classes. A
/// reprocessed run: from its recorded set's manifest, which must be the one the run read (its
/// stored content hash). Runs stored before schema v5 (`inputs` nullopt) read the recipe and
/// model files as they are. Throws ConfigError naming the recipe or set when it is gone, changed
/// or no longer valid (the export cannot place defects without it).
RunGeometry load_run_geometry(const RunRecord& run,
                              const std::optional<RunInputs>& inputs = std::nullopt);

/// KLARF class numbers: 0 is "unclassified" (an empty class name), then the model's classes in
/// model order, then any other class name found in the sites, in order of first appearance.
class ClassTable {
 public:
  ClassTable(const RunGeometry& geometry, const std::vector<SiteResult>& sites);
  [[nodiscard]] int number(const std::string& class_name) const;
  /// names()[k] is the name of class number k.
  [[nodiscard]] const std::vector<std::string>& names() const { return names_; }

 private:
  std::vector<std::string> names_;
};

/// A defect's bbox centre on the wafer (stage coordinates, um), per WaferGeometry's convention.
cv::Point2d defect_position_um(const RunGeometry& g, const SiteResult& site, const Defect& d);

/// Lower-left corner of die (i, j) in stage coordinates (um).
cv::Point2d die_corner_um(const RunGeometry& g, int die_i, int die_j);

/// Area looked at on one site, in um^2: the frame's field of view, clipped to the die (a frame
/// larger than its die does not count the neighbours' area).
double inspected_area_per_site_um2(const RunGeometry& g);

/// Sites that were inspected: status `done` (incomplete and error sites stored no defects).
int inspected_sites(const std::vector<SiteResult>& sites);

/// Defects per cm^2 of inspected area: defects / (inspected sites * inspected_area_per_site).
/// Zero when nothing was inspected.
double defect_density_per_cm2(const RunGeometry& g, const std::vector<SiteResult>& sites);

/// True when every site of the run was inspected (all `done`).
bool completely_inspected(const std::vector<SiteResult>& sites);

}  // namespace ws::publish
