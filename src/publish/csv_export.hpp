// CSV export of a stored run: one row per defect, for spreadsheets and scripts.
#pragma once

#include "publish/run_geometry.hpp"
#include "waferscan/store.hpp"

#include <ostream>
#include <string>
#include <vector>

namespace ws::publish {

/// The header row's column names, in order: run, site, site_name, die_i, die_j, site_status,
/// defect_id, bbox_x, bbox_y, bbox_w, bbox_h, class, confidence, area_px, polarity, contrast, x_um,
/// y_um, site_reason.
/// bbox is in frame pixels; x_um/y_um are the bbox centre on the wafer (stage coordinates, see
/// RunGeometry).
const std::vector<std::string>& csv_columns();

/// Quotes one field per RFC 4180: fields holding a comma, quote, CR or LF are enclosed in double
/// quotes, with quotes doubled; others are written as they are.
std::string csv_field(const std::string& text);

/// Writes the header, then per site (in order) one row with empty defect fields when it did not
/// end `done` (site_status and site_reason say why), and one row per defect (by id); lines end in
/// "\n".
/// Thread safety: a pure function of its arguments.
void write_csv(std::ostream& out, const RunRecord& run, const std::vector<SiteResult>& sites,
               const RunGeometry& geometry);

}  // namespace ws::publish
