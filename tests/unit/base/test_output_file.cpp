// AtomicFile and ProtectedFiles (src/base/output_file.hpp): a write that fails (here a file size
// limit, as a full disk would) or a rename that fails leaves the old file and no temporary file;
// protected files are recognised by identity, whatever the path that names them.
#include "base/output_file.hpp"

#include "common/run_fixture.hpp"
#include "waferscan/error.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <csignal>
#include <fstream>
#include <sstream>

namespace ws::testing {
namespace {

namespace fs = std::filesystem;

std::size_t entries(const fs::path& dir) {
  return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir), {}));
}

// Writes past `bytes` fail with EFBIG (SIGXFSZ ignored) while alive.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &old_);
    rlimit small = old_;
    small.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &small);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &old_);
    std::signal(SIGXFSZ, old_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit old_{};
  void (*old_handler_)(int) = nullptr;
};

TEST(AtomicFile, AWriteThatFailsLeavesTheOldFileAndNoTemporaryFile) {
  TempDir dir;
  const fs::path target = dir.path() / "out.csv";
  std::ofstream(target) << "old\n";
  {
    AtomicFile file(target, "--out", Overwrite::replace);
    const FileSizeLimit limit(4096);
    file.stream() << std::string(64 * 1024, 'n');
    EXPECT_THROW(file.commit(), OutputError);
  }
  EXPECT_EQ(slurp(target), "old\n");
  EXPECT_EQ(entries(dir.path()), 1u) << "the temporary file is removed";
}

TEST(AtomicFile, ARenameThatFailsLeavesNoTemporaryFile) {
  TempDir dir;
  const fs::path target = dir.path() / "out.csv";
  AtomicFile file(target, "--out", Overwrite::replace);
  file.stream() << "new\n";
  fs::create_directories(target / "child");  // a folder appears where the file would go
  EXPECT_THROW(file.commit(), OutputError);
  EXPECT_TRUE(fs::is_directory(target));
  EXPECT_EQ(entries(dir.path()), 1u);
}

TEST(AtomicFile, NothingIsWrittenUntilCommitAndAnUncommittedFileLeavesNothing) {
  TempDir dir;
  const fs::path target = dir.path() / "out.csv";
  std::ofstream(target) << "old\n";
  {
    AtomicFile file(target, "--out", Overwrite::replace);
    file.stream() << "new\n";
    file.stream().flush();
    EXPECT_EQ(slurp(target), "old\n") << "the old file stays until the new one is whole";
  }
  EXPECT_EQ(slurp(target), "old\n");
  EXPECT_EQ(entries(dir.path()), 1u);
  write_file_atomically(target, "--out", "new\n", Overwrite::replace);
  EXPECT_EQ(slurp(target), "new\n");
  EXPECT_EQ(entries(dir.path()), 1u);
}

TEST(AtomicFile, AnExistingFileIsRefusedUnlessReplaceAndAFolderAlways) {
  TempDir dir;
  const fs::path target = dir.path() / "out.csv";
  std::ofstream(target) << "old\n";
  EXPECT_THROW(AtomicFile(target, "--out", Overwrite::refuse), ConfigError);
  EXPECT_THROW(AtomicFile(dir.path(), "--out", Overwrite::replace), ConfigError);
  EXPECT_THROW(AtomicFile(dir.path() / "missing" / "x.csv", "--out", Overwrite::replace),
               ConfigError);
  EXPECT_EQ(slurp(target), "old\n");
}

TEST(ProtectedFiles, AreRecognisedByIdentityAndByNameBeforeTheyExist) {
  TempDir dir;
  const fs::path store = dir.path() / "runs.db";
  std::ofstream(store) << "db";
  fs::create_symlink(store, dir.path() / "link.db");
  fs::create_hard_link(store, dir.path() / "hard.db");
  ProtectedFiles files;
  files.add_store(store);
  files.add(dir.path() / "new.db", "a store not created yet");
  for (const auto& p :
       {store, dir.path() / "link.db", dir.path() / "hard.db", dir.path() / "." / "runs.db",
        fs::path(store.string() + "-wal"), dir.path() / "sub" / ".." / "new.db"}) {
    EXPECT_THROW(files.check(p, "--out"), ConfigError) << p;
  }
  EXPECT_NO_THROW(files.check(dir.path() / "other.csv", "--out"));
  try {
    files.check(dir.path() / "hard.db", "--events");
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--events: is the results store"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace ws::testing
