// Recipe parsing: YAML -> Recipe, strictly validated before any hardware moves.
#include "waferscan/recipe.hpp"

#include "io/site_list.hpp"
#include "io/wafer_sites.hpp"
#include "io/yaml_fields.hpp"
#include "waferscan/error.hpp"
#include "waferscan/wafer_geometry.hpp"

#include <cmath>
#include <set>
#include <sstream>
#include <string>

namespace ws {

namespace {

using io::Fields;
using io::Range;

// Guards `sites: all` against a pitch so small that enumerating the die grid would take forever.
constexpr double kMaxGridDies = 1.0e6;

std::string um(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

void read_wafer(const Fields& f, WaferGeometry& w) {
  f.number("diameter_mm", w.wafer_diameter_mm, Range::positive());
  f.pair("die_pitch_um", w.die_pitch_x_um, w.die_pitch_y_um, Range::positive());
  f.pair("die_origin_um", w.die_origin_x_um, w.die_origin_y_um, Range::any());
  f.text("lot_id", w.lot_id);
  f.text("wafer_id", w.wafer_id);
}

// Upper bounds of the recipe's times, so that no deadline computed from them can overflow and no
// step of the safe stop can wait for hours: a device call's own time (a settle, an exposure, a
// readout, a light switch) at most 10 minutes, a timeout or a drain at most an hour, time_scale at
// most 100 (as --time-scale), and a stage fast enough to cross its travel within the hour.
constexpr double kMaxCallMs = 600000.0;
constexpr double kMaxTimeoutMs = 3600000.0;
constexpr double kMaxTimeScale = 100.0;
constexpr double kMinSpeedUmPerS = 1.0;
constexpr double kMaxSpeedUmPerS = 1.0e7;

void read_stage(const Fields& f, StageSpec& s) {
  const Fields travel = f.nested("travel_um", {"x", "y"});
  travel.pair("x", s.x_min_um, s.x_max_um, Range::any());
  travel.pair("y", s.y_min_um, s.y_max_um, Range::any());
  if (!(s.x_min_um < s.x_max_um)) travel.fail("x", "expected [min, max] with min < max");
  if (!(s.y_min_um < s.y_max_um)) travel.fail("y", "expected [min, max] with min < max");
  f.number("speed_um_per_s", s.speed_um_per_s, Range::between(kMinSpeedUmPerS, kMaxSpeedUmPerS));
  const double crossing_ms =
      1000.0 * std::hypot(s.x_max_um - s.x_min_um, s.y_max_um - s.y_min_um) / s.speed_um_per_s;
  if (!(crossing_ms <= kMaxTimeoutMs)) {
    f.fail("speed_um_per_s", "a move across the travel would take " +
                                 std::to_string(std::llround(crossing_ms / 1000.0)) +
                                 " s; at most " +
                                 std::to_string(std::llround(kMaxTimeoutMs / 1000.0)) + " s");
  }
  f.number("settle_ms", s.settle_ms, Range::between(0.0, kMaxCallMs));
  f.pair("park_um", s.park_x_um, s.park_y_um, Range::any());
  if (s.park_x_um < s.x_min_um || s.park_x_um > s.x_max_um || s.park_y_um < s.y_min_um ||
      s.park_y_um > s.y_max_um) {
    f.fail("park_um", "park position (" + um(s.park_x_um) + ", " + um(s.park_y_um) +
                          ") is outside the stage travel");
  }
  f.number("position_jitter_um", s.position_jitter_um, Range::non_negative());
}

void read_camera(const Fields& f, CameraSpec& c) {
  f.integer("width", c.width, Range::between(16, 16384));
  f.integer("height", c.height, Range::between(16, 16384));
  f.number("pixel_size_um", c.pixel_size_um, Range::positive());
  f.number("exposure_ms", c.exposure_ms, Range::between(0.0, kMaxCallMs));
  f.number("readout_ms", c.readout_ms, Range::between(0.0, kMaxCallMs));
}

void read_simulation(const Fields& f, SimulationSpec& s) {
  f.number("noise_sigma", s.noise_sigma, Range::non_negative());
  f.number("illumination_gradient", s.illumination_gradient, Range::between(0.0, 1.0));
  f.number("defects_per_site", s.defects_per_site, Range::between(0.0, 1000.0));
  f.strings("defect_classes", s.defect_classes);
  if (f.has("defect_classes") && s.defect_classes.empty()) {
    f.fail("defect_classes", "needs at least one class");
  }
  f.number("temperature_c", s.temperature_c, Range::between(-50.0, 200.0));
  f.number("light_heating_c", s.light_heating_c, Range::between(0.0, 100.0));
}

// An hour: longer than any command may sensibly block, and far from overflowing milliseconds.

void read_timeouts(const Fields& f, TimeoutSpec& t) {
  for (auto [key, value] : {std::pair{"light_ms", &t.light_ms},
                            {"capture_ms", &t.capture_ms},
                            {"move_ms", &t.move_ms},
                            {"park_ms", &t.park_ms},
                            {"abort_ms", &t.abort_ms},
                            {"abort_grace_ms", &t.abort_grace_ms}}) {
    f.number(key, *value, Range::between(0.0, kMaxTimeoutMs));
  }
}

void read_monitor(const Fields& f, MonitorSpec& m) {
  f.number("period_ms", m.period_ms, Range::between(0.0, kMaxTimeoutMs));
  f.number("temperature_limit_c", m.temperature_limit_c, Range::between(-50.0, 500.0));
  f.number("hysteresis_c", m.hysteresis_c, Range::between(0.0, 100.0));
  if (f.has("on_alarm")) {
    std::string action;
    f.text("on_alarm", action);
    if (action == "record") {
      m.on_alarm = AlarmAction::record;
    } else if (action == "stop") {
      m.on_alarm = AlarmAction::stop;
    } else if (action == "abort") {
      m.on_alarm = AlarmAction::abort;
    } else {
      f.fail("on_alarm", "expected record, stop or abort, got '" + action + "'");
    }
  }
}

void read_detection(const Fields& f, DetectionSpec& d) {
  f.number("threshold_sigma", d.threshold_sigma, Range::positive());
  f.integer("min_threshold", d.min_threshold, Range::between(0, 255));
  f.integer("min_area_px", d.min_area_px, Range::at_least(1));
  f.integer("max_shift_px", d.max_shift_px, Range::between(0, 1024));
  f.integer("band_rows", d.band_rows, Range::between(1, 16384));
}

// nullopt only when a cut block cannot be read a chunk at a time (parse_recipe then reads the
// whole text).
std::optional<io::SiteList> read_sites(const Fields& top, const WaferGeometry& wafer,
                                       const io::CutSites* cut) {
  const std::string& file = top.file();
  if (cut != nullptr) return io::read_site_block(*cut, file, wafer);
  const YAML::Node node = top.value("sites");
  if (!node.IsDefined()) top.fail("sites", "required: 'all' or a list of {die: [i, j]}");
  if (node.IsScalar()) {
    if (node.Scalar() != "all") {
      top.fail("sites", "expected 'all' or a list of sites, got '" + node.Scalar() + "'");
    }
    if (io::die_grid_bound(wafer) > kMaxGridDies) {
      top.fail("sites", "'all' would enumerate more than " + um(kMaxGridDies) +
                            " dies; check wafer.diameter_mm and wafer.die_pitch_um");
    }
    io::SiteList list;
    list.sites = io::all_dies_on_wafer(wafer);
    if (list.sites.empty()) top.fail("sites", "'all' found no die entirely inside the wafer");
    list.origins.assign(list.sites.size(),
                        io::SiteOrigin{io::SiteOrigin::Key::all, io::line_of(node), 0});
    return list;
  }
  if (!node.IsSequence()) {
    top.fail("sites", "expected 'all' or a list of sites, got " + io::describe_node(node));
  }
  if (node.size() == 0) top.fail("sites", "empty site list");
  return io::read_site_sequence(node, file, wafer);
}

void check_sites_in_travel(const std::string& file, const io::SiteList& list,
                           const StageSpec& stage) {
  for (std::size_t k = 0; k < list.sites.size(); ++k) {
    const SiteSpec& s = list.sites[k];
    if (s.x_um >= stage.x_min_um && s.x_um <= stage.x_max_um && s.y_um >= stage.y_min_um &&
        s.y_um <= stage.y_max_um) {
      continue;
    }
    throw ConfigError(file, list.origins[k].line, io::origin_key(list.origins[k], k),
                      "site '" + s.name + "' at (" + um(s.x_um) + ", " + um(s.y_um) +
                          ") um is outside the stage travel x [" + um(stage.x_min_um) + ", " +
                          um(stage.x_max_um) + "], y [" + um(stage.y_min_um) + ", " +
                          um(stage.y_max_um) + "]");
  }
}

// `faults:` is a list of SPEC strings, each parsed as `--inject` would be; a site:N must name a
// site of this recipe, so a typo cannot silently inject nothing.
std::vector<FaultSpec> read_faults(const Fields& top, std::size_t site_count) {
  std::vector<FaultSpec> faults;
  if (!top.has("faults")) return faults;
  const std::string& file = top.file();
  const YAML::Node node = top.value("faults");
  if (!node.IsSequence()) {
    top.fail("faults", "expected a list of fault specs TARGET=BEHAVIOUR@WHEN, got " +
                           io::describe_node(node));
  }
  for (std::size_t k = 0; k < node.size(); ++k) {
    const std::string key = "faults[" + std::to_string(k) + "]";
    const int line = io::line_of(node[k]);
    if (!node[k].IsScalar()) {
      throw ConfigError(file, line, key,
                        "expected a fault spec TARGET=BEHAVIOUR@WHEN (e.g. "
                        "camera.capture=hang@site:3), got " +
                            io::describe_node(node[k]));
    }
    const FaultSpec f = parse_fault_spec(node[k].Scalar(), file, line, key);
    if (f.when == FaultWhen::site && f.n >= site_count) {
      throw ConfigError(file, line, key,
                        "site:" + std::to_string(f.n) + " is not a site of this recipe: it has " +
                            std::to_string(site_count) + " sites, numbered from 0");
    }
    faults.push_back(f);
  }
  return faults;
}

}  // namespace

namespace {

// `yaml` is the text to parse (the recipe's, or that with its site list cut out: `cut`).
std::optional<Recipe> parse_recipe_text(const std::string& yaml, const std::filesystem::path& name,
                                        const io::CutSites* cut) {
  const std::string file = name.string();
  const YAML::Node root = io::load_yaml(yaml, file);
  if (!root.IsDefined() || root.IsNull()) throw ConfigError(file, 0, "", "empty recipe");
  const Fields top(
      file, root, "",
      {"recipe", "seed", "time_scale", "drain_timeout_ms", "wafer", "stage", "camera", "light",
       "simulation", "detection", "timeouts", "monitor", "model", "sites", "faults"},
      1);

  Recipe r;
  r.path = name;
  r.name = name.stem().string();
  top.text("recipe", r.name);
  top.unsigned64("seed", r.seed);
  top.number("time_scale", r.time_scale, Range::between(0.0, kMaxTimeScale));
  top.number("drain_timeout_ms", r.drain_timeout_ms, Range::between(0.0, kMaxTimeoutMs));

  read_wafer(
      top.nested("wafer", {"diameter_mm", "die_pitch_um", "die_origin_um", "lot_id", "wafer_id"}),
      r.wafer);
  read_stage(top.nested("stage", {"travel_um", "speed_um_per_s", "settle_ms", "park_um",
                                  "position_jitter_um"}),
             r.stage);
  read_camera(
      top.nested("camera", {"width", "height", "pixel_size_um", "exposure_ms", "readout_ms"}),
      r.camera);
  top.nested("light", {"switch_ms"})
      .number("switch_ms", r.light.switch_ms, Range::between(0.0, kMaxCallMs));
  read_simulation(
      top.nested("simulation", {"noise_sigma", "illumination_gradient", "defects_per_site",
                                "defect_classes", "temperature_c", "light_heating_c"}),
      r.simulation);
  read_detection(top.nested("detection", {"threshold_sigma", "min_threshold", "min_area_px",
                                          "max_shift_px", "band_rows"}),
                 r.detection);
  read_timeouts(top.nested("timeouts", {"light_ms", "capture_ms", "move_ms", "park_ms", "abort_ms",
                                        "abort_grace_ms"}),
                r.timeouts);
  read_monitor(
      top.nested("monitor", {"period_ms", "temperature_limit_c", "hysteresis_c", "on_alarm"}),
      r.monitor);

  if (top.has("model")) {
    std::string model;
    top.text("model", model);
    // Relative to the recipe's folder, so a recipe and its model can move together.
    std::filesystem::path p(model);
    r.model = p.is_absolute() ? p : (name.parent_path() / p).lexically_normal();
  }

  std::optional<io::SiteList> list = read_sites(top, r.wafer, cut);
  if (!list) return std::nullopt;
  io::check_unique_names(*list, file);
  check_sites_in_travel(file, *list, r.stage);
  r.sites = std::move(list->sites);
  r.faults = read_faults(top, r.sites.size());
  return r;
}

}  // namespace

namespace {

// parse_recipe without the copy of the text into Recipe::source_text (the caller's to set).
Recipe parse_recipe_only(const std::string& text, const std::filesystem::path& name) {
  io::check_utf8(text, name.string());  // the whole text: a cut site list included
  // A long explicit site list is read a chunk at a time; anything that cannot be (an alias
  // across chunks) is read as one document.
  if (const std::optional<io::CutSites> cut = io::cut_sites_block(text)) {
    if (auto r = parse_recipe_text(cut->rest, name, &*cut)) return std::move(*r);
  }
  return *parse_recipe_text(text, name, nullptr);
}

}  // namespace

Recipe parse_recipe(const std::string& text, const std::filesystem::path& name) {
  Recipe r = parse_recipe_only(text, name);
  r.source_text = text;
  return r;
}

Recipe load_recipe(const std::filesystem::path& path) {
  std::string text = io::read_text_file(path.string());
  Recipe r = parse_recipe_only(text, path);
  r.source_text = std::move(text);  // one copy of a long recipe, not two
  return r;
}

FrameGeometry frame_geometry(const Recipe& recipe) {
  FrameGeometry g;
  g.frame_width = recipe.camera.width;
  g.frame_height = recipe.camera.height;
  g.pixel_size_um = recipe.camera.pixel_size_um;
  return g;
}

}  // namespace ws
