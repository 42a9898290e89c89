// Files the tool writes: never over one of its inputs or its store, never half-written. Every
// output goes to a temporary file beside its target, is flushed, checked and synced, and is renamed
// into place only when all of it was written; a failure leaves the old file as it was.
#pragma once

#include "waferscan/error.hpp"  // OutputError

#include <sys/types.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ws {

/// The identity of a file on disk: two paths name the same file when their ids are equal (hard
/// links, symlinks, `./x` and `x` alike).
struct FileId {
  dev_t dev = 0;
  ino_t ino = 0;
  friend bool operator==(const FileId&, const FileId&) = default;
};

/// The folder a file at `target` lives in ("." for a bare name).
std::filesystem::path folder_of(const std::filesystem::path& target);

/// The id of the file `path` names (symlinks followed); nullopt when it does not exist.
std::optional<FileId> file_id(const std::filesystem::path& path);

/// The files a command reads and the store it keeps: no output may be opened over any of them.
/// Compared by identity when the file exists, by its absolute normal path when it does not yet
/// (a store the command will create, its -wal and -shm companions).
class ProtectedFiles {
 public:
  /// `what` says what the file is to this command ("the results store", "the recipe").
  void add(const std::filesystem::path& path, const std::string& what);
  /// A results store: the file and SQLite's companions (-wal, -shm, -journal).
  void add_store(const std::filesystem::path& path);
  /// Throws ConfigError(out, 0, key, "is WHAT (PATH) ...") when `out` names a protected file.
  void check(const std::filesystem::path& out, const std::string& key) const;

 private:
  struct Entry {
    std::filesystem::path path;
    std::filesystem::path normal;  ///< absolute, lexically normal
    std::optional<FileId> id;
    std::string what;
  };
  std::vector<Entry> entries_;
};

/// How an output may treat a file already at its path.
enum class Overwrite : bool { refuse, replace };

/// One output file written atomically. The constructor refuses (ConfigError, exit 2, nothing
/// written) a target that is a directory, or an existing file unless `overwrite` is replace
/// (`--force`); it creates the temporary file beside the target. commit() flushes, checks, syncs
/// and renames it into place, or throws OutputError and removes it; an AtomicFile destroyed
/// without commit() removes its temporary file and leaves the target as it was.
class AtomicFile {
 public:
  AtomicFile(std::filesystem::path target, std::string key, Overwrite overwrite);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  std::ostream& stream() { return out_; }
  [[nodiscard]] const std::filesystem::path& target() const { return target_; }
  [[nodiscard]] const std::filesystem::path& temporary() const { return temp_; }
  void commit();

 private:
  std::filesystem::path target_;
  std::filesystem::path temp_;
  std::string key_;
  std::ofstream out_;
  bool committed_ = false;
};

/// True when `target` exists and is a FIFO, a character device or a socket: a stream that is
/// written to as it is (never replaced, never renamed over), like standard output.
bool is_stream_target(const std::filesystem::path& target);

/// Checks that `target` may be written as `key` with `overwrite` (the rules of AtomicFile's
/// constructor) without opening anything.
void check_output_target(const std::filesystem::path& target, const std::string& key,
                         Overwrite overwrite);

/// Writes `text` to `target` atomically (AtomicFile), as `key`.
void write_file_atomically(const std::filesystem::path& target, const std::string& key,
                           const std::string& text, Overwrite overwrite);

/// Renames the file `temp` (written and synced by the caller, e.g. by cv::imwrite) into place at
/// `target` and syncs the folder; on failure removes `temp` and throws OutputError.
void rename_into_place(const std::filesystem::path& temp, const std::filesystem::path& target,
                       const std::string& key);

/// A temporary path beside `target`: `.NAME.tmp-PID-N` followed by `extension` (so a writer that
/// picks the format from the name, as cv::imwrite does, sees the target's).
std::filesystem::path temporary_beside(const std::filesystem::path& target,
                                       const std::string& extension = "");

}  // namespace ws
