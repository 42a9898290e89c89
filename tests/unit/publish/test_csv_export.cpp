// Pins down the CSV export: a header with the documented columns, one row per defect and one per
// site that did not end done, RFC 4180
// quoting of names with commas and quotes, wafer positions in um, for a hand-made run and a real
// run on the simulator.
#include "common/run_fixture.hpp"
#include "publish/csv_export.hpp"
#include "synthetic_run.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace ws::testing {
namespace {

// An independent RFC 4180 reader: records of fields; quoted fields may hold commas, doubled
// quotes and line breaks.
std::vector<std::vector<std::string>> read_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      row.push_back(field);
      field.clear();
    } else if (c == '\n') {
      row.push_back(field);
      field.clear();
      rows.push_back(row);
      row.clear();
    } else {
      field += c;
    }
  }
  EXPECT_FALSE(quoted) << "unterminated quoted field";
  EXPECT_TRUE(field.empty() && row.empty()) << "last line has no newline";
  return rows;
}

// The index of column `name` in the header row.
std::size_t column(const std::vector<std::vector<std::string>>& rows, const std::string& name) {
  for (std::size_t c = 0; c < rows.at(0).size(); ++c) {
    if (rows[0][c] == name) return c;
  }
  ADD_FAILURE() << "no column " << name;
  return 0;
}

TEST(CsvExport, OneRowPerDefectWithHeaderAndQuoting) {
  auto r = synthetic_run();
  r.sites.erase(r.sites.begin() + 1);  // the not-started site (it has a row: see below)
  r.sites[1].site.name = "edge, \"left\"";
  std::ostringstream out;
  publish::write_csv(out, r.run, r.sites, synthetic_geometry());
  const auto rows = read_csv(out.str());
  ASSERT_EQ(rows.size(), 1u + 3u);
  EXPECT_EQ(rows[0], publish::csv_columns());
  for (const auto& row : rows) EXPECT_EQ(row.size(), publish::csv_columns().size());
  const auto col = [&](const std::string& name) { return column(rows, name); };
  EXPECT_EQ(rows[1][col("run")], "7");
  EXPECT_EQ(rows[1][col("site_status")], "done");
  EXPECT_EQ(rows[1][col("defect_id")], "1");
  EXPECT_EQ(rows[1][col("class")], "particle");
  EXPECT_EQ(rows[1][col("bbox_x")], "600");
  EXPECT_EQ(rows[1][col("bbox_h")], "20");
  EXPECT_EQ(rows[1][col("polarity")], "bright");
  EXPECT_DOUBLE_EQ(std::stod(rows[1][col("confidence")]), 0.875);
  EXPECT_DOUBLE_EQ(std::stod(rows[1][col("x_um")]), 5210);
  EXPECT_DOUBLE_EQ(std::stod(rows[1][col("y_um")]), 4220);
  EXPECT_EQ(rows[2][col("site_name")], "edge, \"left\"");
  EXPECT_EQ(rows[2][col("die_i")], "4");
  EXPECT_DOUBLE_EQ(std::stod(rows[2][col("x_um")]), -5800);
  EXPECT_NE(out.str().find("\"edge, \"\"left\"\"\""), std::string::npos) << out.str();
}

TEST(CsvExport, ASiteThatDidNotEndDoneHasARowOfItsOwnSoItNeverReadsClean) {
  auto r = synthetic_run();
  r.sites[1].status = SiteStatus::unreliable;
  r.sites[1].reason = "registration unreliable: blank frame";
  std::ostringstream out;
  publish::write_csv(out, r.run, r.sites, synthetic_geometry());
  const auto rows = read_csv(out.str());
  ASSERT_EQ(rows.size(), 1u + 1u + 3u);  // header, the unreliable site, three defects
  const auto col = [&](const std::string& name) { return column(rows, name); };
  const auto& site = rows[2];  // site 0's defect, then site 1
  EXPECT_EQ(site[col("site")], "1");
  EXPECT_EQ(site[col("site_status")], "unreliable");
  EXPECT_EQ(site[col("site_reason")], "registration unreliable: blank frame");
  EXPECT_EQ(site[col("defect_id")], "");
  EXPECT_EQ(site[col("class")], "");
  EXPECT_EQ(rows[1][col("site_reason")], "");  // a done site's defect
}

TEST(CsvExport, FieldQuoting) {
  EXPECT_EQ(publish::csv_field("plain"), "plain");
  EXPECT_EQ(publish::csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(publish::csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(publish::csv_field("two\nlines"), "\"two\nlines\"");
}

class CsvOfRealRun : public RunFixture {};

TEST_F(CsvOfRealRun, RowCountEqualsStoredDefects) {
  const RunReport rep = controller_->run(request());
  ASSERT_EQ(rep.state, RunState::completed);
  const auto run = *controller_->store().run(rep.id);
  std::ostringstream out;
  publish::write_csv(out, run, controller_->store().sites(rep.id), publish::load_run_geometry(run));
  const auto rows = read_csv(out.str());
  EXPECT_EQ(rows.size(),
            1u + static_cast<std::size_t>(rep.defects + rep.sites.total - rep.sites.done));
}

}  // namespace
}  // namespace ws::testing
