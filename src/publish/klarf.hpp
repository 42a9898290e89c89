// KLARF export of a stored run: version 1.8 (nested Record/Field/List, integer nm) and version 1.2
// (flat keyword lines, um), the defect files fabs' yield systems read.
#pragma once

#include "publish/run_geometry.hpp"
#include "waferscan/store.hpp"

#include <ostream>
#include <vector>

namespace ws::publish {

enum class KlarfVersion { v1_8, v1_2 };

/// Writes one run as a KLARF file to `out`.
///
/// Conventions (see README, "Exports"):
/// - DiePitch, DieOrigin (0, 0: the lower-left corner of each die) and SampleCenterLocation (the
///   wafer centre, stage (0, 0), measured from the lower-left corner of die (0, 0)); 1.8 in nm,
///   1.2 in um.
/// - One defect row per stored defect, in site then id order: DEFECTID, XREL/YREL (bbox centre
///   relative to its site's die corner), XINDEX/YINDEX (the site's die), XSIZE/YSIZE (bbox),
///   DEFECTAREA (pixels above threshold x pixel area), DSIZE (diameter of a circle of that area),
///   CLASSNUMBER (per ClassLookup), TEST 1, CLUSTERNUMBER 0, IMAGECOUNT 0.
/// - The test plan lists only the dies of inspected (`done`) sites. The summary's DEFDENSITY is
///   defects / inspected area in cm^2, with inspected area = inspected sites x field of view
///   clipped to the die (`inspected_area_per_site_um2`), which is also AreaPerTest.
/// - `InspectionStatus` says COMPLETE or INCOMPLETE (any site not `done`: canceled, failed or
///   error sites), the run state, and how many of the planned sites were inspected.
///
/// Output is deterministic: timestamps come from the run record, not the clock.
/// Thread safety: a pure function of its arguments.
void write_klarf(std::ostream& out, const RunRecord& run, const std::vector<SiteResult>& sites,
                 const RunGeometry& geometry, KlarfVersion version);

}  // namespace ws::publish
