// The results store: runs, their sites and defects, and the run journal, in one SQLite file.
#include "waferscan/store.hpp"

#include "base/output_file.hpp"  // folder_of
#include "store/checkpointer.hpp"
#include "store/schema.hpp"
#include "store/sqlite.hpp"
#include "store/timestamp.hpp"
#include "waferscan/error.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <map>
#include <optional>
#include <string>
#include <utility>

namespace ws {

namespace {

using store::Database;
using store::Statement;
using store::Transaction;

// Long enough to ride out another process's site transaction (milliseconds), short enough that a
// wedged writer surfaces as a StoreError instead of a hang.
constexpr int kBusyTimeoutMs = 5000;

constexpr const char* kRunColumns =
    "id, recipe_name, recipe_path, state, stop_reason, started_at, ended_at, sites_total, "
    "sites_done, sites_incomplete, sites_error, sites_not_started, defects, graph_quiet_ms, "
    "hardware_safe_ms, message, owner_pid, set_path, graph_path, model_path, "
    "COALESCE(resumed_at, ''), resume_count, sites_unreliable";

// Recounts a run's sites by status and its defects from the tables (?1 = run id; ?2..?5 = the
// names of done, incomplete, error, not_started and unreliable, bound by recount()).
constexpr const char* kRecount = R"sql(
UPDATE runs SET
  sites_total       = (SELECT COUNT(*) FROM sites WHERE run_id = ?1),
  sites_done        = (SELECT COUNT(*) FROM sites WHERE run_id = ?1 AND status = ?2),
  sites_incomplete  = (SELECT COUNT(*) FROM sites WHERE run_id = ?1 AND status = ?3),
  sites_error       = (SELECT COUNT(*) FROM sites WHERE run_id = ?1 AND status = ?4),
  sites_not_started = (SELECT COUNT(*) FROM sites WHERE run_id = ?1 AND status = ?5),
  sites_unreliable  = (SELECT COUNT(*) FROM sites WHERE run_id = ?1 AND status = ?6),
  defects           = (SELECT COUNT(*) FROM defects WHERE run_id = ?1)
WHERE id = ?1
)sql";

// Binds ?1, ?2, ?3 to the states of a run that has not ended (its process may be gone): a
// statement tests them with `state IN (?1, ?2, ?3)`.
Statement& bind_unfinished_states(Statement& s) {
  return s.bind_text(1, to_string(RunState::starting))
      .bind_text(2, to_string(RunState::running))
      .bind_text(3, to_string(RunState::stopping));
}

void open_pragmas(Database& db) {
  // WAL: readers (a `waferscan runs` in another shell) never block the run's writer.
  const std::string mode = db.query_text("PRAGMA journal_mode=WAL");
  if (mode != "wal") db.fail("PRAGMA journal_mode=WAL", "journal mode is '" + mode + "'");
  // NORMAL in WAL mode: a committed site survives a process crash; only an OS crash or power
  // loss can lose the last few commits, never corrupt the file.
  db.exec("PRAGMA synchronous=NORMAL");
  db.exec("PRAGMA foreign_keys=ON");
}

template <typename Enum, typename Parse>
Enum parse_enum(const Database& db, const std::string& text, Parse parse, const char* what) {
  if (auto value = parse(text)) return *value;
  db.fail("read", std::string("unknown ") + what + " '" + text + "' in the database");
}

RunRecord read_run_row(const Database& db, const Statement& s) {
  RunRecord r;
  r.id = s.column_int(0);
  r.recipe_name = s.column_text(1);
  r.recipe_path = s.column_text(2);
  r.state = parse_enum<RunState>(db, s.column_text(3), run_state_from_string, "run state");
  r.stop_reason =
      parse_enum<StopReason>(db, s.column_text(4), stop_reason_from_string, "stop reason");
  r.started_at = s.column_text(5);
  r.ended_at = s.column_text(6);
  r.sites.total = static_cast<int>(s.column_int(7));
  r.sites.done = static_cast<int>(s.column_int(8));
  r.sites.incomplete = static_cast<int>(s.column_int(9));
  r.sites.error = static_cast<int>(s.column_int(10));
  r.sites.not_started = static_cast<int>(s.column_int(11));
  r.defects = static_cast<int>(s.column_int(12));
  r.graph_quiet_ms = s.column_optional_real(13);
  r.hardware_safe_ms = s.column_optional_real(14);
  r.message = s.column_text(15);
  r.owner_pid = s.column_int(16);
  r.set_path = s.column_text(17);
  r.graph_path = s.column_text(18);
  r.model_path = s.column_text(19);
  r.resumed_at = s.column_text(20);
  r.resume_count = static_cast<int>(s.column_int(21));
  r.sites.unreliable = static_cast<int>(s.column_int(22));
  return r;
}

std::optional<Polarity> polarity_from_string(std::string_view name) noexcept {
  if (name == to_string(Polarity::bright)) return Polarity::bright;
  if (name == to_string(Polarity::dark)) return Polarity::dark;
  return std::nullopt;
}

void recount(Database& db, RunId id) {
  Statement(db, kRecount)
      .bind_int(1, id)
      .bind_text(2, to_string(SiteStatus::done))
      .bind_text(3, to_string(SiteStatus::incomplete))
      .bind_text(4, to_string(SiteStatus::error))
      .bind_text(5, to_string(SiteStatus::not_started))
      .bind_text(6, to_string(SiteStatus::unreliable))
      .run();
}

void require_run_changed(const Database& db, RunId id, const char* operation) {
  if (db.changes() == 0) db.fail(operation, "no run " + std::to_string(id));
}

// A store whose pages fail SQLite's quick check takes no more writes (a new run, a resumed one):
// refused with what the check found and how to save what can be read.
void require_intact(Database& db) {
  Statement check(db, "PRAGMA quick_check(1)");
  const std::string first = check.step() ? check.column_text(0) : "no answer";
  if (first == "ok") return;
  throw StoreError(db.path() + ": the store is damaged (PRAGMA quick_check: " + first +
                   "); nothing more is written to it: save what can be read with `sqlite3 " +
                   db.path() + " .recover | sqlite3 NEW.db` and use a new store");
}

// The path a store is opened at, checked before SQLite sees it: a read never creates one, and a
// missing folder or a folder where the file should be is a usage error naming --db.
void check_store_path(const std::filesystem::path& path, StoreAccess access) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (std::filesystem::is_directory(status)) {
    throw ConfigError(path.string(), 0, "--db", "is a directory, not a results store");
  }
  if (access == StoreAccess::read && !std::filesystem::exists(status)) {
    throw ConfigError(path.string(), 0, "--db",
                      "no results store here (a command that only reads never creates one)");
  }
  const std::filesystem::path folder = folder_of(path);
  if (!std::filesystem::is_directory(folder, ec)) {
    throw ConfigError(path.string(), 0, "--db",
                      "its folder " + folder.string() + " does not exist");
  }
}

