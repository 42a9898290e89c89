// Pins down the KLARF export: files in 1.8 (nested, nm) and 1.2 (flat, um) parse back with an
// independent reader to the expected counts, coordinates, units, class lookup and DEFDENSITY, for
// a hand-made run and for real runs on the simulator, and a canceled run is marked INCOMPLETE with
// only its inspected dies in the test plan.
#include "common/run_fixture.hpp"
#include "publish/klarf.hpp"
#include "synthetic_run.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace ws::testing {
namespace {

// ---- An independent minimal KLARF reader (shares nothing with the writer) -----------------------

// Tokens: quoted strings (kept with their quotes, so "1" and 1 differ), braces, commas, semicolons,
// and runs of other non-space characters.
std::vector<std::string> tokenize(const std::string& text) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '"') {
      const std::size_t end = text.find('"', i + 1);
      if (end == std::string::npos) throw std::runtime_error("unterminated string");
      out.push_back(text.substr(i, end - i + 1));
      i = end + 1;
    } else if (c == '{' || c == '}' || c == ',' || c == ';') {
      out.emplace_back(1, c);
      ++i;
    } else {
      std::size_t j = i;
      while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j])) &&
             std::string("{},;\"").find(text[j]) == std::string::npos) {
        ++j;
      }
      out.push_back(text.substr(i, j - i));
      i = j;
    }
  }
  return out;
}

std::string unquote(const std::string& s) {
  return s.size() >= 2 && s.front() == '"' ? s.substr(1, s.size() - 2) : s;
}

// KLARF 1.8: Record TYPE "id" { Field NAME n {v, ...} | List NAME {Columns..Data..} | Record }.
struct List18 {
  std::vector<std::string> types;
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  [[nodiscard]] std::size_t col(const std::string& name) const {
    for (std::size_t k = 0; k < columns.size(); ++k) {
      if (columns[k] == name) return k;
    }
    throw std::runtime_error("no column " + name);
  }
};

struct Record18 {
  std::string type;
  std::string id;
  std::map<std::string, std::vector<std::string>> fields;
  std::map<std::string, List18> lists;
  std::vector<Record18> records;
  [[nodiscard]] const Record18& child(const std::string& t) const {
    for (const auto& r : records) {
      if (r.type == t) return r;
    }
    throw std::runtime_error("no record " + t);
  }
};

class Reader18 {
 public:
  explicit Reader18(const std::string& text) : t_(tokenize(text)) {}

  Record18 file() {
    Record18 r = record();
    expect("EndOfFile");
    expect(";");
    if (p_ != t_.size()) throw std::runtime_error("text after EndOfFile");
    return r;
  }

 private:
  const std::string& next() {
    if (p_ >= t_.size()) throw std::runtime_error("unexpected end");
    return t_[p_++];
  }
  void expect(const std::string& s) {
    const std::string& got = next();
    if (got != s) throw std::runtime_error("expected '" + s + "', got '" + got + "'");
  }
  Record18 record() {
    expect("Record");
    Record18 r;
    r.type = next();
    if (t_.at(p_) != "{") r.id = unquote(next());
    expect("{");
    while (t_.at(p_) != "}") {
      const std::string& kind = t_[p_];
      if (kind == "Record") {
        r.records.push_back(record());
      } else if (kind == "Field") {
        ++p_;
        const std::string name = next();
        const int n = std::stoi(next());
        expect("{");
        std::vector<std::string> values;
        while (t_.at(p_) != "}") {
          if (t_[p_] == ",") {
            ++p_;
            continue;
          }
          values.push_back(next());
        }
        expect("}");
        if (static_cast<int>(values.size()) != n) throw std::runtime_error("field count " + name);
        r.fields[name] = values;
      } else if (kind == "List") {
        ++p_;
        const std::string name = next();
        r.lists[name] = list();
      } else {
        throw std::runtime_error("unexpected '" + kind + "'");
      }
    }
    expect("}");
    return r;
  }
  List18 list() {
    List18 l;
    expect("{");
    expect("Columns");
    const int ncol = std::stoi(next());
    expect("{");
    while (t_.at(p_) != "}") {
      if (t_[p_] == ",") {
        ++p_;
        continue;
      }
      l.types.push_back(next());
      l.columns.push_back(next());
    }
    expect("}");
    if (static_cast<int>(l.columns.size()) != ncol) throw std::runtime_error("column count");
    expect("Data");
    const int nrow = std::stoi(next());
    expect("{");
    std::vector<std::string> row;
    while (t_.at(p_) != "}") {
      if (t_[p_] == ";") {
        ++p_;
        if (row.size() != l.columns.size()) throw std::runtime_error("row width");
        l.rows.push_back(row);
        row.clear();
        continue;
      }
      row.push_back(next());
    }
    expect("}");
    expect("}");
    if (!row.empty() || static_cast<int>(l.rows.size()) != nrow) {
      throw std::runtime_error("row count");
    }
    return l;
  }

