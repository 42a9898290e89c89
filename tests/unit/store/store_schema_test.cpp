// Opening a store written by an earlier schema version (2): it is migrated to the current one
// (version 4 rebuilds the sites table), its runs and defects are intact, and its schema ends
// identical to that of a store created new. The old file is built here from the version 2 DDL as
// raw SQL, as the previous program left it: with or without the three tables that program created
// outside any migration.
#include "store_fixture.hpp"

#include "store/schema.hpp"
#include "waferscan/store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cctype>
#include <string>
#include <vector>

namespace ws {
namespace {

// The version 2 schema, as schema.cpp wrote it (version 1, then the v1 -> v2 columns).
constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE runs (
  id                INTEGER PRIMARY KEY AUTOINCREMENT,
  recipe_name       TEXT    NOT NULL,
  recipe_path       TEXT    NOT NULL,
  state             TEXT    NOT NULL,
  stop_reason       TEXT    NOT NULL DEFAULT 'none',
  started_at        TEXT    NOT NULL,
  ended_at          TEXT,
  sites_total       INTEGER NOT NULL DEFAULT 0,
  sites_done        INTEGER NOT NULL DEFAULT 0,
  sites_incomplete  INTEGER NOT NULL DEFAULT 0,
  sites_error       INTEGER NOT NULL DEFAULT 0,
  sites_not_started INTEGER NOT NULL DEFAULT 0,
  defects           INTEGER NOT NULL DEFAULT 0,
  graph_quiet_ms    REAL,
  hardware_safe_ms  REAL,
  message           TEXT    NOT NULL DEFAULT '',
  owner_pid         INTEGER NOT NULL
);
CREATE TABLE run_events (
  id     INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  t      TEXT    NOT NULL,
  type   TEXT    NOT NULL,
  json   TEXT    NOT NULL
);
CREATE INDEX run_events_by_run ON run_events(run_id, id);
CREATE TABLE sites (
  run_id           INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  idx              INTEGER NOT NULL CHECK (idx >= 0),
  name             TEXT    NOT NULL,
  die_i            INTEGER NOT NULL,
  die_j            INTEGER NOT NULL,
  x_um             REAL    NOT NULL,
  y_um             REAL    NOT NULL,
  status           TEXT    NOT NULL
                   CHECK (status IN ('not_started', 'done', 'incomplete', 'error')),
  reason           TEXT    NOT NULL DEFAULT '',
  align_dx         INTEGER NOT NULL DEFAULT 0,
  align_dy         INTEGER NOT NULL DEFAULT 0,
  align_confidence REAL    NOT NULL DEFAULT 0,
  PRIMARY KEY (run_id, idx)
);
CREATE TABLE defects (
  run_id       INTEGER NOT NULL,
  id           INTEGER NOT NULL CHECK (id >= 1),
  site_idx     INTEGER NOT NULL,
  x            INTEGER NOT NULL,
  y            INTEGER NOT NULL,
  w            INTEGER NOT NULL CHECK (w >= 0),
  h            INTEGER NOT NULL CHECK (h >= 0),
  area_px      INTEGER NOT NULL CHECK (area_px >= 0),
  centroid_x   REAL    NOT NULL,
  centroid_y   REAL    NOT NULL,
  elongation   REAL    NOT NULL,
  fill         REAL    NOT NULL,
  polarity     TEXT    NOT NULL CHECK (polarity IN ('bright', 'dark')),
  contrast     REAL    NOT NULL,
  max_contrast REAL    NOT NULL,
  class_name   TEXT    NOT NULL,
  confidence   REAL    NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
  PRIMARY KEY (run_id, id),
  FOREIGN KEY (run_id, site_idx) REFERENCES sites(run_id, idx) ON DELETE CASCADE
);
CREATE INDEX defects_by_site ON defects(run_id, site_idx);
ALTER TABLE runs ADD COLUMN set_path     TEXT    NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN graph_path   TEXT    NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN model_path   TEXT    NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN resumed_at   TEXT;
ALTER TABLE runs ADD COLUMN resume_count INTEGER NOT NULL DEFAULT 0;
PRAGMA user_version = 2;
)sql";

// What the version 2 program created on every open, outside the migrations.
constexpr const char* kV2OpenTables = R"sql(
CREATE TABLE IF NOT EXISTS hardware_faults (
  device TEXT PRIMARY KEY, reason TEXT NOT NULL, since TEXT NOT NULL, run_id INTEGER);
CREATE TABLE IF NOT EXISTS hardware_resets (
  id INTEGER PRIMARY KEY, device TEXT NOT NULL, reason TEXT NOT NULL, reset_by TEXT NOT NULL,
  reset_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS run_owners (run_id INTEGER PRIMARY KEY, lock_path TEXT NOT NULL);
)sql";

// One Canceled run with two sites (one done, with one defect) and a recorded device fault.
constexpr const char* kV2Run = R"sql(
INSERT INTO runs (id, recipe_name, recipe_path, state, stop_reason, started_at, ended_at,
                  sites_total, sites_done, sites_not_started, defects, message, owner_pid,
                  set_path, resume_count)
VALUES (7, 'quick', 'data/recipes/quick.yaml', 'Canceled', 'operator', '2026-01-02T03:04:05Z',
        '2026-01-02T03:05:00Z', 2, 1, 1, 1, 'stopped by operator', 4242, '/sets/a', 1);
INSERT INTO sites (run_id, idx, name, die_i, die_j, x_um, y_um, status)
VALUES (7, 0, 'r0c0', 0, 0, 0.25, -500.5, 'done'), (7, 1, 'r0c1', 1, 0, 1000.25, -500.5,
        'not_started');
INSERT INTO defects (run_id, id, site_idx, x, y, w, h, area_px, centroid_x, centroid_y,
                     elongation, fill, polarity, contrast, max_contrast, class_name, confidence)
VALUES (7, 1, 0, 10, 20, 5, 7, 23, 12.5, 23.25, 1.5, 0.66, 'dark', 31.5, 80, 'particle', 0.75);
)sql";

