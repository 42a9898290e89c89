#include "base/output_file.hpp"

#include "waferscan/error.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace ws {

namespace fs = std::filesystem;

namespace {

fs::path normal_absolute(const fs::path& p) {
  std::error_code ec;
  fs::path a = fs::absolute(p, ec);
  if (ec) a = p;
  return a.lexically_normal();
}

// fsync of a file or folder by path; false when it could not be synced.
bool sync_path(const fs::path& p, int flags) {
  const int fd = ::open(p.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

fs::path folder_of(const fs::path& target) {
  return target.has_parent_path() ? target.parent_path() : fs::path(".");
}

std::optional<FileId> file_id(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return FileId{st.st_dev, st.st_ino};
}

void ProtectedFiles::add(const fs::path& path, const std::string& what) {
  if (path.empty()) return;
  entries_.push_back({path, normal_absolute(path), file_id(path), what});
}

void ProtectedFiles::add_store(const fs::path& path) {
  add(path, "the results store");
  for (const char* companion : {"-wal", "-shm", "-journal"}) {
    add(fs::path(path.string() + companion), "the results store's " + std::string(companion + 1));
  }
}

void ProtectedFiles::check(const fs::path& out, const std::string& key) const {
  const auto id = file_id(out);
  const fs::path normal = normal_absolute(out);
  for (const auto& e : entries_) {
    const bool same = (id && e.id) ? *id == *e.id : normal == e.normal;
    if (same) {
      throw ConfigError(out.string(), 0, key,
                        "is " + e.what + " (" + e.path.string() +
                            "): an output is never written over it; choose another path");
    }
  }
}

fs::path temporary_beside(const fs::path& target, const std::string& extension) {
  static std::atomic<unsigned> counter{0};
  std::string name = ".";  // built by appending: GCC 12 warns (-Wrestrict) on "." + s
  name += target.filename().string();
  name += ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(++counter) + extension;
  return folder_of(target) / name;
}

bool is_stream_target(const fs::path& target) {
  std::error_code ec;
  const auto status = fs::status(target, ec);
  return fs::is_fifo(status) || fs::is_character_file(status) || fs::is_socket(status);
}

void check_output_target(const fs::path& target, const std::string& key, Overwrite overwrite) {
  std::error_code ec;
  const auto status = fs::status(target, ec);
  if (fs::is_directory(status)) throw ConfigError(target.string(), 0, key, "is a directory");
  if (fs::exists(status) && overwrite == Overwrite::refuse) {
    throw ConfigError(target.string(), 0, key,
                      "exists: refusing to replace it (--force replaces it, atomically)");
  }
  if (!fs::is_directory(folder_of(target), ec)) {
    throw ConfigError(target.string(), 0, key,
                      "its folder " + folder_of(target).string() + " does not exist");
  }
}

AtomicFile::AtomicFile(fs::path target, std::string key, Overwrite overwrite)
    : target_(std::move(target)), key_(std::move(key)) {
  check_output_target(target_, key_, overwrite);
  temp_ = temporary_beside(target_);
  out_.open(temp_, std::ios::out | std::ios::binary | std::ios::trunc);
  if (!out_) {
    const std::string why = std::strerror(errno);
    throw ConfigError(target_.string(), 0, key_,
                      "cannot open a temporary file beside it for writing: " + why);
  }
}

AtomicFile::~AtomicFile() {
  if (committed_) return;
  out_.close();
  std::error_code ec;
  fs::remove(temp_, ec);
}

void AtomicFile::commit() {
  out_.flush();
  const bool written = static_cast<bool>(out_);
  out_.close();
  if (!written || out_.fail() || !sync_path(temp_, O_RDONLY)) {
    std::error_code ec;
    fs::remove(temp_, ec);
    throw OutputError(target_.string() + ": " + key_ +
                      ": write failed (a full disk or an I/O error); the file at this path, if "
                      "any, is untouched");
  }
  rename_into_place(temp_, target_, key_);
  committed_ = true;
}

void rename_into_place(const fs::path& temp, const fs::path& target, const std::string& key) {
  std::error_code ec;
  fs::rename(temp, target, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    throw OutputError(target.string() + ": " + key + ": cannot rename the written file into " +
                      "place: " + ec.message() + "; the file at this path, if any, is untouched");
  }
  (void)sync_path(folder_of(target), O_RDONLY | O_DIRECTORY);  // the rename itself, durable
}

void write_file_atomically(const fs::path& target, const std::string& key, const std::string& text,
                           Overwrite overwrite) {
  AtomicFile file(target, key, overwrite);
  file.stream() << text;
  file.commit();
}

}  // namespace ws