// Read-only; without locks or a -shm file when the file or its folder cannot be written (a
// read-only mount, a 0444 file), where a reader could not create them.
store::OpenMode read_mode(const std::filesystem::path& path) {
  return Store::writable(path) ? store::OpenMode::read_only : store::OpenMode::immutable;
}

// A read connection needs the schema this program reads; migrating is a write, left to a
// connection that may write (open_store_for_reading in the CLI does that first).
void require_current_schema(Database& db) {
  const std::int64_t version = db.query_int("PRAGMA user_version");
  if (version == store::kSchemaVersion) return;
  db.fail("schema", "the store is schema version " + std::to_string(version) +
                        "; this program reads version " + std::to_string(store::kSchemaVersion) +
                        (version < store::kSchemaVersion
                             ? ", and a store it cannot write cannot be migrated: copy it to a "
                               "writable place, or open it once with a command that writes"
                             : ""));
}

}  // namespace

struct Store::Impl {
  Impl(const std::filesystem::path& path, StoreAccess access)
      : db((check_store_path(path, access), path), kBusyTimeoutMs,
           access == StoreAccess::read ? read_mode(path) : store::OpenMode::create) {
    if (access == StoreAccess::read) {
      require_current_schema(db);
      return;
    }
    if (sqlite3_db_readonly(db.handle(), "main") == 1) {  // SQLite fell back to reading only
      throw ConfigError(path.string(), 0, "--db",
                        "cannot be written (a read-only file or mount): this command needs a "
                        "store it can write; the read commands (runs, show, export) work on it");
    }
    require_intact(db);
    open_pragmas(db);
    // Commits never run a WAL checkpoint themselves: see Checkpointer.
    checkpointer.emplace(path, kBusyTimeoutMs);
    checkpointer->attach(db.handle());
    store::ensure_schema(db);
  }
  Database db;
  std::optional<store::Checkpointer>
      checkpointer;  // after db: stopped before the connection closes
};

