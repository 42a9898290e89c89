// An inspection recipe: the wafer, the sites to visit, the machine's timing and detection settings.
#pragma once

#include "waferscan/sim/fault_spec.hpp"
#include "waferscan/site.hpp"
#include "waferscan/wafer_geometry.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ws {

/// Stage limits and timing. A move takes distance/speed plus settle time (scaled by time_scale).
struct StageSpec {
  double x_min_um = -150000.0;
  double x_max_um = 150000.0;
  double y_min_um = -150000.0;
  double y_max_um = 150000.0;
  double speed_um_per_s = 100000.0;
  double settle_ms = 40.0;
  double park_x_um = 0.0;
  double park_y_um = -140000.0;
  double position_jitter_um = 0.0;  ///< simulated placement error (gives alignment shifts)
};

struct CameraSpec {
  int width = 1024;
  int height = 1024;
  double pixel_size_um = 5.0;
  double exposure_ms = 20.0;
  double readout_ms = 10.0;
};

struct LightSpec {
  double switch_ms = 5.0;
};

/// How the simulated camera renders a die (see hardware/sim). Ignored by real hardware.
struct SimulationSpec {
  double noise_sigma = 3.0;             ///< Gaussian noise, grey levels
  double illumination_gradient = 0.15;  ///< relative brightness change corner to corner
  double defects_per_site = 2.0;        ///< mean number of injected defects per frame
  std::vector<std::string> defect_classes = {"particle", "scratch", "residue", "pattern"};
  double temperature_c = 24.0;   ///< what the health sensor reads with the light off
  double light_heating_c = 1.5;  ///< added to the reading while the light is on
};

struct DetectionSpec {
  double threshold_sigma = 6.0;  ///< noise-adaptive threshold, in robust noise sigmas
  int min_threshold = 20;        ///< floor for the threshold, grey levels
  int min_area_px = 6;           ///< smaller blobs are ignored
  int max_shift_px = 12;         ///< alignment search radius
  int band_rows = 64;            ///< kernel band height between cancellation checkpoints
};

/// Hardware command timeouts, in milliseconds of wall time. 0 (the default) derives the timeout
/// from the scaled timing above: 3x the expected duration plus 1 s for light switches, captures
/// and moves (a move's grows with its distance), the longest move across the travel plus 2 s for
/// parking, 2 s for the abort paths. When a call overruns, the watchdog calls its abort path.
struct TimeoutSpec {
  double light_ms = 0;    ///< light on / off
  double capture_ms = 0;  ///< one capture (exposure + readout)
  double move_ms = 0;     ///< one stage move, whatever its distance
  double park_ms = 0;     ///< parking during the safe-stop sequence
  double abort_ms = 0;    ///< camera abort, stage stop and camera release in the safe-stop sequence
  /// How long an aborted call may take to return before its device is marked Faulted (0: the
  /// hardware agent's default, 1 s).
  double abort_grace_ms = 0;
};

/// What the run does when the health monitor raises an alarm.
enum class AlarmAction {
  record,  ///< journal the alarm; the run goes on
  stop,    ///< also stop the run (no new site; frames in flight finish), reason `fault`
  abort,   ///< also abort the run (frames in flight are abandoned), reason `fault`
};

/// The machine's health monitor: a background loop reading the temperature sensor. It reads once
/// when the run starts, then every period_ms, until the safe-stop sequence has finished.
struct MonitorSpec {
  double period_ms = 500;             ///< between readings (wall time, not scaled); 0 = no monitor
  double temperature_limit_c = 45.0;  ///< a reading above this raises an alarm
  double hysteresis_c = 2.0;  ///< the alarm clears once a reading is this far below the limit
  AlarmAction on_alarm = AlarmAction::record;
};

struct Recipe {
  std::filesystem::path path;  ///< the file it was read from (for messages)
  std::string source_text;     ///< the exact text it was parsed from (stored with each run)
  std::string name;
  std::uint64_t seed = 1;
  double time_scale = 1.0;           ///< multiplies every hardware time; 0 = instant
  double drain_timeout_ms = 5000.0;  ///< a stop escalates to abort after this long
  WaferGeometry wafer;  ///< the wafer section; die centres are half a pitch past the corners
  StageSpec stage;
  CameraSpec camera;
  LightSpec light;
  SimulationSpec simulation;
  DetectionSpec detection;
  TimeoutSpec timeouts;
  MonitorSpec monitor;
  std::filesystem::path model;  ///< classifier model, resolved relative to the recipe file
  std::vector<SiteSpec> sites;
  /// Faults to inject (`faults:`, a list of TARGET=BEHAVIOUR@WHEN strings); every site:N names a
  /// site of `sites`. Only the simulator and the store's test hooks act on them.
  std::vector<FaultSpec> faults;
};

/// Reads and validates a recipe. Throws ConfigError naming the file, line and key for malformed
/// YAML, unknown keys, wrong types, out-of-range values and sites outside the stage travel.
Recipe load_recipe(const std::filesystem::path& path);

/// Same, from text; `name` is used as the file name in messages.
Recipe parse_recipe(const std::string& text, const std::filesystem::path& name);

}  // namespace ws
