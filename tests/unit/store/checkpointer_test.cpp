// The background WAL checkpointer: commits past the threshold get their checkpoint from its
// thread, the WAL stays bounded, and stopping it while it works is safe. That the commits no
// longer checkpoint themselves shows in the first test: when the thread's checkpoints did nothing
// (a connection that had not yet read the file), the WAL grew to hold every commit.
#include "store/checkpointer.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace ws::store::test {
namespace {

class CheckpointerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("ws_checkpointer_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = dir_ / "results.db";
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db_), SQLITE_OK);
    exec(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
        "CREATE TABLE t (id INTEGER PRIMARY KEY, data BLOB);");
  }
  void TearDown() override {
    sqlite3_close(db_);
    std::filesystem::remove_all(dir_);
  }
  void exec(const char* sql) {
    char* error = nullptr;
    ASSERT_EQ(sqlite3_exec(db_, sql, nullptr, nullptr, &error), SQLITE_OK) << error;
  }
  // One commit of `pages` pages of new data.
  void commit_pages(int pages) {
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_, "INSERT INTO t (data) VALUES (?1)", -1, &st, nullptr),
              SQLITE_OK);
    const std::vector<char> blob(static_cast<std::size_t>(pages) * 4096, 'x');
    sqlite3_bind_blob(st, 1, blob.data(), static_cast<int>(blob.size()), SQLITE_STATIC);
    EXPECT_EQ(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
  }
  // Threads and open file descriptors of this process.
  static std::pair<long, long> resources() {
    const auto count = [](const char* dir) {
      long n = 0;
      for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
      return n;
    };
    return {count("/proc/self/task"), count("/proc/self/fd")};
  }
  [[nodiscard]] std::uintmax_t wal_bytes() const {
    std::error_code ec;
    const auto n = std::filesystem::file_size(path_.string() + "-wal", ec);
    return ec ? 0 : n;
  }

  std::filesystem::path dir_;
  std::filesystem::path path_;
  sqlite3* db_ = nullptr;
};

TEST_F(CheckpointerTest, TheThreadCheckpointsAndTheWalStaysBounded) {
  Checkpointer cp(path_, 5000);
  cp.attach(db_);
  // 6000 pages in 150 commits: without checkpoints the WAL would hold them all (24 MiB).
  for (int i = 0; i < 150; ++i) {
    commit_pages(40);
    cp.drain();  // the handshake: a requested checkpoint has run before the next commit
  }
  EXPECT_FALSE(cp.failed()) << cp.last_error();
  EXPECT_GE(cp.checkpoints(), 3);
  // A checkpointed WAL is written again from its start: it never holds much more than the
  // threshold plus one commit.
  EXPECT_LT(wal_bytes(), std::uintmax_t{2 * Checkpointer::kPages} * 4200);
}

TEST_F(CheckpointerTest, CommitsBelowTheThresholdRequestNothing) {
  Checkpointer cp(path_, 5000);
  cp.attach(db_);
  for (int i = 0; i < 20; ++i) commit_pages(10);  // about 200 pages
  cp.drain();
  EXPECT_EQ(cp.checkpoints(), 0);
}

// One checkpoint per request, none once the checkpointed WAL restarted, and, since the thread
// lives only while there is work, no thread or file descriptor of it left after drain() (the
// store drains at the end of every run).
TEST_F(CheckpointerTest, OneCheckpointPerRequestAndNothingLeftAfterDrain) {
  Checkpointer cp(path_, 5000);
  cp.attach(db_);
  // A first round before counting: ThreadSanitizer's runtime starts a thread of its own the
  // first time the process creates one.
  commit_pages(1100);
  cp.drain();
  const auto before = resources();
  for (int round = 2; round <= 4; ++round) {
    commit_pages(1100);
    cp.drain();
    EXPECT_EQ(cp.checkpoints(), round);
    EXPECT_EQ(resources(), before) << "threads, file descriptors after round " << round;
  }
  commit_pages(10);  // the checkpointed WAL restarts from its start: 10 pages, no request
  cp.drain();
  EXPECT_EQ(cp.checkpoints(), 4);
}

// A store attaches it to a file it has just created and put in WAL mode, before any table
// exists: the thread's connection must see WAL mode there too, or its checkpoints do nothing.
TEST_F(CheckpointerTest, WorksOnAFileJustPutInWalMode) {
  sqlite3* fresh = nullptr;
  const std::filesystem::path path = dir_ / "fresh.db";
  ASSERT_EQ(sqlite3_open(path.c_str(), &fresh), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(fresh, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr), SQLITE_OK);
  {
    Checkpointer cp(path, 5000);
    cp.attach(fresh);
    EXPECT_FALSE(cp.failed()) << cp.last_error();
    ASSERT_EQ(sqlite3_exec(fresh, "CREATE TABLE t (data BLOB)", nullptr, nullptr, nullptr),
              SQLITE_OK);
    ASSERT_EQ(
        sqlite3_exec(fresh, "INSERT INTO t VALUES (zeroblob(4505600))", nullptr, nullptr, nullptr),
        SQLITE_OK);  // 1100 pages
    cp.drain();
    EXPECT_EQ(cp.checkpoints(), 1);
  }
  sqlite3_close(fresh);
}

// When the thread's connection cannot be opened, the commits checkpoint themselves, as SQLite's
// automatic checkpoint does: the WAL stays bounded all the same.
TEST_F(CheckpointerTest, WithoutItsConnectionTheCommitsCheckpointThemselves) {
  Checkpointer cp(dir_ / "missing" / "results.db", 5000);  // a folder that does not exist
  cp.attach(db_);
  ASSERT_TRUE(cp.failed());
  EXPECT_NE(cp.last_error().find("missing"), std::string::npos) << cp.last_error();
  for (int i = 0; i < 150; ++i) commit_pages(40);
  cp.drain();
  EXPECT_EQ(cp.checkpoints(), 0);
  EXPECT_LT(wal_bytes(), std::uintmax_t{2 * Checkpointer::kPages} * 4200);
}

TEST_F(CheckpointerTest, DestroyingItWhileItWorksIsSafe) {
  for (int round = 0; round < 5; ++round) {
    Checkpointer cp(path_, 5000);
    cp.attach(db_);
    commit_pages(1100);  // requests a checkpoint; destroyed at once, maybe while it runs
  }
  commit_pages(1100);  // the hook is gone: SQLite's own automatic checkpoint is back
  SUCCEED();
}

}  // namespace
}  // namespace ws::store::test