Store::Store(const std::filesystem::path& path, StoreAccess access)
    : impl_(std::make_unique<Impl>(path, access)) {}

Store::Store(Store&&) noexcept = default;

bool Store::writable(const std::filesystem::path& path) {
  const std::filesystem::path folder = folder_of(path);
  return ::access(path.c_str(), W_OK) == 0 && ::access(folder.c_str(), W_OK) == 0;
}

Store::~Store() = default;

namespace {

std::string joined_lines(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& n : names) text += n + "\n";
  return text;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> names;
  std::size_t start = 0;
  for (std::size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    names.push_back(text.substr(start, end - start));
  }
  return names;
}

void insert_run_inputs(Database& db, RunId id, const RunInputs& in) {
  Statement(db,
            "INSERT INTO run_inputs (run_id, recipe_text, recipe_hash, set_hash, graph_hash, "
            "model_hash, model_classes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
      .bind_int(1, id)
      .bind_text_static(2, in.recipe_text)  // a long recipe: not copied once more
      .bind_text(3, in.recipe_hash)
      .bind_text(4, in.set_hash)
      .bind_text(5, in.graph_hash)
      .bind_text(6, in.model_hash)
      .bind_text(7, joined_lines(in.model_classes))
      .run();
}

}  // namespace

std::optional<RunInputs> Store::run_inputs(RunId id) const {
  Statement s(impl_->db,
              "SELECT recipe_text, recipe_hash, set_hash, graph_hash, model_hash, model_classes "
              "FROM run_inputs WHERE run_id = ?1");
  s.bind_int(1, id);
  if (!s.step()) return std::nullopt;
  RunInputs in;
  in.recipe_text = s.column_text(0);
  in.recipe_hash = s.column_text(1);
  in.set_hash = s.column_text(2);
  in.graph_hash = s.column_text(3);
  in.model_hash = s.column_text(4);
  in.model_classes = split_lines(s.column_text(5));
  return in;
}