  std::vector<std::string> t_;
  std::size_t p_ = 0;
};

// KLARF 1.2: statements "Keyword values... ;" in order; lists are chunked by their declared width.
struct Klarf12 {
  std::map<std::string, std::vector<std::string>> statements;
  std::vector<std::string> order;
  [[nodiscard]] const std::vector<std::string>& at(const std::string& k) const {
    const auto it = statements.find(k);
    if (it == statements.end()) throw std::runtime_error("no statement " + k);
    return it->second;
  }
  // Values of `k` after a leading count, in rows of `width`; the count must match.
  [[nodiscard]] std::vector<std::vector<std::string>> counted(const std::string& k,
                                                              std::size_t width) const {
    const auto& v = at(k);
    const std::size_t n = std::stoul(v.at(0));
    if (v.size() != 1 + n * width) throw std::runtime_error("bad count in " + k);
    return rows(std::vector<std::string>(v.begin() + 1, v.end()), width);
  }
  static std::vector<std::vector<std::string>> rows(const std::vector<std::string>& v,
                                                    std::size_t width) {
    if (v.size() % width) throw std::runtime_error("ragged list");
    std::vector<std::vector<std::string>> out;
    for (std::size_t k = 0; k < v.size(); k += width) {
      out.emplace_back(v.begin() + static_cast<long>(k), v.begin() + static_cast<long>(k + width));
    }
    return out;
  }
};

Klarf12 read12(const std::string& text) {
  Klarf12 k;
  std::vector<std::string> current;
  for (const auto& tok : tokenize(text)) {
    if (tok == ";") {
      if (current.empty()) throw std::runtime_error("empty statement");
      const std::string key = current.front();
      k.statements[key] = std::vector<std::string>(current.begin() + 1, current.end());
      k.order.push_back(key);
      current.clear();
    } else {
      current.push_back(tok);
    }
  }
  if (!current.empty()) throw std::runtime_error("unterminated statement");
  if (k.order.empty() || k.order.back() != "EndOfFile") throw std::runtime_error("no EndOfFile");
  return k;
}

// ---- Helpers ----------------------------------------------------------------------------------

std::string export_text(const RunRecord& run, const std::vector<SiteResult>& sites,
                        const publish::RunGeometry& g, publish::KlarfVersion v) {
  std::ostringstream s;
  publish::write_klarf(s, run, sites, g, v);
  return s.str();
}

double num(const std::string& s) {
  return std::stod(unquote(s));
}

struct Expected {
  int id;
  double xrel_um, yrel_um;
  int xi, yi;
  double xsize_um, ysize_um, area_um2;
  int cls;
};

