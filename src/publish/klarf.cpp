#include "publish/klarf.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <numbers>
#include <set>
#include <string>
#include <utility>

namespace ws::publish {

namespace {

// One defect row in um; the 1.8 writer converts to nm at the last moment so both versions share
// the same numbers.
struct Row {
  int id = 0;
  double xrel = 0;
  double yrel = 0;
  int xindex = 0;
  int yindex = 0;
  double xsize = 0;
  double ysize = 0;
  double area = 0;  // um^2
  double dsize = 0;
  int class_number = 0;
};

struct Summary {
  std::vector<Row> rows;
  std::vector<std::pair<int, int>> tested_dies;  // in site order, no duplicates
  int ndefdie = 0;
  double area_per_test_um2 = 0;
  double density_per_cm2 = 0;
  bool complete = false;
  int inspected = 0;
  int planned = 0;
  int unreliable = 0;  // sites not registered well enough to compare
  int errors = 0;
};

Summary summarise(const std::vector<SiteResult>& sites, const RunGeometry& g,
                  const ClassTable& classes) {
  Summary s;
  std::set<std::pair<int, int>> seen;
  std::set<std::pair<int, int>> defective;
  const double px = g.pixel_size_um;
  for (const auto& site : sites) {
    const std::pair<int, int> die{site.site.die_i, site.site.die_j};
    if (site.status == SiteStatus::done && seen.insert(die).second) s.tested_dies.push_back(die);
    const cv::Point2d corner = die_corner_um(g, die.first, die.second);
    for (const auto& d : site.defects) {
      const cv::Point2d p = defect_position_um(g, site, d);
      Row r;
      r.id = d.id;
      r.xrel = p.x - corner.x;
      r.yrel = p.y - corner.y;
      r.xindex = die.first;
      r.yindex = die.second;
      r.xsize = d.features.bbox.width * px;
      r.ysize = d.features.bbox.height * px;
      r.area = d.features.area_px * px * px;
      r.dsize = 2.0 * std::sqrt(r.area / std::numbers::pi);
      r.class_number = classes.number(d.class_name);
      s.rows.push_back(r);
      defective.insert(die);
    }
  }
  s.ndefdie = static_cast<int>(defective.size());
  s.inspected = inspected_sites(sites);
  s.planned = static_cast<int>(sites.size());
  for (const auto& site : sites) {
    s.unreliable += site.status == SiteStatus::unreliable ? 1 : 0;
    s.errors += site.status == SiteStatus::error ? 1 : 0;
  }
  s.area_per_test_um2 = s.inspected * inspected_area_per_site_um2(g);
  s.density_per_cm2 = defect_density_per_cm2(g, sites);
  s.complete = completely_inspected(sites);
  return s;
}

// KLARF has no escape for quotes inside strings.
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) out += (c == '"' || c == '\n' || c == '\r') ? '\'' : c;
  return out + "\"";
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string sci(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10e", v);
  return buf;
}

long long nm(double um) {
  return std::llround(um * 1000.0);
}

// "2026-11-26T04:05:06.789Z" -> {"11-26-26", "04:05:06"} (KLARF's mm-dd-yy hh:mm:ss).
std::pair<std::string, std::string> klarf_time(const std::string& iso) {
  if (iso.size() < 19) return {"01-01-70", "00:00:00"};
  return {iso.substr(5, 2) + "-" + iso.substr(8, 2) + "-" + iso.substr(2, 2), iso.substr(11, 8)};
}

std::string status_word(const Summary& s) {
  return s.complete ? "COMPLETE" : "INCOMPLETE";
}
std::string status_note(const Summary& s) {
  std::string note =
      std::to_string(s.inspected) + " of " + std::to_string(s.planned) + " planned sites inspected";
  if (s.unreliable > 0) {
    note += "; " + std::to_string(s.unreliable) +
            " unreliable (not registered well enough to "
            "compare, so not clean)";
  }
  if (s.errors > 0) note += "; " + std::to_string(s.errors) + " error";
  return note;
}

struct Header {
  std::pair<std::string, std::string> file_time;
  std::pair<std::string, std::string> result_time;
  std::string state;
};

Header header(const RunRecord& run) {
  Header h;
  h.result_time = klarf_time(run.started_at);
  h.file_time = klarf_time(run.ended_at.empty() ? run.started_at : run.ended_at);
  h.state = std::string(to_string(run.state));
  if (run.stop_reason != StopReason::none)
    h.state += " (" + std::string(to_string(run.stop_reason)) + ")";
  return h;
}

void write_18(std::ostream& o, const RunRecord& run, const RunGeometry& g, const ClassTable& ct,
              const Summary& s) {
  const Header h = header(run);
  const auto pair = [](const std::string& a, const std::string& b) {
    // Appended piecewise: `"{" + std::string` trips GCC 12's -Wrestrict false positive.
    std::string out(1, '{');
    out += quoted(a);
    out += ", ";
    out += quoted(b);
    out += '}';
    return out;
  };
  o << "Record FileRecord \"1.8\"\n{\n";
  o << "  Field FileTimestamp 2 " << pair(h.file_time.first, h.file_time.second) << "\n";
  o << "  Record LotRecord " << quoted(g.lot_id) << "\n  {\n";
  o << "    Field InspectionStationID 3 {\"WAFERSCAN\", \"SIM\", \"waferscan\"}\n";
  o << "    Field SampleType 1 {\"WAFER\"}\n";
  o << "    Field ResultTimestamp 2 " << pair(h.result_time.first, h.result_time.second) << "\n";
  o << "    Field DeviceID 1 {" << quoted(run.recipe_name) << "}\n";
  o << "    Field RecipeID 3 {" << quoted(run.recipe_name) << ", " << quoted(h.result_time.first)
    << ", " << quoted(h.result_time.second) << "}\n";
  o << "    Field StepID 1 {\"INSPECT\"}\n";
  o << "    Field ResultsID 1 {" << quoted("run-" + std::to_string(run.id)) << "}\n";
  o << "    Field SampleOrientationMarkType 1 {\"NOTCH\"}\n";
  o << "    Field OrientationMarkLocation 1 {\"DOWN\"}\n";
  o << "    Field SampleSize 2 {1, " << std::llround(g.wafer_diameter_mm) << "}\n";
  o << "    Field DiePitch 2 {" << nm(g.die_pitch_x_um) << ", " << nm(g.die_pitch_y_um) << "}\n";
  o << "    List ClassLookupList\n    {\n";
  o << "      Columns 2 { int32 CLASSNUMBER, string CLASSNAME }\n";
  o << "      Data " << ct.names().size() << "\n      {\n";
  for (std::size_t k = 0; k < ct.names().size(); ++k) {
    o << "        " << k << " " << quoted(ct.names()[k]) << " ;\n";
  }
  o << "      }\n    }\n";
  o << "    Record WaferRecord " << quoted(g.wafer_id) << "\n    {\n";
  o << "      Field SlotNumber 1 {1}\n";
  o << "      Field DieOrigin 2 {0, 0}\n";
  o << "      Field SampleCenterLocation 2 {" << nm(-g.die_origin_x_um) << ", "
    << nm(-g.die_origin_y_um) << "}\n";
  o << "      Field InspectionStatus 3 {" << quoted(status_word(s)) << ", " << quoted(h.state)
    << ", " << quoted(status_note(s)) << "}\n";
  o << "      List DefectList\n      {\n";
  o << "        Columns 13 { int32 DEFECTID, int32 XREL, int32 YREL, int32 XINDEX, int32 YINDEX, "
       "int32 XSIZE, int32 YSIZE, float DEFECTAREA, int32 DSIZE, int32 CLASSNUMBER, int32 TEST, "
       "int32 CLUSTERNUMBER, int32 IMAGECOUNT }\n";
  o << "        Data " << s.rows.size() << "\n        {\n";
  for (const auto& r : s.rows) {
    o << "          " << r.id << " " << nm(r.xrel) << " " << nm(r.yrel) << " " << r.xindex << " "
      << r.yindex << " " << nm(r.xsize) << " " << nm(r.ysize) << " " << sci(r.area * 1e6) << " "
      << nm(r.dsize) << " " << r.class_number << " 1 0 0 ;\n";
  }
  o << "        }\n      }\n";
  o << "      Record TestRecord \"1\"\n      {\n";
  o << "        Field InspectionTest 1 {1}\n";
  o << "        Field AreaPerTest 1 {" << sci(s.area_per_test_um2 * 1e6) << "}\n";
  o << "        List SampleTestPlanList\n        {\n";
  o << "          Columns 2 { int32 XINDEX, int32 YINDEX }\n";
  o << "          Data " << s.tested_dies.size() << "\n          {\n";
  for (const auto& [i, j] : s.tested_dies) o << "            " << i << " " << j << " ;\n";
  o << "          }\n        }\n      }\n";
  o << "      Record SummaryRecord\n      {\n";
  o << "        List TestSummaryList\n        {\n";
  o << "          Columns 5 { int32 TESTNO, int32 NDEFECT, float DEFDENSITY, int32 NDIE, "
       "int32 NDEFDIE }\n";
  o << "          Data 1\n          {\n";
  o << "            1 " << s.rows.size() << " " << sci(s.density_per_cm2) << " "
    << s.tested_dies.size() << " " << s.ndefdie << " ;\n";
  o << "          }\n        }\n      }\n";
  o << "    }\n  }\n}\nEndOfFile;\n";
}

void write_12(std::ostream& o, const RunRecord& run, const RunGeometry& g, const ClassTable& ct,
              const Summary& s) {
  const Header h = header(run);
  o << "FileVersion 1 2;\n";
  o << "FileTimestamp " << h.file_time.first << " " << h.file_time.second << ";\n";
  o << "InspectionStationID \"WAFERSCAN\" \"SIM\" \"waferscan\";\n";
  o << "SampleType WAFER;\n";
  o << "ResultTimestamp " << h.result_time.first << " " << h.result_time.second << ";\n";
  o << "LotID " << quoted(g.lot_id) << ";\n";
  o << "SampleSize 1 " << std::llround(g.wafer_diameter_mm) << ";\n";
  o << "DeviceID " << quoted(run.recipe_name) << ";\n";
  o << "SetupID " << quoted(run.recipe_name) << " " << h.result_time.first << " "
    << h.result_time.second << ";\n";
  o << "StepID \"INSPECT\";\n";
  o << "ResultsID " << quoted("run-" + std::to_string(run.id)) << ";\n";
  o << "SampleOrientationMarkType NOTCH;\n";
  o << "OrientationMarkLocation DOWN;\n";
  o << "DiePitch " << sci(g.die_pitch_x_um) << " " << sci(g.die_pitch_y_um) << ";\n";
  o << "DieOrigin " << sci(0) << " " << sci(0) << ";\n";
  o << "WaferID " << quoted(g.wafer_id) << ";\n";
  o << "Slot 1;\n";
  o << "SampleCenterLocation " << sci(-g.die_origin_x_um) << " " << sci(-g.die_origin_y_um)
    << ";\n";
  o << "InspectionStatus " << quoted(status_word(s)) << " " << quoted(h.state) << " "
    << quoted(status_note(s)) << ";\n";
  o << "ClassLookup " << ct.names().size();
  for (std::size_t k = 0; k < ct.names().size(); ++k) {
    o << "\n " << k << " " << quoted(ct.names()[k]);
  }
  o << ";\n";
  o << "InspectionTest 1;\n";
  o << "SampleTestPlan " << s.tested_dies.size();
  for (const auto& [i, j] : s.tested_dies) o << "\n " << i << " " << j;
  o << ";\n";
  o << "AreaPerTest " << sci(s.area_per_test_um2) << ";\n";
  o << "DefectRecordSpec 13 DEFECTID XREL YREL XINDEX YINDEX XSIZE YSIZE DEFECTAREA DSIZE "
       "CLASSNUMBER TEST CLUSTERNUMBER IMAGECOUNT;\n";
  o << "DefectList";
  for (const auto& r : s.rows) {
    o << "\n " << r.id << " " << fixed(r.xrel, 3) << " " << fixed(r.yrel, 3) << " " << r.xindex
      << " " << r.yindex << " " << fixed(r.xsize, 3) << " " << fixed(r.ysize, 3) << " "
      << fixed(r.area, 3) << " " << fixed(r.dsize, 3) << " " << r.class_number << " 1 0 0";
  }
  o << ";\n";
  o << "SummarySpec 5 TESTNO NDEFECT DEFDENSITY NDIE NDEFDIE;\n";
  o << "SummaryList\n 1 " << s.rows.size() << " " << sci(s.density_per_cm2) << " "
    << s.tested_dies.size() << " " << s.ndefdie << ";\n";
  o << "EndOfFile;\n";
}

}  // namespace

void write_klarf(std::ostream& out, const RunRecord& run, const std::vector<SiteResult>& sites,
                 const RunGeometry& geometry, KlarfVersion version) {
  const ClassTable classes(geometry, sites);
  const Summary s = summarise(sites, geometry, classes);
  if (version == KlarfVersion::v1_8) {
    write_18(out, run, geometry, classes, s);
  } else {
    write_12(out, run, geometry, classes, s);
  }
}

}  // namespace ws::publish
