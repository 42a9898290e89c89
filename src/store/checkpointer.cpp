#include "store/checkpointer.hpp"

#include "store/sqlite.hpp"

#include <sqlite3.h>

#include <exception>
#include <memory>
#include <utility>

namespace ws::store {

Checkpointer::Checkpointer(std::filesystem::path path, int busy_timeout_ms)
    : path_(std::move(path)), busy_timeout_ms_(busy_timeout_ms) {}

Checkpointer::~Checkpointer() {
  if (attached_ != nullptr) sqlite3_wal_hook(attached_, nullptr, nullptr);
  {
    const std::lock_guard lock(mutex_);
    quit_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Checkpointer::attach(sqlite3* db) {
  attached_ = db;
  sqlite3_wal_hook(
      db,
      [](void* self, sqlite3* connection, const char* /*schema*/, int pages) {
        static_cast<Checkpointer*>(self)->on_commit(connection, pages);
        return SQLITE_OK;
      },
      this);
}

void Checkpointer::on_commit(sqlite3* db, int wal_pages) {
  if (wal_pages < kPages) return;
  std::unique_lock lock(mutex_);
  if (failed_) {
    lock.unlock();
    // What SQLite's automatic checkpoint does; a busy database is tried again at the next commit.
    sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    return;
  }
  if (quit_) return;
  requested_ = true;
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  lock.unlock();
  wake_.notify_one();
}

void Checkpointer::run() {
  std::unique_lock lock(mutex_);
  const auto give_up = [&](std::string why) {
    failed_ = true;
    requested_ = false;
    running_ = false;
    last_error_ = std::move(why);
    idle_.notify_all();
  };
  std::unique_ptr<Database> db;
  try {
    lock.unlock();
    db = std::make_unique<Database>(path_, busy_timeout_ms_);
    // A new connection knows the file is in WAL mode only once it has read it; until then a
    // checkpoint does nothing at all.
    const std::string mode = db->query_text("PRAGMA journal_mode");
    if (mode != "wal") throw StoreError(path_.string() + ": journal mode is '" + mode + "'");
    lock.lock();
  } catch (const std::exception& e) {
    lock.lock();
    give_up(e.what());
    return;
  }
  for (;;) {
    wake_.wait(lock, [&] { return requested_ || quit_; });
    if (quit_) break;
    requested_ = false;
    running_ = true;
    lock.unlock();
    const int rc = sqlite3_wal_checkpoint_v2(db->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                             nullptr, nullptr);
    const std::string message =
        rc == SQLITE_OK || rc == SQLITE_BUSY ? std::string() : sqlite3_errmsg(db->handle());
    lock.lock();
    running_ = false;
    if (!message.empty()) {
      give_up(path_.string() + ": background WAL checkpoint: " + message);
      return;
    }
    if (rc == SQLITE_OK) ++checkpoints_;
    if (!requested_) idle_.notify_all();
  }
  running_ = false;
  idle_.notify_all();
}

void Checkpointer::drain() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [&] { return (!requested_ && !running_) || failed_ || quit_; });
}

std::int64_t Checkpointer::checkpoints() const {
  const std::lock_guard lock(mutex_);
  return checkpoints_;
}

bool Checkpointer::failed() const {
  const std::lock_guard lock(mutex_);
  return failed_;
}

std::string Checkpointer::last_error() const {
  const std::lock_guard lock(mutex_);
  return last_error_;
}

}  // namespace ws::store