// The synthetic run's defects, worked out by hand (see synthetic_run.hpp).
const std::vector<Expected> kExpected = {
    {1, 5210, 4220, 5, 5, 20, 40, 600, 1},
    {2, 4200, 4600, 4, 5, 20, 40, 400, 2},
    {3, 4001, 3201, 4, 5, 2, 2, 4, 3},
};
// 3 defects / (2 inspected sites x 2000 um x 1600 um) = 3 / 0.064 cm^2.
constexpr double kDensity = 46.875;

// ---- KLARF 1.8 ---------------------------------------------------------------------------------

TEST(Klarf18, SyntheticRunParsesBackInNanometres) {
  const auto r = synthetic_run();
  const auto text = export_text(r.run, r.sites, synthetic_geometry(), publish::KlarfVersion::v1_8);
  Record18 file;
  ASSERT_NO_THROW(file = Reader18(text).file()) << text;
  EXPECT_EQ(file.type, "FileRecord");
  EXPECT_EQ(file.id, "1.8");
  const Record18& lot = file.child("LotRecord");
  EXPECT_EQ(lot.id, "LOT-A");
  EXPECT_EQ(lot.fields.at("DiePitch"), (std::vector<std::string>{"10000000", "8000000"}));

  const List18& lookup = lot.lists.at("ClassLookupList");
  std::map<int, std::string> classes;
  for (const auto& row : lookup.rows) {
    classes[std::stoi(row[lookup.col("CLASSNUMBER")])] = unquote(row[lookup.col("CLASSNAME")]);
  }
  EXPECT_EQ(classes, (std::map<int, std::string>{
                         {0, "unclassified"}, {1, "particle"}, {2, "scratch"}, {3, "mystery"}}));

  const Record18& wafer = lot.child("WaferRecord");
  EXPECT_EQ(wafer.id, "W03");
  EXPECT_EQ(wafer.fields.at("DieOrigin"), (std::vector<std::string>{"0", "0"}));
  // Wafer centre from the lower-left corner of die (0, 0): 50 mm, 40 mm.
  EXPECT_EQ(wafer.fields.at("SampleCenterLocation"),
            (std::vector<std::string>{"50000000", "40000000"}));

  const List18& defects = wafer.lists.at("DefectList");
  ASSERT_EQ(defects.rows.size(), kExpected.size());
  for (const auto& col :
       {"DEFECTID", "XREL", "YREL", "XINDEX", "YINDEX", "XSIZE", "YSIZE", "DSIZE", "CLASSNUMBER"}) {
    EXPECT_EQ(defects.types[defects.col(col)], "int32") << col;  // integer nm units
  }
  for (std::size_t k = 0; k < kExpected.size(); ++k) {
    const auto& row = defects.rows[k];
    const auto& e = kExpected[k];
    SCOPED_TRACE("defect " + std::to_string(e.id));
    EXPECT_EQ(std::stoi(row[defects.col("DEFECTID")]), e.id);
    EXPECT_EQ(std::stoll(row[defects.col("XREL")]), std::llround(e.xrel_um * 1000));
    EXPECT_EQ(std::stoll(row[defects.col("YREL")]), std::llround(e.yrel_um * 1000));
    EXPECT_EQ(std::stoi(row[defects.col("XINDEX")]), e.xi);
    EXPECT_EQ(std::stoi(row[defects.col("YINDEX")]), e.yi);
    EXPECT_EQ(std::stoll(row[defects.col("XSIZE")]), std::llround(e.xsize_um * 1000));
    EXPECT_EQ(std::stoll(row[defects.col("YSIZE")]), std::llround(e.ysize_um * 1000));
    EXPECT_NEAR(num(row[defects.col("DEFECTAREA")]), e.area_um2 * 1e6, 1);  // nm^2
    EXPECT_NEAR(std::stod(row[defects.col("DSIZE")]), 2 * std::sqrt(e.area_um2 / M_PI) * 1000, 1);
    EXPECT_EQ(std::stoi(row[defects.col("CLASSNUMBER")]), e.cls);
  }

  const Record18& test = wafer.child("TestRecord");
  const List18& plan = test.lists.at("SampleTestPlanList");
  ASSERT_EQ(plan.rows.size(), 2u) << "only the inspected dies are in the test plan";
  EXPECT_EQ(plan.rows[0], (std::vector<std::string>{"5", "5"}));
  EXPECT_EQ(plan.rows[1], (std::vector<std::string>{"4", "5"}));
  EXPECT_NEAR(num(test.fields.at("AreaPerTest").at(0)), 2 * 2000.0 * 1600.0 * 1e6, 1e3);

  const List18& summary = wafer.child("SummaryRecord").lists.at("TestSummaryList");
  ASSERT_EQ(summary.rows.size(), 1u);
  EXPECT_EQ(summary.rows[0][summary.col("NDEFECT")], "3");
  EXPECT_NEAR(num(summary.rows[0][summary.col("DEFDENSITY")]), kDensity, 1e-6);
  EXPECT_EQ(summary.rows[0][summary.col("NDIE")], "2");
  EXPECT_EQ(summary.rows[0][summary.col("NDEFDIE")], "2");

  const auto& status = wafer.fields.at("InspectionStatus");
  EXPECT_EQ(unquote(status.at(0)), "INCOMPLETE");
  EXPECT_NE(unquote(status.at(1)).find("Canceled"), std::string::npos);
  EXPECT_NE(unquote(status.at(2)).find("2 of 3"), std::string::npos);
}

