#include "store/run_owner.hpp"

#include <ostream>

#include "waferscan/error.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

namespace ws {

namespace {

// The lock files of dead processes (a process killed after it wrote its final state leaves its
// file behind): removed when their process is gone (by pid) and their lock can be taken. Both
// tests, so that a live process's file is never removed in the moment between its open and its
// flock.
void sweep_dead_owners(const std::filesystem::path& dir, const std::string& mine) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".lock" || entry.path().string() == mine) continue;
    char* end = nullptr;
    const long pid = std::strtol(name.c_str(), &end, 10);
    if (end == name.c_str() || *end != '-' || pid <= 0) continue;  // not one of ours
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    const int fd = ::open(entry.path().c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) continue;
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) ::unlink(entry.path().c_str());
    ::close(fd);
  }
}

}  // namespace

RunOwnerLock::RunOwnerLock(const std::filesystem::path& db) {
  std::filesystem::path dir = db;
  dir += ".owners";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
  path_ = (dir / (std::to_string(::getpid()) + "-" + std::to_string(stamp) + ".lock")).string();
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0 || ::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    throw StoreError("cannot create the run owner lock " + path_ + ": " + std::strerror(errno));
  }
  sweep_dead_owners(dir, path_);
}

RunOwnerLock::~RunOwnerLock() {
  if (fd_ >= 0) {
    ::unlink(path_.c_str());
    ::close(fd_);
  }
}

namespace {
// True if the lock file's owner is provably gone: the file is missing, or its lock can be taken.
bool owner_gone(const std::string& lock_path, std::int64_t pid) {
  if (lock_path.empty()) {
    // Crashed between creating the run and recording its lock: fall back to the pid.
    return pid <= 0 || (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH);
  }
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT;
  const bool gone = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
  if (gone) ::unlink(lock_path.c_str());
  ::close(fd);
  return gone;
}
}  // namespace

namespace {

// The unfinished runs whose owning process is gone: what recover_interrupted_runs marks.
std::vector<RunRecord> dead_runs(const Store& store) {
  std::vector<RunRecord> dead;
  for (const auto& [id, lock_path] : store.unfinished_runs()) {
    auto run = store.run(id);
    if (run && owner_gone(lock_path, run->owner_pid)) dead.push_back(std::move(*run));
  }
  return dead;
}

// Whether a write connection has repairs to make: a dead process's run to mark, or a schema
// older than this program's (the read connection refuses it).
bool repairs_due(const std::filesystem::path& db) {
  try {
    return !dead_runs(Store(db, StoreAccess::read)).empty();
  } catch (const StoreError&) {
    return true;  // an older schema, or a file SQLite cannot read: the writer says what it is
  }
}

}  // namespace

std::vector<RunId> recover_interrupted_runs(Store& store) {
  std::vector<RunId> marked;
  for (const RunRecord& run : dead_runs(store)) {
    store.mark_interrupted(run.id, "the process running it (pid " + std::to_string(run.owner_pid) +
                                       ") died; resume it with `waferscan resume " +
                                       std::to_string(run.id) + "`");
    marked.push_back(run.id);
  }
  return marked;
}

Store open_store_for_reading(const std::filesystem::path& db, std::ostream& warn) {
  std::error_code ec;
  // The write connection (and its quick check) only when there is something to repair.
  if (std::filesystem::exists(db, ec) && Store::writable(db) && repairs_due(db)) {
    try {
      Store writer(db, StoreAccess::write);
      recover_interrupted_runs(writer);
    } catch (const StoreError& e) {
      warn << "warning: " << e.what() << " (reading the store as it is)" << std::endl;
    }
  }
  return Store(db, StoreAccess::read);  // refuses a missing store, naming --db
}

}  // namespace ws
