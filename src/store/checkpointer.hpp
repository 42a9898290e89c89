// WAL checkpoints on a thread of their own, so that no commit waits for one.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

struct sqlite3;

namespace ws::store {

class Database;

/// Runs SQLite's passive WAL checkpoint, which copies committed pages from the write-ahead log
/// into the database file and syncs both, on a background thread with its own connection.
///
/// Why: SQLite's automatic checkpoint runs inside the commit that takes the WAL past 1000 pages.
/// On the VM this was measured on, that commit took 4-8 ms instead of well under one, about once
/// in a hundred site writes; the site writes run on the graph's publish node, and an abort that
/// lands during one waits for it: the largest part of the abort latency's tail (p99 5.02 ms in
/// one benchmark run; 1.9-3.2 ms in the runs with this class, maxima 7 ms without it and 3-4.5 ms
/// with it). attach() replaces the automatic checkpoint of a connection
/// by a request to this thread: what is checkpointed, how (passive: never waits for readers or
/// writers) and when (the same 1000 pages) are unchanged, so is durability (synchronous=NORMAL
/// syncs the WAL at checkpoints either way); only the thread that pays for it moves.
///
/// The thread lives only while there is work: a commit that crosses the threshold starts it, it
/// checkpoints until no request is left and ends. drain() waits for that and joins it, so that
/// afterwards the store holds no extra thread (the store drains at the end of every run). Its
/// connection is opened by attach() and kept: a fixed two or three file descriptors per store.
///
/// If the thread cannot open its connection or a checkpoint fails for a reason other than a busy
/// database, the connection's own commits run the checkpoint again, as SQLite's automatic
/// checkpoint would (failed() says so). Thread safety: attach() and drain() from the
/// connection's thread (the hook runs on whichever thread commits); the counters from any.
class Checkpointer {
 public:
  /// WAL size, in pages, from which a commit asks for a checkpoint (SQLite's default).
  static constexpr int kPages = 1000;

  explicit Checkpointer(std::filesystem::path path, int busy_timeout_ms);
  /// Removes the hook from the attached connection (call on its thread, before closing it) and
  /// stops the thread after the checkpoint it runs, if any (the connection's close checkpoints).
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  /// Opens the thread's own connection and installs the commit hook on `db` (a connection to
  /// this file, already in WAL mode), which turns off its automatic checkpoint.
  void attach(sqlite3* db);

  /// Waits until no checkpoint is requested or running and the thread has ended.
  void drain();

  /// Checkpoints run by the thread so far.
  [[nodiscard]] std::int64_t checkpoints() const;
  /// True once the thread gave up; commits then checkpoint themselves. last_error() says why.
  [[nodiscard]] bool failed() const;
  [[nodiscard]] std::string last_error() const;

 private:
  void on_commit(sqlite3* db, int wal_pages);
  void run();

  std::filesystem::path path_;
  int busy_timeout_ms_;
  sqlite3* attached_ = nullptr;
  std::unique_ptr<Database> own_;  // the thread's connection; null if it could not be opened
  mutable std::mutex mutex_;
  std::condition_variable idle_;
  bool requested_ = false;
  bool active_ = false;  // the thread is in run()
  bool quit_ = false;
  bool failed_ = false;
  std::int64_t checkpoints_ = 0;
  std::string last_error_;
  std::thread thread_;  // started by a request when not active_, joined by the next or drain()
};

}  // namespace ws::store