TEST(Klarf18, AnUnreliableSiteMakesTheInspectionIncompleteAndIsNamed) {
  auto r = synthetic_run();
  r.sites[1].status = SiteStatus::unreliable;
  r.run.state = RunState::completed;
  r.run.stop_reason = StopReason::none;
  const auto text = export_text(r.run, r.sites, synthetic_geometry(), publish::KlarfVersion::v1_8);
  const Record18 file = Reader18(text).file();
  const auto& status = file.child("LotRecord").child("WaferRecord").fields.at("InspectionStatus");
  EXPECT_EQ(unquote(status.at(0)), "INCOMPLETE");
  EXPECT_NE(unquote(status.at(2)).find("2 of 3 planned sites inspected; 1 unreliable"),
            std::string::npos)
      << unquote(status.at(2));
  EXPECT_EQ(unquote(status.at(2)).find("error"), std::string::npos) << "no error site";
  r.sites[2].status = SiteStatus::error;
  r.sites[2].defects.clear();
  const auto with_error =
      export_text(r.run, r.sites, synthetic_geometry(), publish::KlarfVersion::v1_8);
  const Record18 file2 = Reader18(with_error).file();
  const auto& status2 = file2.child("LotRecord").child("WaferRecord").fields.at("InspectionStatus");
  EXPECT_NE(unquote(status2.at(2)).find("1 of 3 planned sites inspected; 1 unreliable"),
            std::string::npos)
      << unquote(status2.at(2));
  EXPECT_NE(unquote(status2.at(2)).find("; 1 error"), std::string::npos) << unquote(status2.at(2));
}

TEST(Klarf18, AllDoneRunIsComplete) {
  auto r = synthetic_run();
  r.sites[1].status = SiteStatus::done;
  r.run.state = RunState::completed;
  r.run.stop_reason = StopReason::none;
  const auto text = export_text(r.run, r.sites, synthetic_geometry(), publish::KlarfVersion::v1_8);
  const Record18 file = Reader18(text).file();
  const Record18& wafer = file.child("LotRecord").child("WaferRecord");
  EXPECT_EQ(unquote(wafer.fields.at("InspectionStatus").at(0)), "COMPLETE");
  EXPECT_EQ(wafer.child("TestRecord").lists.at("SampleTestPlanList").rows.size(), 3u);
  // One more inspected site, same defects: 3 / 0.096 cm^2.
  const List18& summary = wafer.child("SummaryRecord").lists.at("TestSummaryList");
  EXPECT_NEAR(num(summary.rows[0][summary.col("DEFDENSITY")]), 31.25, 1e-6);
}

