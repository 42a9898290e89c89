#include "publish/run_geometry.hpp"

#include "waferscan/classifier.hpp"
#include "waferscan/error.hpp"

#include <algorithm>
#include <filesystem>

namespace ws::publish {

RunGeometry geometry_from_recipe(const Recipe& recipe) {
  RunGeometry g;
  static_cast<WaferGeometry&>(g) = recipe.wafer;
  static_cast<FrameGeometry&>(g) = frame_geometry(recipe);
  g.source = recipe.path.string();
  // The class numbers should follow the classifier that named the defects; a model that no longer
  // loads only costs the numbering, not the export, so fall back to the simulator's classes.
  g.model_classes = recipe.simulation.defect_classes;
  if (!recipe.model.empty()) {
    try {
      g.model_classes = classify::Classifier::load(recipe.model).class_names();
    } catch (const std::exception&) {
    }
  }
  return g;
}

RunGeometry geometry_from_manifest(const Manifest& manifest) {
  RunGeometry g;
  static_cast<WaferGeometry&>(g) = manifest;
  static_cast<FrameGeometry&>(g) = manifest;
  g.model_classes = manifest.classes;
  g.source = manifest.path.string();
  return g;
}

namespace {
void require_file(const std::string& path, const char* key, const std::string& what) {
  std::error_code ec;
  if (path.empty() || !std::filesystem::exists(path, ec)) {
    throw ConfigError(path, 0, key,
                      what + " is gone; the export needs it for the wafer and camera geometry");
  }
}
}  // namespace

namespace {

// A reprocessed run: the recorded set, not the recipe, says where the frames were taken. Its
// manifest must still be the one the run read (the set's frames are files outside the store).
RunGeometry set_geometry(const RunRecord& run, const std::optional<RunInputs>& inputs) {
  const std::string of_run = " of run " + std::to_string(run.id);
  require_file(run.set_path, "set_path", "the recorded set" + of_run);
  const Manifest m = load_manifest(run.set_path);
  if (inputs && !inputs->set_hash.empty() && inputs->set_hash != m.source_hash) {
    throw ConfigError(m.path.string(), 0, "set_path",
                      "the recorded set" + of_run + " has changed since the run (manifest " +
                          m.source_hash + ", the run read " + inputs->set_hash +
                          "); its export would not describe the run");
  }
  return geometry_from_manifest(m);
}

// A live run: from the recipe text stored with the run (schema v5), whatever became of the file;
// a run stored before v5 reads the file.
RunGeometry recipe_geometry(const RunRecord& run, const std::optional<RunInputs>& inputs) {
  if (inputs && !inputs->recipe_text.empty()) {
    return geometry_from_recipe(parse_recipe(inputs->recipe_text, run.recipe_path));
  }
  require_file(run.recipe_path, "recipe_path", "the recipe of run " + std::to_string(run.id));
  return geometry_from_recipe(load_recipe(run.recipe_path));
}

}  // namespace

RunGeometry load_run_geometry(const RunRecord& run, const std::optional<RunInputs>& inputs) {
  RunGeometry g = run.set_path.empty() ? recipe_geometry(run, inputs) : set_geometry(run, inputs);
  if (inputs && !inputs->model_classes.empty()) {  // the classes of the model that named them
    g.model_classes = inputs->model_classes;
    return g;
  }
  if (!run.model_path.empty()) {  // a run stored before v5: its model file, if it still loads
    try {
      g.model_classes = classify::Classifier::load(run.model_path).class_names();
    } catch (const std::exception&) {
    }
  }
  return g;
}

ClassTable::ClassTable(const RunGeometry& geometry, const std::vector<SiteResult>& sites) {
  names_.push_back("unclassified");
  for (const auto& n : geometry.model_classes) {
    if (std::find(names_.begin(), names_.end(), n) == names_.end()) names_.push_back(n);
  }
  for (const auto& s : sites) {
    for (const auto& d : s.defects) {
      if (d.class_name.empty()) continue;
      if (std::find(names_.begin(), names_.end(), d.class_name) == names_.end()) {
        names_.push_back(d.class_name);
      }
    }
  }
}

int ClassTable::number(const std::string& class_name) const {
  if (class_name.empty()) return 0;
  const auto it = std::find(names_.begin(), names_.end(), class_name);
  return it == names_.end() ? 0 : static_cast<int>(it - names_.begin());
}

cv::Point2d defect_position_um(const RunGeometry& g, const SiteResult& site, const Defect& d) {
  const cv::Rect& b = d.features.bbox;
  const double cx = b.x + b.width / 2.0;
  const double cy = b.y + b.height / 2.0;
  return {site.site.x_um + (cx - g.frame_width / 2.0) * g.pixel_size_um,
          site.site.y_um + (cy - g.frame_height / 2.0) * g.pixel_size_um};
}

cv::Point2d die_corner_um(const RunGeometry& g, int die_i, int die_j) {
  return {g.die_origin_x_um + die_i * g.die_pitch_x_um,
          g.die_origin_y_um + die_j * g.die_pitch_y_um};
}

double inspected_area_per_site_um2(const RunGeometry& g) {
  const double w = std::min(g.frame_width * g.pixel_size_um, g.die_pitch_x_um);
  const double h = std::min(g.frame_height * g.pixel_size_um, g.die_pitch_y_um);
  return w * h;
}

int inspected_sites(const std::vector<SiteResult>& sites) {
  return static_cast<int>(std::count_if(sites.begin(), sites.end(), [](const SiteResult& s) {
    return s.status == SiteStatus::done;
  }));
}

double defect_density_per_cm2(const RunGeometry& g, const std::vector<SiteResult>& sites) {
  int defects = 0;
  for (const auto& s : sites) defects += static_cast<int>(s.defects.size());
  const double area_cm2 = inspected_sites(sites) * inspected_area_per_site_um2(g) / 1e8;
  return area_cm2 > 0 ? defects / area_cm2 : 0.0;
}

bool completely_inspected(const std::vector<SiteResult>& sites) {
  return !sites.empty() && inspected_sites(sites) == static_cast<int>(sites.size());
}

}  // namespace ws::publish