RunId Store::create_run(const RunRecord& run, const std::vector<SiteSpec>& sites,
                        const RunInputs& inputs) {
  Database& db = impl_->db;
  Transaction tx(db);
  const auto n = static_cast<std::int64_t>(sites.size());
  Statement(db,
            "INSERT INTO runs (recipe_name, recipe_path, state, stop_reason, started_at, "
            "sites_total, sites_not_started, message, owner_pid, set_path, graph_path, model_path) "
            "VALUES (?1, ?2, ?3, ?11, ?4, ?5, ?5, ?6, ?7, ?8, ?9, ?10)")
      .bind_text(1, run.recipe_name)
      .bind_text(2, run.recipe_path)
      .bind_text(3, to_string(RunState::starting))
      .bind_text(4, store::iso8601_utc_now())
      .bind_int(5, n)
      .bind_text(6, run.message)
      .bind_int(7, static_cast<std::int64_t>(::getpid()))
      .bind_text(8, run.set_path)
      .bind_text(9, run.graph_path)
      .bind_text(10, run.model_path)
      .bind_text(11, to_string(StopReason::none))
      .run();
  const RunId id = db.last_insert_rowid();
  insert_run_inputs(db, id, inputs);

  Statement insert(db,
                   "INSERT INTO sites (run_id, idx, name, die_i, die_j, x_um, y_um, status) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  for (const SiteSpec& s : sites) {
    insert.reset();
    insert.bind_int(1, id)
        .bind_int(2, s.index)
        .bind_text(3, s.name)
        .bind_int(4, s.die_i)
        .bind_int(5, s.die_j)
        .bind_real(6, s.x_um)
        .bind_real(7, s.y_um)
        .bind_text(8, to_string(SiteStatus::not_started))
        .run();
  }
  tx.commit();
  return id;
}

void Store::set_state(RunId id, RunState state, StopReason reason, const std::string& message) {
  Database& db = impl_->db;
  // Reason and message are kept unless given: a later transition must not erase why a run stopped.
  Statement(db,
            "UPDATE runs SET state = ?2, "
            "stop_reason = CASE WHEN ?3 = ?5 THEN stop_reason ELSE ?3 END, "
            "message = CASE WHEN ?4 = '' THEN message ELSE ?4 END "
            "WHERE id = ?1")
      .bind_int(1, id)
      .bind_text(2, to_string(state))
      .bind_text(3, to_string(reason))
      .bind_text(4, message)
      .bind_text(5, to_string(StopReason::none))
      .run();
  require_run_changed(db, id, "set_state");
}

