#include "hardware/machine_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

namespace ws {

namespace {

std::string now_utc() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// What the holder wrote into the file ("pid 123, `waferscan run`, since ..."), one line.
std::string holder_of(int fd) {
  char buf[256] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  std::string text(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.pop_back();
  return text.empty() ? std::string("another process") : text;
}

}  // namespace

std::filesystem::path machine_lock_path(std::string_view machine) {
  if (const char* env = std::getenv("WAFERSCAN_MACHINE_LOCK"); env != nullptr && *env != '\0') {
    return env;
  }
  const std::string name = "waferscan-" + std::string(machine) + ".lock";
  if (::access("/run/lock", W_OK | X_OK) == 0) return std::filesystem::path("/run/lock") / name;
  std::error_code ec;
  const auto tmp = std::filesystem::temp_directory_path(ec);
  return (ec ? std::filesystem::path("/tmp") : tmp) / name;
}

MachineLock::MachineLock(const std::filesystem::path& path, std::string_view command)
    : path_(path) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd_ < 0) {
    throw std::runtime_error("cannot open the machine lock " + path.string() + ": " +
                             std::strerror(errno));
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    const std::string holder = holder_of(fd_);
    ::close(fd_);
    fd_ = -1;
    if (err != EWOULDBLOCK) {
      throw std::runtime_error("cannot lock the machine lock " + path.string() + ": " +
                               std::strerror(err));
    }
    throw MachineBusy("the machine is in use by " + holder + " (lock " + path.string() +
                      "): one machine, one owner; wait for it to finish or stop it");
  }
  const std::string me = "pid " + std::to_string(::getpid()) + ", `waferscan " +
                         std::string(command) + "`, since " + now_utc() + "\n";
  if (::ftruncate(fd_, 0) == 0) (void)::pwrite(fd_, me.data(), me.size(), 0);
}

MachineLock::~MachineLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

}  // namespace ws