/// Every schema object of the file, "type name: sql" with runs of white space made one space,
/// in name order (an upgraded file and a new one may differ only in layout of the same text).
std::vector<std::string> schema_of(const std::filesystem::path& path) {
  sqlite3* db = nullptr;
  std::vector<std::string> out;
  if (sqlite3_open(path.c_str(), &db) == SQLITE_OK) {
    sqlite3_stmt* s = nullptr;
    const char* sql = "SELECT type, name, COALESCE(sql, '') FROM sqlite_master ORDER BY name";
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) == SQLITE_OK) {
      while (sqlite3_step(s) == SQLITE_ROW) {
        std::string row;
        for (int c = 0; c < 3; ++c) {
          row += reinterpret_cast<const char*>(sqlite3_column_text(s, c));
          row += c == 0 ? " " : c == 1 ? ": " : "";
        }
        std::string squeezed;
        for (const char ch : row) {
          const bool space = std::isspace(static_cast<unsigned char>(ch)) != 0;
          if (!space || (!squeezed.empty() && squeezed.back() != ' ')) squeezed += space ? ' ' : ch;
        }
        out.push_back(squeezed);
      }
    }
    sqlite3_finalize(s);
  }
  sqlite3_close(db);
  return out;
}

class SchemaUpgradeTest : public test::StoreTest, public ::testing::WithParamInterface<bool> {};

TEST_P(SchemaUpgradeTest, PreviousVersionFileIsMigratedIntactAndEndsLikeANewOne) {
  raw_exec(kSchemaV2);
  if (GetParam()) raw_exec(kV2OpenTables);
  raw_exec(kV2Run);

  {
    Store store(path_);
    EXPECT_EQ(raw_query("PRAGMA user_version"), std::to_string(store::kSchemaVersion));
    const auto run = store.run(7);
    ASSERT_TRUE(run.has_value());
    EXPECT_EQ(run->recipe_name, "quick");
    EXPECT_EQ(run->state, RunState::canceled);
    EXPECT_EQ(run->stop_reason, StopReason::operator_request);
    EXPECT_EQ(run->message, "stopped by operator");
    EXPECT_EQ(run->set_path, "/sets/a");
    EXPECT_EQ(run->resume_count, 1);
    EXPECT_EQ(run->sites.total, 2);
    EXPECT_EQ(run->sites.done, 1);
    EXPECT_EQ(run->defects, 1);
    const auto sites = store.sites(7);
    ASSERT_EQ(sites.size(), 2U);
    EXPECT_EQ(sites[0].status, SiteStatus::done);
    ASSERT_EQ(sites[0].defects.size(), 1U);
    EXPECT_EQ(sites[0].defects[0].class_name, "particle");
    EXPECT_EQ(sites[0].defects[0].features.polarity, Polarity::dark);
    EXPECT_EQ(sites[1].status, SiteStatus::not_started);
    // The tables version 3 adds are there and usable.
    store.set_run_owner(7, "/tmp/run7.lock");
    EXPECT_EQ(store.unfinished_runs().size(), 0U);
    // Version 4: a site can be stored unreliable, and the run counts it; the rebuilt sites table
    // kept the defects that reference it.
    SiteResult bad;
    bad.site = sites[1].site;
    bad.status = SiteStatus::unreliable;
    bad.reason = "registration unreliable: blank frame";
    store.store_site(7, bad);
    const auto after = store.run(7);
    ASSERT_TRUE(after.has_value());
    EXPECT_EQ(after->sites.unreliable, 1);
    EXPECT_EQ(after->sites.not_started, 0);
    EXPECT_EQ(after->sites.done, 1);
    EXPECT_EQ(after->defects, 1);
    EXPECT_EQ(store.sites(7).at(1).status, SiteStatus::unreliable);
    EXPECT_EQ(store.sites(7).at(0).defects.size(), 1U);
  }
  const std::vector<std::string> upgraded = schema_of(path_);

  const auto fresh_path = dir_ / "fresh.db";
  { Store fresh(fresh_path); }
  EXPECT_EQ(upgraded, schema_of(fresh_path));
}

INSTANTIATE_TEST_SUITE_P(WithAndWithoutTheOpenTimeTables, SchemaUpgradeTest, ::testing::Bool());

}  // namespace
}  // namespace ws
