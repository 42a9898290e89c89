// The store as the commands open it (issue 16, points 9 and 10): a command that only reads never
// creates a store and works on one it cannot write (a read-only mount); a store with garbage pages
// takes no new run; a path that cannot be a store is a usage error (exit 2) naming --db; a model
// that is a folder is exit 2 naming it. docs/bad-input.md, "Stores".
#include "common/process.hpp"
#include "common/run_fixture.hpp"
#include "common/tmpfs.hpp"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace ws::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class StoreAccess : public ::testing::Test {
 protected:
  std::string src(const std::string& rel) { return source_path(rel).string(); }
  CliResult cli(const std::vector<std::string>& args) { return run_cli(args, dir_.path()); }
  CliResult run_quick(const fs::path& db) {
    return cli({"run", src("data/recipes/quick.yaml"), "--graph", src("graphs/inspect.yaml"),
                "--db", db.string(), "--time-scale", "0", "--quiet"});
  }
  static std::vector<std::vector<std::string>> read_commands() {
    return {{"runs"},
            {"runs", "--json"},
            {"show", "1"},
            {"show", "1", "--json"},
            {"export", "1", "--format", "csv"},
            {"export", "1", "--format", "klarf"},
            {"hardware", "status"}};
  }
  TempDir dir_;
};

TEST_F(StoreAccess, ReadCommandsNeverCreateAStore) {
  const fs::path db = dir_.path() / "none.db";
  for (auto args : read_commands()) {
    args.insert(args.end(), {"--db", db.string()});
    const auto r = cli(args);
    EXPECT_EQ(r.code, 2) << args[0] << ": " << r.err;
    EXPECT_NE(r.err.find(db.string() + ": --db: no results store here (a command that only reads "
                                       "never creates one)"),
              std::string::npos)
        << r.err;
    EXPECT_FALSE(fs::exists(db)) << args[0] << " created the store";
  }
  const auto by_default = cli({"runs"});  // ./waferscan.db
  EXPECT_EQ(by_default.code, 2) << by_default.err;
  EXPECT_FALSE(fs::exists(dir_.path() / "waferscan.db"));
}

TEST_F(StoreAccess, AReadOnlyStoreIsReadByEveryReadCommandAndTakesNoRun) {
  const Tmpfs mount(dir_.path() / "ro", "32m");
  if (!mount.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (needs CAP_SYS_ADMIN)";
  const fs::path db = mount.dir() / "runs.db";
  ASSERT_EQ(run_quick(db).code, 0);
  ASSERT_TRUE(mount.remount_read_only());
  const std::string before = slurp(db);
  for (auto args : read_commands()) {
    args.insert(args.end(), {"--db", db.string()});
    const auto r = cli(args);
    EXPECT_EQ(r.code, 0) << args[0] << " " << args[1] << ": " << r.err;
    EXPECT_FALSE(r.out.empty()) << args[0];
  }
  const auto listed = cli({"runs", "--json", "--db", db.string()});
  ASSERT_EQ(listed.code, 0) << listed.err;
  EXPECT_EQ(json::parse(listed.out).size(), 1u);

  const auto refused = run_quick(db);
  EXPECT_EQ(refused.code, 2) << refused.err;
  EXPECT_NE(refused.err.find(db.string() + ": --db: cannot be written (a read-only file or mount)"),
            std::string::npos)
      << refused.err;
  EXPECT_EQ(slurp(db), before) << "the store changed";
}

TEST_F(StoreAccess, AStoreWithGarbagePagesTakesNoNewRun) {
  const fs::path db = dir_.path() / "runs.db";
  ASSERT_EQ(run_quick(db).code, 0);
  ASSERT_GT(fs::file_size(db), 4u * 4096u);
  {
    std::fstream f(db, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(2 * 4096);
    const std::string garbage(4096, '\x5a');
    f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  const std::string damaged = slurp(db);
  const auto r = run_quick(db);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("the store is damaged (PRAGMA quick_check:"), std::string::npos) << r.err;
  EXPECT_EQ(slurp(db), damaged) << "nothing was written to the damaged store";
}

// One rule for exit codes (README, "Exit codes"): what the user typed cannot be carried out, and
// nothing was done: 2, whichever part of it is wrong.
TEST_F(StoreAccess, APathThatCannotBeUsedIsAUsageError) {
  const auto missing_folder = run_quick(dir_.path() / "no" / "such" / "runs.db");
  EXPECT_EQ(missing_folder.code, 2) << missing_folder.err;
  EXPECT_NE(missing_folder.err.find("--db: its folder"), std::string::npos) << missing_folder.err;

  const auto folder_as_store = run_quick(dir_.path());
  EXPECT_EQ(folder_as_store.code, 2) << folder_as_store.err;
  EXPECT_NE(folder_as_store.err.find("--db: is a directory, not a results store"),
            std::string::npos)
      << folder_as_store.err;

  const fs::path recipe = dir_.path() / "folder-model.yaml";
  std::ofstream(recipe) << "recipe: m\nsites:\n  - {die: [0, 0]}\nmodel: " << src("data/models")
                        << "\n";
  const auto r = cli({"run", recipe.string(), "--graph", src("graphs/inspect.yaml"), "--db",
                      (dir_.path() / "r.db").string(), "--time-scale", "0", "--quiet"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find(src("data/models") + ": cannot read model file: cannot open file: it is a "
                                            "directory, not a file"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(dir_.path() / "r.db"));
}

}  // namespace
}  // namespace ws::testing
