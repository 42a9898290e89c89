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
  if (thread_.joinable()) thread_.join();
}

void Checkpointer::attach(sqlite3* db) {
  // The thread's connection is opened here, once: SQLite keeps a closed connection's file
  // descriptor open while another connection of the process holds locks on the file, so one
  // opened per checkpoint would leave a descriptor behind each time.
  try {
    auto own = std::make_unique<Database>(path_, busy_timeout_ms_);
    // A new connection knows the file is in WAL mode only once it has read it; until then a
    // checkpoint does nothing at all.
    const std::string mode = own->query_text("PRAGMA journal_mode");
    if (mode != "wal") throw StoreError(path_.string() + ": journal mode is '" + mode + "'");
    own_ = std::move(own);
  } catch (const std::exception& e) {
    const std::lock_guard lock(mutex_);
    failed_ = true;
    last_error_ = e.what();
  }
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
  if (active_) return;  // run() sees the request before it leaves: both hold mutex_
  // The previous thread, if any, has left run() (active_ is false): the join does not wait.
  if (thread_.joinable()) thread_.join();
  active_ = true;
  thread_ = std::thread([this] { run(); });
}

void Checkpointer::run() {
  std::unique_lock lock(mutex_);
  while (requested_ && !quit_) {
    requested_ = false;
    lock.unlock();
    int wal_frames = 0;
    const int rc = sqlite3_wal_checkpoint_v2(own_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                             &wal_frames, nullptr);
    std::string message;
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      message = path_.string() + ": background WAL checkpoint: " + sqlite3_errmsg(own_->handle());
    } else if (rc == SQLITE_OK && wal_frames < 0) {
      // SQLite's answer for a connection that does not see the file in WAL mode: nothing was
      // checkpointed, and nothing would be.
      message = path_.string() + ": background WAL checkpoint: the connection is not in WAL mode";
    }
    lock.lock();
    if (!message.empty()) {
      failed_ = true;
      requested_ = false;
      last_error_ = message;
      break;
    }
    if (rc == SQLITE_OK) ++checkpoints_;
  }
  active_ = false;
  idle_.notify_all();
}

void Checkpointer::drain() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [&] { return !active_; });
  std::thread finished = std::move(thread_);
  lock.unlock();
  if (finished.joinable()) finished.join();
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