// ---- KLARF 1.2 ---------------------------------------------------------------------------------

TEST(Klarf12, SyntheticRunParsesBackInMicrometres) {
  const auto r = synthetic_run();
  const auto text = export_text(r.run, r.sites, synthetic_geometry(), publish::KlarfVersion::v1_2);
  Klarf12 k;
  ASSERT_NO_THROW(k = read12(text)) << text;
  EXPECT_EQ(k.order.front(), "FileVersion");
  EXPECT_EQ(k.at("FileVersion"), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(k.at("FileTimestamp"), (std::vector<std::string>{"03-04-26", "05:07:08"}));
  EXPECT_DOUBLE_EQ(num(k.at("DiePitch").at(0)), 10000);
  EXPECT_DOUBLE_EQ(num(k.at("DiePitch").at(1)), 8000);
  EXPECT_DOUBLE_EQ(num(k.at("DieOrigin").at(0)), 0);
  EXPECT_DOUBLE_EQ(num(k.at("SampleCenterLocation").at(0)), 50000);
  EXPECT_DOUBLE_EQ(num(k.at("SampleCenterLocation").at(1)), 40000);
  EXPECT_EQ(unquote(k.at("WaferID").at(0)), "W03");

  std::map<int, std::string> classes;
  for (const auto& row : k.counted("ClassLookup", 2)) classes[std::stoi(row[0])] = unquote(row[1]);
  EXPECT_EQ(classes, (std::map<int, std::string>{
                         {0, "unclassified"}, {1, "particle"}, {2, "scratch"}, {3, "mystery"}}));

  const auto plan = k.counted("SampleTestPlan", 2);
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0], (std::vector<std::string>{"5", "5"}));
  EXPECT_EQ(plan[1], (std::vector<std::string>{"4", "5"}));

  const auto& spec = k.at("DefectRecordSpec");
  const std::size_t width = std::stoul(spec.at(0));
  const std::vector<std::string> names(spec.begin() + 1, spec.end());
  ASSERT_EQ(names.size(), width);
  const auto col = [&](const std::string& n) {
    for (std::size_t c = 0; c < names.size(); ++c) {
      if (names[c] == n) return c;
    }
    throw std::runtime_error("no column " + n);
  };
  const auto rows = Klarf12::rows(k.at("DefectList"), width);
  ASSERT_EQ(rows.size(), kExpected.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    const auto& e = kExpected[i];
    SCOPED_TRACE("defect " + std::to_string(e.id));
    EXPECT_EQ(std::stoi(row[col("DEFECTID")]), e.id);
    EXPECT_NEAR(num(row[col("XREL")]), e.xrel_um, 1e-3);
    EXPECT_NEAR(num(row[col("YREL")]), e.yrel_um, 1e-3);
    EXPECT_EQ(std::stoi(row[col("XINDEX")]), e.xi);
    EXPECT_EQ(std::stoi(row[col("YINDEX")]), e.yi);
    EXPECT_NEAR(num(row[col("XSIZE")]), e.xsize_um, 1e-3);
    EXPECT_NEAR(num(row[col("YSIZE")]), e.ysize_um, 1e-3);
    EXPECT_NEAR(num(row[col("DEFECTAREA")]), e.area_um2, 1e-3);
    EXPECT_NEAR(num(row[col("DSIZE")]), 2 * std::sqrt(e.area_um2 / M_PI), 1e-3);
    EXPECT_EQ(std::stoi(row[col("CLASSNUMBER")]), e.cls);
  }

  const auto& sspec = k.at("SummarySpec");
  const std::vector<std::string> snames(sspec.begin() + 1, sspec.end());
  const auto summary = Klarf12::rows(k.at("SummaryList"), snames.size());
  ASSERT_EQ(summary.size(), 1u);
  std::map<std::string, std::string> s;
  for (std::size_t c = 0; c < snames.size(); ++c) s[snames[c]] = summary[0][c];
  EXPECT_EQ(s.at("NDEFECT"), "3");
  EXPECT_NEAR(num(s.at("DEFDENSITY")), kDensity, 1e-6);
  EXPECT_EQ(s.at("NDIE"), "2");
  EXPECT_NEAR(num(k.at("AreaPerTest").at(0)), 2 * 2000.0 * 1600.0, 1e-3);  // um^2
  EXPECT_EQ(unquote(k.at("InspectionStatus").at(0)), "INCOMPLETE");
}

