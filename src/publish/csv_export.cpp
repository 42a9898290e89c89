#include "publish/csv_export.hpp"

#include <algorithm>
#include <cstdio>

namespace ws::publish {

namespace {
std::string num(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}
}  // namespace

const std::vector<std::string>& csv_columns() {
  static const std::vector<std::string> columns = {
      "run",      "site",     "site_name", "die_i",  "die_j",      "site_status", "defect_id",
      "bbox_x",   "bbox_y",   "bbox_w",    "bbox_h", "class",      "confidence",  "area_px",
      "polarity", "contrast", "x_um",      "y_um",   "site_reason"};
  return columns;
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

namespace {

void write_row(std::ostream& out, const std::vector<std::string>& row) {
  for (std::size_t k = 0; k < row.size(); ++k) out << (k ? "," : "") << csv_field(row[k]);
  out << "\n";
}

// The site's columns, then the defect's (empty for a site row), then the site's reason.
std::vector<std::string> site_row(const RunRecord& run, const SiteResult& s) {
  std::vector<std::string> row = {
      std::to_string(run.id),       std::to_string(s.site.index), s.site.name,
      std::to_string(s.site.die_i), std::to_string(s.site.die_j), std::string(to_string(s.status))};
  row.resize(csv_columns().size() - 1);
  row.push_back(s.reason);
  return row;
}

std::vector<std::string> defect_row(const RunRecord& run, const SiteResult& s, const Defect& d,
                                    const RunGeometry& geometry) {
  const auto& f = d.features;
  const cv::Point2d p = defect_position_um(geometry, s, d);
  std::vector<std::string> row = site_row(run, s);
  const std::vector<std::string> fields = {std::to_string(d.id),
                                           std::to_string(f.bbox.x),
                                           std::to_string(f.bbox.y),
                                           std::to_string(f.bbox.width),
                                           std::to_string(f.bbox.height),
                                           d.class_name,
                                           num(d.confidence, 4),
                                           std::to_string(f.area_px),
                                           std::string(to_string(f.polarity)),
                                           num(f.contrast, 2),
                                           num(p.x, 2),
                                           num(p.y, 2)};
  std::copy(fields.begin(), fields.end(), row.begin() + 6);
  return row;
}

}  // namespace

void write_csv(std::ostream& out, const RunRecord& run, const std::vector<SiteResult>& sites,
               const RunGeometry& geometry) {
  write_row(out, csv_columns());
  for (const auto& s : sites) {
    // A site that did not end done has a row of its own, so that a frame nobody could inspect
    // (unreliable, error, incomplete, not started) never reads as a clean one.
    if (s.status != SiteStatus::done) write_row(out, site_row(run, s));
    for (const auto& d : s.defects) write_row(out, defect_row(run, s, d, geometry));
  }
}

}  // namespace ws::publish