namespace {

// The runs column that counts sites of `status`.
const char* count_column(SiteStatus status) {
  switch (status) {
    case SiteStatus::not_started:
      return "sites_not_started";
    case SiteStatus::done:
      return "sites_done";
    case SiteStatus::incomplete:
      return "sites_incomplete";
    case SiteStatus::error:
      return "sites_error";
    case SiteStatus::unreliable:
      return "sites_unreliable";
  }
  return "sites_error";
}

// What a site row held before it is stored again: its status (none if there was no row) and how
// many defects it kept.
struct StoredSite {
  std::optional<SiteStatus> status;
  std::int64_t defects = 0;
};

StoredSite stored_site(Database& db, RunId id, int idx) {
  Statement s(db,
              "SELECT status, (SELECT COUNT(*) FROM defects WHERE run_id = ?1 AND site_idx = ?2) "
              "FROM sites WHERE run_id = ?1 AND idx = ?2");
  s.bind_int(1, id).bind_int(2, idx);
  StoredSite out;
  if (!s.step()) return out;
  out.status = parse_enum<SiteStatus>(db, s.column_text(0), site_status_from_string, "site status");
  out.defects = s.column_int(1);
  return out;
}

void upsert_site(Database& db, RunId id, const SiteResult& site) {
  Statement(db,
            "INSERT INTO sites (run_id, idx, name, die_i, die_j, x_um, y_um, status, reason, "
            "align_dx, align_dy, align_confidence) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) "
            "ON CONFLICT (run_id, idx) DO UPDATE SET name = excluded.name, "
            "die_i = excluded.die_i, die_j = excluded.die_j, x_um = excluded.x_um, "
            "y_um = excluded.y_um, status = excluded.status, reason = excluded.reason, "
            "align_dx = excluded.align_dx, align_dy = excluded.align_dy, "
            "align_confidence = excluded.align_confidence")
      .bind_int(1, id)
      .bind_int(2, site.site.index)
      .bind_text(3, site.site.name)
      .bind_int(4, site.site.die_i)
      .bind_int(5, site.site.die_j)
      .bind_real(6, site.site.x_um)
      .bind_real(7, site.site.y_um)
      .bind_text(8, to_string(site.status))
      .bind_text(9, site.reason)
      .bind_int(10, site.align_dx)
      .bind_int(11, site.align_dy)
      .bind_real(12, site.align_confidence)
      .run();
}

// Replaces the defects of site `idx` with `defects`; returns the ids they were stored under.
std::vector<int> replace_defects(Database& db, RunId id, int idx,
                                 const std::vector<Defect>& defects) {
  // Re-storing a site (a resumed run) replaces its defects; it never adds a second copy.
  Statement(db, "DELETE FROM defects WHERE run_id = ?1 AND site_idx = ?2")
      .bind_int(1, id)
      .bind_int(2, idx)
      .run();
  Statement next(db, "SELECT COALESCE(MAX(id), 0) + 1 FROM defects WHERE run_id = ?1");
  next.bind_int(1, id);
  next.step();
  auto next_id = next.column_int(0);
  std::vector<int> ids;
  ids.reserve(defects.size());
  Statement insert(db,
                   "INSERT INTO defects (run_id, id, site_idx, x, y, w, h, area_px, centroid_x, "
                   "centroid_y, elongation, fill, polarity, contrast, max_contrast, class_name, "
                   "confidence) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
                   "?14, ?15, ?16, ?17)");
  for (const Defect& d : defects) {
    const BlobFeatures& f = d.features;
    insert.reset();
    insert.bind_int(1, id)
        .bind_int(2, next_id)
        .bind_int(3, idx)
        .bind_int(4, f.bbox.x)
        .bind_int(5, f.bbox.y)
        .bind_int(6, f.bbox.width)
        .bind_int(7, f.bbox.height)
        .bind_int(8, f.area_px)
        .bind_real(9, f.centroid.x)
        .bind_real(10, f.centroid.y)
        .bind_real(11, f.elongation)
        .bind_real(12, f.fill)
        .bind_text(13, to_string(f.polarity))
        .bind_real(14, f.contrast)
        .bind_real(15, f.max_contrast)
        .bind_text(16, d.class_name)
        .bind_real(17, d.confidence)
        .run();
    ids.push_back(static_cast<int>(next_id++));
  }
  return ids;
}

// Moves the run's counts from what the site held to what it holds now: constant work per site,
// however many sites the run has (a full recount is for the run's start and end).
void adjust_counts(Database& db, RunId id, const StoredSite& was, SiteStatus now,
                   std::int64_t defects) {
  std::string sql = "UPDATE runs SET defects = defects + ?2";
  if (!was.status) {
    sql += ", sites_total = sites_total + 1";
  } else if (*was.status != now) {
    const std::string old_column = count_column(*was.status);
    sql += ", " + old_column + " = " + old_column + " - 1";
  }
  if (!was.status || *was.status != now) {
    const std::string new_column = count_column(now);
    sql += ", " + new_column + " = " + new_column + " + 1";
  }
  sql += " WHERE id = ?1";
  Statement(db, sql.c_str()).bind_int(1, id).bind_int(2, defects - was.defects).run();
}

}  // namespace

void Store::store_site(RunId id, SiteResult& site) {
  Database& db = impl_->db;
  Transaction tx(db);
  const StoredSite was = stored_site(db, id, site.site.index);
  upsert_site(db, id, site);
  // Ids go into a copy and reach `site` only after the commit: a failed store leaves it as it was.
  const std::vector<int> ids = replace_defects(db, id, site.site.index, site.defects);
  adjust_counts(db, id, was, site.status, static_cast<std::int64_t>(ids.size()));
  tx.commit();
  for (std::size_t k = 0; k < ids.size(); ++k) site.defects[k].id = ids[k];
}

