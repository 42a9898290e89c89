// A hand-made run with known geometry and defects, so the exports' numbers can be checked exactly.
#pragma once

#include "publish/run_geometry.hpp"
#include "waferscan/store.hpp"

#include <string>
#include <vector>

namespace ws::testing {

/// Wafer 100 mm, dies 10 x 8 mm with die (0, 0) at (-50, -40) mm, frames 1000 x 800 at 2 um/px
/// (field of view 2 x 1.6 mm), classifier classes {particle, scratch}.
inline publish::RunGeometry synthetic_geometry() {
  publish::RunGeometry g;
  g.lot_id = "LOT-A";
  g.wafer_id = "W03";
  g.wafer_diameter_mm = 100;
  g.die_pitch_x_um = 10000;
  g.die_pitch_y_um = 8000;
  g.die_origin_x_um = -50000;
  g.die_origin_y_um = -40000;
  g.frame_width = 1000;
  g.frame_height = 800;
  g.pixel_size_um = 2;
  g.model_classes = {"particle", "scratch"};
  g.source = "synthetic";
  return g;
}

inline Defect synthetic_defect(int id, cv::Rect bbox, int area_px, const std::string& cls) {
  Defect d;
  d.id = id;
  d.features.bbox = bbox;
  d.features.area_px = area_px;
  d.features.polarity = id % 2 ? Polarity::bright : Polarity::dark;
  d.features.contrast = 40.5;
  d.class_name = cls;
  d.confidence = 0.875;
  return d;
}

/// Site at the centre of die (i, j) of synthetic_geometry().
inline SiteResult synthetic_site(int index, int i, int j, SiteStatus status) {
  SiteResult s;
  s.site.index = index;
  s.site.name = "r" + std::to_string(j) + "c" + std::to_string(i);
  s.site.die_i = i;
  s.site.die_j = j;
  s.site.x_um = -50000 + (i + 0.5) * 10000;
  s.site.y_um = -40000 + (j + 0.5) * 8000;
  s.status = status;
  return s;
}

/// Three sites: die (5, 5) done with one particle, die (6, 5) not started, die (4, 5) done with a
/// scratch and a defect of a class the model does not know ("mystery"). Canceled by the operator.
struct SyntheticRun {
  RunRecord run;
  std::vector<SiteResult> sites;
};

inline SyntheticRun synthetic_run() {
  SyntheticRun r;
  r.run.id = 7;
  r.run.recipe_name = "synthetic";
  r.run.state = RunState::canceled;
  r.run.stop_reason = StopReason::operator_request;
  r.run.started_at = "2026-03-04T05:06:07.890Z";
  r.run.ended_at = "2026-03-04T05:07:08.000Z";
  auto a = synthetic_site(0, 5, 5, SiteStatus::done);
  // bbox centre (605, 510): 105, 110 px from the frame centre = 210, 220 um from the die centre.
  a.defects.push_back(synthetic_defect(1, {600, 500, 10, 20}, 150, "particle"));
  auto b = synthetic_site(1, 6, 5, SiteStatus::not_started);
  auto c = synthetic_site(2, 4, 5, SiteStatus::done);
  // bbox centre (100, 700): -400, +300 px = -800, +600 um from the die centre.
  c.defects.push_back(synthetic_defect(2, {95, 690, 10, 20}, 100, "scratch"));
  // bbox centre (0.5, 0.5) -> -499.5, -399.5 px = -999, -799 um.
  c.defects.push_back(synthetic_defect(3, {0, 0, 1, 1}, 1, "mystery"));
  r.sites = {a, b, c};
  return r;
}

}  // namespace ws::testing