// ---- Real runs on the simulator ----------------------------------------------------------------

class KlarfOfRealRun : public RunFixture {
 protected:
  struct Exported {
    RunRecord run;
    std::vector<SiteResult> sites;
    Record18 k18;
    Klarf12 k12;
  };
  Exported export_run(RunId id) {
    Exported e;
    e.run = *controller_->store().run(id);
    e.sites = controller_->store().sites(id);
    const auto g = publish::load_run_geometry(e.run);
    e.k18 = Reader18(export_text(e.run, e.sites, g, publish::KlarfVersion::v1_8)).file();
    e.k12 = read12(export_text(e.run, e.sites, g, publish::KlarfVersion::v1_2));
    return e;
  }
  // The quick recipe: 1024 x 1024 frames at 5 um/px (5.12 mm square) inside 10 mm dies.
  static double density(int defects, int sites) {
    return defects / (sites * 5120.0 * 5120.0 / 1e8);
  }
};

TEST_F(KlarfOfRealRun, CompletedRunHasEveryDefectInBothVersions) {
  const RunReport rep = controller_->run(request());
  ASSERT_EQ(rep.state, RunState::completed);
  ASSERT_GT(rep.defects, 0) << "the quick recipe injects defects";
  const Exported e = export_run(rep.id);

  const Record18& wafer = e.k18.child("LotRecord").child("WaferRecord");
  const List18& d18 = wafer.lists.at("DefectList");
  const auto& spec = e.k12.at("DefectRecordSpec");
  const auto d12 = Klarf12::rows(e.k12.at("DefectList"), std::stoul(spec.at(0)));
  ASSERT_EQ(d18.rows.size(), static_cast<std::size_t>(rep.defects));
  ASSERT_EQ(d12.size(), static_cast<std::size_t>(rep.defects));

  // The class lookup maps every defect's number back to the stored class name.
  std::map<int, std::string> lookup;
  const List18& cl = e.k18.child("LotRecord").lists.at("ClassLookupList");
  for (const auto& row : cl.rows) lookup[std::stoi(row[0])] = unquote(row[1]);
  for (std::size_t k = 0; k < classifier_.class_names().size(); ++k) {
    EXPECT_EQ(lookup.at(static_cast<int>(k + 1)), classifier_.class_names()[k]);
  }
  std::map<int, std::string> stored_class;
  std::map<int, std::pair<int, int>> stored_die;
  for (const auto& s : e.sites) {
    for (const auto& d : s.defects) {
      stored_class[d.id] = d.class_name;
      stored_die[d.id] = {s.site.die_i, s.site.die_j};
    }
  }
  for (std::size_t k = 0; k < d18.rows.size(); ++k) {
    const auto& r18 = d18.rows[k];
    const auto& r12 = d12[k];
    const int id = std::stoi(r18[d18.col("DEFECTID")]);
    EXPECT_EQ(std::stoi(r12[0]), id);
    EXPECT_EQ(lookup.at(std::stoi(r18[d18.col("CLASSNUMBER")])), stored_class.at(id));
    EXPECT_EQ(std::stoi(r18[d18.col("XINDEX")]), stored_die.at(id).first);
    EXPECT_EQ(std::stoi(r18[d18.col("YINDEX")]), stored_die.at(id).second);
    // The same position in nm (1.8) and um (1.2), inside the 10 mm die.
    const long long xrel_nm = std::stoll(r18[d18.col("XREL")]);
    const long long yrel_nm = std::stoll(r18[d18.col("YREL")]);
    EXPECT_NEAR(static_cast<double>(xrel_nm) / 1000.0, num(r12[1]), 1e-3);
    EXPECT_NEAR(static_cast<double>(yrel_nm) / 1000.0, num(r12[2]), 1e-3);
    EXPECT_GT(xrel_nm, 0);
    EXPECT_LT(xrel_nm, 10'000'000);
    EXPECT_GT(yrel_nm, 0);
    EXPECT_LT(yrel_nm, 10'000'000);
  }

  const List18& summary = wafer.child("SummaryRecord").lists.at("TestSummaryList");
  EXPECT_NEAR(num(summary.rows[0][summary.col("DEFDENSITY")]), density(rep.defects, 12), 1e-6);
  EXPECT_EQ(wafer.child("TestRecord").lists.at("SampleTestPlanList").rows.size(), 12u);
  EXPECT_EQ(unquote(wafer.fields.at("InspectionStatus").at(0)), "COMPLETE");
  EXPECT_EQ(e.k12.counted("SampleTestPlan", 2).size(), 12u);
  EXPECT_EQ(unquote(e.k12.at("InspectionStatus").at(0)), "COMPLETE");
}

