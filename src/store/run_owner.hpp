// Crash detection: a running process holds an exclusive lock on its own lock file; a run whose
// owner's lock can be taken (or whose lock file is gone) belongs to a dead process.
#pragma once

#include "waferscan/store.hpp"

#include <filesystem>
#include <iosfwd>
#include <string>

namespace ws {

/// Held by a process for as long as it may own runs in the store at `db`. The lock file lives in
/// `<db>.owners/`; the kernel releases the lock when the process dies, however it dies.
/// Thread safety: immutable after construction.
class RunOwnerLock {
 public:
  explicit RunOwnerLock(const std::filesystem::path& db);
  ~RunOwnerLock();
  RunOwnerLock(const RunOwnerLock&) = delete;
  RunOwnerLock& operator=(const RunOwnerLock&) = delete;
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
};

/// Marks Interrupted every unfinished run whose owning process is gone; runs still owned by a
/// live process (this one included) are left alone. Returns the ids marked.
std::vector<RunId> recover_interrupted_runs(Store& store);

/// The store of a command that only reads (runs, show, export, score, hardware status): never
/// created. When there are repairs to make (an older schema to migrate, runs of dead processes to
/// mark Interrupted) and this process can write the file, a write connection makes them first; if
/// it cannot (a damaged or busy store), `warn` says so and the store is read as it is. The store is
/// then read through a read-only connection, so it works on a 0444 file or a read-only mount.
/// @throws ConfigError naming --db when there is no store at `db`.
Store open_store_for_reading(const std::filesystem::path& db, std::ostream& warn);

}  // namespace ws
