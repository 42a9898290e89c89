// A small tmpfs mounted on a test's folder, when this process may mount (root with
// CAP_SYS_ADMIN, as in CI): a disk that fills up (FullDisk) or turns read-only. Tests skip their
// case, saying why, when none can be mounted.
#pragma once

#include <sys/mount.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace ws::testing {

class Tmpfs {
 public:
  Tmpfs(const std::filesystem::path& dir, const std::string& size) : dir_(dir) {
    std::filesystem::create_directories(dir_);
    mounted_ = ::mount("tmpfs", dir_.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
  }
  ~Tmpfs() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;

  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }
  [[nodiscard]] bool mounted() const { return mounted_; }

  /// Remounts it read-only: from then on nobody, root included, can write in it.
  [[nodiscard]] bool remount_read_only() const {
    return ::mount(nullptr, dir_.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr) == 0;
  }

  /// Fills it to its last byte with the file `name`.
  void fill(const std::string& name) const {
    std::ofstream filler(dir_ / name, std::ios::binary);
    const std::string block(1024, 'x');
    while (filler << block && filler.flush()) {
    }
  }

 private:
  std::filesystem::path dir_;
  bool mounted_ = false;
};

/// A 128 KiB tmpfs, to be filled up.
class FullDisk : public Tmpfs {
 public:
  explicit FullDisk(const std::filesystem::path& dir) : Tmpfs(dir, "128k") {}
};

}  // namespace ws::testing