void Store::finish_run(RunId id, RunState state, StopReason reason,
                       std::optional<double> graph_quiet_ms, std::optional<double> hardware_safe_ms,
                       const std::string& message) {
  Database& db = impl_->db;
  if (!is_terminal(state)) {
    db.fail("finish_run", "state " + std::string(to_string(state)) + " is not terminal");
  }
  Transaction tx(db);
  Statement(db,
            "UPDATE runs SET state = ?2, stop_reason = ?3, graph_quiet_ms = ?4, "
            "hardware_safe_ms = ?5, ended_at = ?6, "
            "message = CASE WHEN ?7 = '' THEN message ELSE ?7 END WHERE id = ?1")
      .bind_int(1, id)
      .bind_text(2, to_string(state))
      .bind_text(3, to_string(reason))
      .bind_real(4, graph_quiet_ms)
      .bind_real(5, hardware_safe_ms)
      .bind_text(6, store::iso8601_utc_now())
      .bind_text(7, message)
      .run();
  require_run_changed(db, id, "finish_run");
  recount(db, id);
  tx.commit();
  // The run is over: a checkpoint still running finishes now, so that no thread or file
  // descriptor of the store outlives the run.
  if (impl_->checkpointer) impl_->checkpointer->drain();
}

std::vector<SiteSpec> Store::resume_run(RunId id) {
  Database& db = impl_->db;
  Transaction tx(db);
  {
    Statement state(db, "SELECT state FROM runs WHERE id = ?1");
    state.bind_int(1, id);
    if (!state.step()) db.fail("resume_run", "no run " + std::to_string(id));
    const std::string name = state.column_text(0);
    const auto s = run_state_from_string(name);
    if (s == RunState::starting || s == RunState::running || s == RunState::stopping) {
      throw RunBusy(db.path() + ": run " + std::to_string(id) + " is " + name +
                    " in another process: a run is resumed by one process at a time");
    }
    if (!s || !is_legal_transition(*s, RunState::starting) || *s == RunState::idle) {
      db.fail("resume_run", "run " + std::to_string(id) + " is " + name +
                                "; only a Canceled or Interrupted run can be resumed");
    }
  }
  // A site that is not done keeps no defects (the store guarantees it), but be certain: a resumed
  // site must never add a second copy of anything.
  Statement(db,
            "DELETE FROM defects WHERE run_id = ?1 AND site_idx IN "
            "(SELECT idx FROM sites WHERE run_id = ?1 AND status != ?2)")
      .bind_int(1, id)
      .bind_text(2, to_string(SiteStatus::done))
      .run();
  Statement(db,
            "UPDATE sites SET status = ?3, reason = '', align_dx = 0, align_dy = 0, "
            "align_confidence = 0 WHERE run_id = ?1 AND status != ?2")
      .bind_int(1, id)
      .bind_text(2, to_string(SiteStatus::done))
      .bind_text(3, to_string(SiteStatus::not_started))
      .run();
  Statement(db,
            "UPDATE runs SET state = ?2, stop_reason = ?5, message = '', ended_at = NULL, "
            "graph_quiet_ms = NULL, hardware_safe_ms = NULL, resumed_at = ?3, "
            "resume_count = resume_count + 1, owner_pid = ?4 WHERE id = ?1")
      .bind_int(1, id)
      .bind_text(2, to_string(RunState::starting))
      .bind_text(3, store::iso8601_utc_now())
      .bind_int(4, static_cast<std::int64_t>(::getpid()))
      .bind_text(5, to_string(StopReason::none))
      .run();
  recount(db, id);
  std::vector<SiteSpec> again;
  Statement s(db,
              "SELECT idx, name, die_i, die_j, x_um, y_um FROM sites "
              "WHERE run_id = ?1 AND status = ?2 ORDER BY idx");
  s.bind_int(1, id).bind_text(2, to_string(SiteStatus::not_started));
  while (s.step()) {
    SiteSpec site;
    site.index = static_cast<int>(s.column_int(0));
    site.name = s.column_text(1);
    site.die_i = static_cast<int>(s.column_int(2));
    site.die_j = static_cast<int>(s.column_int(3));
    site.x_um = s.column_real(4);
    site.y_um = s.column_real(5);
    again.push_back(std::move(site));
  }
  tx.commit();
  return again;
}

