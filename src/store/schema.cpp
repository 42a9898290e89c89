#include "store/schema.hpp"

#include <array>
#include <cstddef>
#include <string>

namespace ws::store {

namespace {

// Version 1. Enum columns hold the enums' names (to_string beside each enum); CHECKs keep a bad
// value from ever being stored, so a failed insert rolls back the whole site instead of storing
// garbage.
constexpr const char* kSchemaV1 = R"sql(
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
)sql";

// Version 2: what a run was made from (so `resume` can run it again) and when it was resumed.
// Added columns only, so a version 1 file is migrated in place with nothing lost.
constexpr const char* kMigrateV1toV2 = R"sql(
ALTER TABLE runs ADD COLUMN set_path     TEXT    NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN graph_path   TEXT    NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN model_path   TEXT    NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN resumed_at   TEXT;
ALTER TABLE runs ADD COLUMN resume_count INTEGER NOT NULL DEFAULT 0;
)sql";

// Version 3: device faults and their resets, and the lock file that shows a run's process is
// alive. Version 2 stores were given these tables, when missing, on every open; IF NOT EXISTS
// keeps the ones they have, so an upgraded file ends identical to a new one.
constexpr const char* kMigrateV2toV3 = R"sql(
CREATE TABLE IF NOT EXISTS hardware_faults (
  device TEXT PRIMARY KEY, reason TEXT NOT NULL, since TEXT NOT NULL, run_id INTEGER);
CREATE TABLE IF NOT EXISTS hardware_resets (
  id INTEGER PRIMARY KEY, device TEXT NOT NULL, reason TEXT NOT NULL, reset_by TEXT NOT NULL,
  reset_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS run_owners (run_id INTEGER PRIMARY KEY, lock_path TEXT NOT NULL);
)sql";

// Version 4: a site can end `unreliable` (a frame not registered well enough to compare), and
// the runs table counts those sites. SQLite cannot change a CHECK in place, so the sites table is
// rebuilt (SQLite's documented procedure: new table, copy, drop, rename) with the same columns in
// the same order; ensure_schema() turns foreign keys off around it, else the DROP would delete
// every stored defect through ON DELETE CASCADE.
constexpr const char* kMigrateV3toV4 = R"sql(
CREATE TABLE sites_v4 (
  run_id           INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  idx              INTEGER NOT NULL CHECK (idx >= 0),
  name             TEXT    NOT NULL,
  die_i            INTEGER NOT NULL,
  die_j            INTEGER NOT NULL,
  x_um             REAL    NOT NULL,
  y_um             REAL    NOT NULL,
  status           TEXT    NOT NULL
                   CHECK (status IN ('not_started', 'done', 'incomplete', 'error', 'unreliable')),
  reason           TEXT    NOT NULL DEFAULT '',
  align_dx         INTEGER NOT NULL DEFAULT 0,
  align_dy         INTEGER NOT NULL DEFAULT 0,
  align_confidence REAL    NOT NULL DEFAULT 0,
  PRIMARY KEY (run_id, idx)
);
INSERT INTO sites_v4 SELECT * FROM sites;
DROP TABLE sites;
ALTER TABLE sites_v4 RENAME TO sites;
ALTER TABLE runs ADD COLUMN sites_unreliable INTEGER NOT NULL DEFAULT 0;
)sql";

// Version 5: what each run was made from (its recipe's text, content hashes of its recorded set,
// graph spec and model, the model's class names), one row per run made from v5 on. A new table
// only, so every stored run is kept as it was.
constexpr const char* kMigrateV4toV5 = R"sql(
CREATE TABLE run_inputs (
  run_id        INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
  recipe_text   TEXT NOT NULL DEFAULT '',
  recipe_hash   TEXT NOT NULL DEFAULT '',
  set_hash      TEXT NOT NULL DEFAULT '',
  graph_hash    TEXT NOT NULL DEFAULT '',
  model_hash    TEXT NOT NULL DEFAULT '',
  model_classes TEXT NOT NULL DEFAULT ''
);
)sql";

// kMigrations[v] takes a version v database to version v + 1 (version 0: an empty file).
constexpr std::array<const char*, kSchemaVersion> kMigrations{
    kSchemaV1, kMigrateV1toV2, kMigrateV2toV3, kMigrateV3toV4, kMigrateV4toV5};

// Foreign keys off for the life of the object (a no-op inside a transaction, so it must enclose
// one), back on after.
class ForeignKeysOff {
 public:
  explicit ForeignKeysOff(Database& db) : db_(db) { db_.exec("PRAGMA foreign_keys=OFF"); }
  ~ForeignKeysOff() {
    try {
      db_.exec("PRAGMA foreign_keys=ON");
    } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor must not throw; the next
    }                // statement on this connection reports a broken database
  }
  ForeignKeysOff(const ForeignKeysOff&) = delete;
  ForeignKeysOff& operator=(const ForeignKeysOff&) = delete;

 private:
  Database& db_;
};

}  // namespace

void ensure_schema(Database& db) {
  if (db.query_int("PRAGMA user_version") == kSchemaVersion) return;
  const ForeignKeysOff off(db);  // before the transaction: see kMigrateV3toV4
  // Re-check under the write lock: another connection may have created the schema meanwhile.
  Transaction tx(db);
  const std::int64_t version = db.query_int("PRAGMA user_version");
  if (version == kSchemaVersion) return;
  if (version < 0 || version > kSchemaVersion) {
    db.fail("schema", "database schema version " + std::to_string(version) +
                          " is not the version this program uses (" +
                          std::to_string(kSchemaVersion) + ")");
  }
  for (auto v = static_cast<std::size_t>(version); v < kMigrations.size(); ++v) {
    db.exec(kMigrations[v]);
  }
  if (db.query_int("SELECT COUNT(*) FROM pragma_foreign_key_check") != 0) {
    db.fail("schema", "the migrated database has rows whose references are broken");
  }
  db.exec(("PRAGMA user_version = " + std::to_string(kSchemaVersion)).c_str());
  tx.commit();
}

}  // namespace ws::store
