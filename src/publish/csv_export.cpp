#include "publish/csv_export.hpp"

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
      "run",     "site",     "site_name", "die_i",  "die_j", "defect_id",
      "bbox_x",  "bbox_y",   "bbox_w",    "bbox_h", "class", "confidence",
      "area_px", "polarity", "contrast",  "x_um",   "y_um"};
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

void write_csv(std::ostream& out, const RunRecord& run, const std::vector<SiteResult>& sites,
               const RunGeometry& geometry) {
  const auto& cols = csv_columns();
  for (std::size_t k = 0; k < cols.size(); ++k) out << (k ? "," : "") << cols[k];
  out << "\n";
  for (const auto& s : sites) {
    for (const auto& d : s.defects) {
      const auto& f = d.features;
      const cv::Point2d p = defect_position_um(geometry, s, d);
      const std::vector<std::string> row = {std::to_string(run.id),
                                            std::to_string(s.site.index),
                                            s.site.name,
                                            std::to_string(s.site.die_i),
                                            std::to_string(s.site.die_j),
                                            std::to_string(d.id),
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
      for (std::size_t k = 0; k < row.size(); ++k) out << (k ? "," : "") << csv_field(row[k]);
      out << "\n";
    }
  }
}

}  // namespace ws::publish
