// One machine, one owner: a process that drives the machine (a run, a resume, `hardware reset`)
// holds its lock for as long as it does; a second process is refused, clearly, at once.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ws {

/// The machine is held by another process. what() names the lock file and its holder.
class MachineBusy : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The lock file of the machine called `machine`: $WAFERSCAN_MACHINE_LOCK when set, otherwise
/// /run/lock/waferscan-MACHINE.lock (the system's lock directory), or the same name in the
/// temporary directory when /run/lock is not writable.
std::filesystem::path machine_lock_path(std::string_view machine);

/// An exclusive flock(2) on the lock file, held until destruction; the kernel releases it when
/// the process dies, however it dies, so no stale lock is ever left to clear. The file keeps the
/// holder's pid, command and start time, for the refusal's message; it is never removed (removing
/// a lock file races with the next process locking it).
/// Thread safety: immutable after construction.
class MachineLock {
 public:
  /// Throws MachineBusy when another process (or another MachineLock of this one) holds it, and
  /// std::runtime_error when the file cannot be opened.
  MachineLock(const std::filesystem::path& path, std::string_view command);
  ~MachineLock();
  MachineLock(const MachineLock&) = delete;
  MachineLock& operator=(const MachineLock&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

}  // namespace ws