void Store::append_event(RunId id, const std::string& type, const std::string& json) {
  Statement(impl_->db, "INSERT INTO run_events (run_id, t, type, json) VALUES (?1, ?2, ?3, ?4)")
      .bind_int(1, id)
      .bind_text(2, store::iso8601_utc_now())
      .bind_text(3, type)
      .bind_text(4, json)
      .run();
}

std::optional<RunRecord> Store::run(RunId id) const {
  const Database& db = impl_->db;
  Statement s(impl_->db, std::string("SELECT ") + kRunColumns + " FROM runs WHERE id = ?1");
  s.bind_int(1, id);
  if (!s.step()) return std::nullopt;
  return read_run_row(db, s);
}

std::vector<RunRecord> Store::runs() const {
  const Database& db = impl_->db;
  Statement s(impl_->db, std::string("SELECT ") + kRunColumns + " FROM runs ORDER BY id");
  std::vector<RunRecord> out;
  while (s.step()) out.push_back(read_run_row(db, s));
  return out;
}

std::vector<SiteResult> Store::sites(RunId id) const {
  Database& db = impl_->db;
  // One read transaction so sites and defects come from the same snapshot.
  store::ReadTransaction snapshot(db);

  std::vector<SiteResult> out;
  std::map<int, std::size_t> by_index;
  Statement s(db,
              "SELECT idx, name, die_i, die_j, x_um, y_um, status, reason, align_dx, align_dy, "
              "align_confidence FROM sites WHERE run_id = ?1 ORDER BY idx");
  s.bind_int(1, id);
  while (s.step()) {
    SiteResult r;
    r.site.index = static_cast<int>(s.column_int(0));
    r.site.name = s.column_text(1);
    r.site.die_i = static_cast<int>(s.column_int(2));
    r.site.die_j = static_cast<int>(s.column_int(3));
    r.site.x_um = s.column_real(4);
    r.site.y_um = s.column_real(5);
    r.status = parse_enum<SiteStatus>(db, s.column_text(6), site_status_from_string, "site status");
    r.reason = s.column_text(7);
    r.align_dx = static_cast<int>(s.column_int(8));
    r.align_dy = static_cast<int>(s.column_int(9));
    r.align_confidence = s.column_real(10);
    by_index[r.site.index] = out.size();
    out.push_back(std::move(r));
  }

  Statement d(db,
              "SELECT id, site_idx, x, y, w, h, area_px, centroid_x, centroid_y, elongation, "
              "fill, polarity, contrast, max_contrast, class_name, confidence "
              "FROM defects WHERE run_id = ?1 ORDER BY site_idx, id");
  d.bind_int(1, id);
  while (d.step()) {
    Defect def;
    def.id = static_cast<int>(d.column_int(0));
    const int site_idx = static_cast<int>(d.column_int(1));
    BlobFeatures& f = def.features;
    f.bbox = cv::Rect(static_cast<int>(d.column_int(2)), static_cast<int>(d.column_int(3)),
                      static_cast<int>(d.column_int(4)), static_cast<int>(d.column_int(5)));
    f.area_px = static_cast<int>(d.column_int(6));
    f.centroid = cv::Point2d(d.column_real(7), d.column_real(8));
    f.elongation = d.column_real(9);
    f.fill = d.column_real(10);
    f.polarity = parse_enum<Polarity>(db, d.column_text(11), polarity_from_string, "polarity");
    f.contrast = d.column_real(12);
    f.max_contrast = d.column_real(13);
    def.class_name = d.column_text(14);
    def.confidence = d.column_real(15);
    // The foreign key guarantees the site row exists.
    out[by_index.at(site_idx)].defects.push_back(std::move(def));
  }
  return out;
}