TEST_F(KlarfOfRealRun, CanceledRunSaysItWasNotCompletelyInspected) {
  auto req = request();
  RunHooks hooks;
  hooks.probe = [&](std::string_view node, std::size_t seq) {
    if (node == "detect" && seq == 3) {
      controller_->request_stop(std::nullopt, StopReason::operator_request, StopStrength::stop,
                                "test");
    }
  };
  const RunReport rep = controller_->run(req, hooks);
  ASSERT_EQ(rep.state, RunState::canceled);
  ASSERT_GT(rep.sites.not_started, 0);
  const Exported e = export_run(rep.id);

  std::set<std::pair<int, int>> done;
  for (const auto& s : e.sites) {
    if (s.status == SiteStatus::done) done.insert({s.site.die_i, s.site.die_j});
  }
  const Record18& wafer = e.k18.child("LotRecord").child("WaferRecord");
  const auto& status = wafer.fields.at("InspectionStatus");
  EXPECT_EQ(unquote(status.at(0)), "INCOMPLETE");
  EXPECT_NE(unquote(status.at(1)).find("Canceled"), std::string::npos);
  EXPECT_NE(unquote(status.at(2)).find(std::to_string(rep.sites.done) + " of 12"),
            std::string::npos);
  std::set<std::pair<int, int>> plan18;
  for (const auto& row : wafer.child("TestRecord").lists.at("SampleTestPlanList").rows) {
    plan18.insert({std::stoi(row[0]), std::stoi(row[1])});
  }
  EXPECT_EQ(plan18, done) << "the test plan lists exactly the inspected dies";
  std::set<std::pair<int, int>> plan12;
  for (const auto& row : e.k12.counted("SampleTestPlan", 2)) {
    plan12.insert({std::stoi(row[0]), std::stoi(row[1])});
  }
  EXPECT_EQ(plan12, done);
  EXPECT_EQ(unquote(e.k12.at("InspectionStatus").at(0)), "INCOMPLETE");

  const List18& summary = wafer.child("SummaryRecord").lists.at("TestSummaryList");
  EXPECT_EQ(std::stoi(summary.rows[0][summary.col("NDEFECT")]), rep.defects);
  EXPECT_EQ(std::stoi(summary.rows[0][summary.col("NDIE")]), rep.sites.done);
  EXPECT_NEAR(num(summary.rows[0][summary.col("DEFDENSITY")]), density(rep.defects, rep.sites.done),
              1e-6);
}

}  // namespace
}  // namespace ws::testing
