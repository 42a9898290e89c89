// Shared by the store tests: a fresh database file per test and sample runs, sites and defects.
#pragma once

#include "waferscan/store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

namespace ws::test {

/// A database path in a directory of its own, removed after the test.
class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("ws_store_" + std::to_string(::getpid()) + "_" + info->test_suite_name() + "_" +
            info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = dir_ / "results.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static std::vector<SiteSpec> make_sites(int n) {
    std::vector<SiteSpec> sites;
    for (int k = 0; k < n; ++k) {
      SiteSpec s;
      s.index = k;
      s.name = std::string("r0c").append(std::to_string(k));
      s.die_i = k;
      s.die_j = 0;
      s.x_um = 1000.0 * k + 0.25;
      s.y_um = -500.5;
      sites.push_back(s);
    }
    return sites;
  }

  static RunRecord make_run(const std::string& name = "quick") {
    RunRecord r;
    r.recipe_name = name;
    r.recipe_path = "data/recipes/" + name + ".yaml";
    return r;
  }

  static Defect make_defect(int x, const std::string& cls, double confidence = 0.75) {
    Defect d;
    d.id = -1;
    d.features.bbox = cv::Rect(x, 20, 5, 7);
    d.features.area_px = 23;
    d.features.centroid = cv::Point2d(x + 2.5, 23.25);
    d.features.elongation = 1.5;
    d.features.fill = 0.66;
    d.features.polarity = Polarity::dark;
    d.features.contrast = 31.5;
    d.features.max_contrast = 80;
    d.class_name = cls;
    d.confidence = confidence;
    return d;
  }

  static SiteResult make_result(const SiteSpec& site, SiteStatus status,
                                std::vector<Defect> defects = {}) {
    SiteResult r;
    r.site = site;
    r.status = status;
    r.defects = std::move(defects);
    r.align_dx = -3;
    r.align_dy = 4;
    r.align_confidence = 0.9;
    return r;
  }

  /// Runs one SQL statement on a separate raw connection (as another process would).
  void raw_exec(const std::string& sql) const {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    const std::string message = err != nullptr ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << message;
  }

  /// The first column of the first row of `sql` on a separate raw connection, as text.
  [[nodiscard]] std::string raw_query(const std::string& sql) const {
    sqlite3* db = nullptr;
    std::string out;
    if (sqlite3_open(path_.c_str(), &db) == SQLITE_OK) {
      sqlite3_stmt* s = nullptr;
      if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK &&
          sqlite3_step(s) == SQLITE_ROW) {
        const auto* text = sqlite3_column_text(s, 0);
        out = text != nullptr ? reinterpret_cast<const char*>(text) : "";
      }
      sqlite3_finalize(s);
    }
    sqlite3_close(db);
    return out;
  }

  std::filesystem::path dir_;
  std::filesystem::path path_;
};

}  // namespace ws::test