std::map<std::string, int> Store::count_defects_by_class(RunId id) const {
  Statement s(impl_->db,
              "SELECT class_name, COUNT(*) FROM defects WHERE run_id = ?1 GROUP BY class_name");
  s.bind_int(1, id);
  std::map<std::string, int> out;
  while (s.step()) out[s.column_text(0)] = static_cast<int>(s.column_int(1));
  return out;
}

SiteCounts Store::count_sites(RunId id) const {
  Statement s(impl_->db, "SELECT status, COUNT(*) FROM sites WHERE run_id = ?1 GROUP BY status");
  s.bind_int(1, id);
  SiteCounts c;
  while (s.step()) {
    const int n = static_cast<int>(s.column_int(1));
    c.total += n;
    switch (parse_enum<SiteStatus>(impl_->db, s.column_text(0), site_status_from_string,
                                   "site status")) {
      case SiteStatus::not_started:
        c.not_started += n;
        break;
      case SiteStatus::done:
        c.done += n;
        break;
      case SiteStatus::incomplete:
        c.incomplete += n;
        break;
      case SiteStatus::error:
        c.error += n;
        break;
      case SiteStatus::unreliable:
        c.unreliable += n;
        break;
    }
  }
  return c;
}

void Store::record_fault(const std::string& device, const std::string& reason, RunId run) {
  Statement(impl_->db,
            "INSERT INTO hardware_faults (device, reason, since, run_id) VALUES (?1, ?2, ?3, ?4) "
            "ON CONFLICT (device) DO UPDATE SET reason = excluded.reason, since = excluded.since, "
            "run_id = excluded.run_id")
      .bind_text(1, device)
      .bind_text(2, reason)
      .bind_text(3, store::iso8601_utc_now())
      .bind_int(4, run)
      .run();
}

std::vector<DeviceFault> Store::faults() const {
  std::vector<DeviceFault> out;
  Statement s(impl_->db,
              "SELECT device, reason, since, run_id FROM hardware_faults ORDER BY device");
  while (s.step()) {
    out.push_back({s.column_text(0), s.column_text(1), s.column_text(2), s.column_int(3)});
  }
  return out;
}

int Store::reset_faults(const std::string& who) {
  Database& db = impl_->db;
  Transaction tx(db);
  Statement(db,
            "INSERT INTO hardware_resets (device, reason, reset_by, reset_at) "
            "SELECT device, reason, ?1, ?2 FROM hardware_faults")
      .bind_text(1, who)
      .bind_text(2, store::iso8601_utc_now())
      .run();
  Statement(db, "DELETE FROM hardware_faults").run();
  const int n = db.changes();
  tx.commit();
  return n;
}

void Store::set_run_owner(RunId id, const std::string& lock_path) {
  Statement(impl_->db, "INSERT OR REPLACE INTO run_owners (run_id, lock_path) VALUES (?1, ?2)")
      .bind_int(1, id)
      .bind_text(2, lock_path)
      .run();
}

std::vector<std::pair<RunId, std::string>> Store::unfinished_runs() const {
  std::vector<std::pair<RunId, std::string>> out;
  Statement s(impl_->db,
              "SELECT r.id, COALESCE(o.lock_path, '') FROM runs r "
              "LEFT JOIN run_owners o ON o.run_id = r.id "
              "WHERE r.state IN (?1, ?2, ?3) ORDER BY r.id");
  bind_unfinished_states(s);
  while (s.step()) out.emplace_back(s.column_int(0), s.column_text(1));
  return out;
}

void Store::mark_interrupted(RunId id, const std::string& message) {
  Statement s(impl_->db,
              "UPDATE runs SET state = ?4, message = ?5, ended_at = ?6 "
              "WHERE id = ?7 AND state IN (?1, ?2, ?3)");
  bind_unfinished_states(s)
      .bind_text(4, to_string(RunState::interrupted))
      .bind_text(5, message)
      .bind_text(6, store::iso8601_utc_now())
      .bind_int(7, id)
      .run();
}

}  // namespace ws
