// Pins down that no output destroys what is stored or read (issue 16, points 1 and 2): an output
// path naming the store, the recipe or an input (by name, by another name, through a link) is
// refused before anything is written; an existing file is replaced only with --force; an output
// that cannot be written (a full disk) fails the command and leaves the old file as it was, with
// no temporary file left beside it.
#include "common/process.hpp"
#include "common/run_fixture.hpp"
#include "common/tmpfs.hpp"
#include "waferscan/error.hpp"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace ws::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Files in `dir` other than `keep`: what a failed write may have left behind.
std::vector<std::string> debris(const fs::path& dir, const std::vector<std::string>& keep) {
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(dir)) {
    const auto name = e.path().filename().string();
    if (std::find(keep.begin(), keep.end(), name) == keep.end()) left.push_back(name);
  }
  return left;
}

class Outputs : public ::testing::Test {
 protected:
  std::string src(const std::string& rel) { return source_path(rel).string(); }
  std::string db() { return (dir_.path() / "runs.db").string(); }
  std::string at(const std::string& name) { return (dir_.path() / name).string(); }

  std::vector<std::string> run_args(const std::string& recipe) {
    return {"run",          recipe, "--graph", src("graphs/inspect.yaml"), "--db", db(),
            "--time-scale", "0",    "--quiet"};
  }
  CliResult run_quick(std::vector<std::string> extra = {}) {
    auto args = run_args(src("data/recipes/quick.yaml"));
    args.insert(args.end(), extra.begin(), extra.end());
    return run_cli(args, dir_.path());
  }
  int stored_runs() {
    const auto r = run_cli({"runs", "--db", db(), "--json"}, dir_.path());
    EXPECT_EQ(r.code, 0) << r.err;
    return static_cast<int>(json::parse(r.out).size());
  }

  TempDir dir_;
};

TEST_F(Outputs, AnOutputNamingTheStoreIsRefusedAndTheStoreKeepsItsRuns) {
  ASSERT_EQ(run_quick().code, 0);
  fs::create_symlink(db(), at("link.db"));
  fs::create_hard_link(db(), at("hard.db"));
  for (const std::string& out : {db(), at("link.db"), at("hard.db"), at("./runs.db")}) {
    auto r = run_quick({"--events", out, "--force"});
    EXPECT_EQ(r.code, 2) << out << ": " << r.err;
    EXPECT_NE(r.err.find("is the results store"), std::string::npos) << r.err;
    r = run_cli({"export", "1", "--db", db(), "--format", "csv", "--out", out, "--force"},
                dir_.path());
    EXPECT_EQ(r.code, 2) << out << ": " << r.err;
    EXPECT_NE(r.err.find("is the results store"), std::string::npos) << r.err;
  }
  const auto wal =
      run_cli({"export", "1", "--db", db(), "--format", "csv", "--out", db() + "-wal", "--force"},
              dir_.path());
  EXPECT_EQ(wal.code, 2) << wal.err;
  EXPECT_EQ(stored_runs(), 1);
  ASSERT_EQ(run_quick().code, 0);
  EXPECT_EQ(stored_runs(), 2) << "run ids go on: the store was never replaced";
}

TEST_F(Outputs, AnOutputNamingAnInputOfTheRunIsRefused) {
  const fs::path recipe = at("quick.yaml");
  fs::copy_file(src("data/recipes/quick.yaml"), recipe);
  std::string text = slurp(recipe);
  const std::string model = "model: ../models/sim.json";
  ASSERT_NE(text.find(model), std::string::npos);
  text.replace(text.find(model), model.size(), "model: " + src("data/models/sim.json"));
  std::ofstream(recipe) << text;
  const std::string before = slurp(recipe);
  for (const std::string& out :
       {recipe.string(), src("data/models/sim.json"), src("graphs/inspect.yaml")}) {
    auto args = run_args(recipe.string());
    args.insert(args.end(), {"--events", out, "--force"});
    const auto r = run_cli(args, dir_.path());
    EXPECT_EQ(r.code, 2) << out << ": " << r.err;
    EXPECT_NE(r.err.find("an output is never written over it"), std::string::npos) << r.err;
  }
  EXPECT_EQ(slurp(recipe), before);
  EXPECT_FALSE(fs::exists(db())) << "refused before the store was opened";
  auto args = run_args(recipe.string());
  ASSERT_EQ(run_cli(args, dir_.path()).code, 0);
  const auto r = run_cli(
      {"export", "1", "--db", db(), "--format", "klarf", "--out", recipe.string(), "--force"},
      dir_.path());
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("is the recipe of run 1"), std::string::npos) << r.err;
  EXPECT_EQ(slurp(recipe), before);
}

TEST_F(Outputs, AnExistingFileIsReplacedOnlyWithForceAndAtomically) {
  ASSERT_EQ(run_quick().code, 0);
  std::ofstream(at("old.csv")) << "precious\n";
  auto r = run_cli({"export", "1", "--db", db(), "--format", "csv", "--out", at("old.csv")},
                   dir_.path());
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("exists: refusing to replace it"), std::string::npos) << r.err;
  EXPECT_EQ(slurp(at("old.csv")), "precious\n");
  std::ofstream(at("old.jsonl")) << "precious\n";
  r = run_quick({"--events", at("old.jsonl")});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(slurp(at("old.jsonl")), "precious\n");
  EXPECT_EQ(stored_runs(), 1) << "refused before a run was created";

  r = run_cli({"export", "1", "--db", db(), "--format", "csv", "--out", at("old.csv"), "--force"},
              dir_.path());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(slurp(at("old.csv")).rfind("run,site,", 0), 0u);
  ASSERT_EQ(run_quick({"--events", at("old.jsonl"), "--force"}).code, 0);
  const std::string events = slurp(at("old.jsonl"));
  EXPECT_EQ(events.rfind("{", 0), 0u) << events.substr(0, 80);
  EXPECT_NE(events.find("\"state\":\"Completed\""), std::string::npos) << "all of it, to the end";
  for (const auto& name : debris(dir_.path(), {})) {
    EXPECT_EQ(name.find(".tmp-"), std::string::npos) << "a temporary file was left: " << name;
  }
}

TEST_F(Outputs, AnExportThatCannotBeWrittenFailsAndKeepsTheOldFile) {
  ASSERT_EQ(run_quick().code, 0);
  const FullDisk disk(dir_.path() / "full");
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (needs CAP_SYS_ADMIN)";
  const fs::path out = disk.dir() / "run.json";
  const std::string old(100, 'o');
  std::ofstream(out) << old;
  disk.fill("filler");
  for (const std::string format : {"json", "csv", "klarf", "png"}) {
    const auto r =
        run_cli({"export", "1", "--db", db(), "--format", format, "--out", out.string(), "--force"},
                dir_.path());
    EXPECT_EQ(r.code, 1) << format << ": " << r.err;
    EXPECT_NE(r.err.find("write failed"), std::string::npos) << r.err;
    EXPECT_EQ(slurp(out), old) << format << ": the old file is untouched";
    EXPECT_TRUE(debris(disk.dir(), {"run.json", "filler"}).empty())
        << "no temporary file is left: " << ::testing::PrintToString(debris(disk.dir(), {}));
  }
}

TEST_F(Outputs, AnEventsFileThatCannotBeWrittenFailsTheCommandButNotTheRun) {
  const FullDisk disk(dir_.path() / "full");
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (needs CAP_SYS_ADMIN)";
  const fs::path out = disk.dir() / "events.jsonl";
  std::ofstream(out) << "precious\n";
  disk.fill("filler");
  const auto r = run_quick({"--events", out.string(), "--force"});
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("write failed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("every event is in the store"), std::string::npos) << r.err;
  EXPECT_EQ(slurp(out), "precious\n") << "the old events file is untouched";
  const auto shown = run_cli({"show", "1", "--db", db(), "--json"}, dir_.path());
  ASSERT_EQ(shown.code, 0) << shown.err;
  EXPECT_EQ(json::parse(shown.out)["state"], "Completed") << "the run itself went on";
  EXPECT_TRUE(debris(disk.dir(), {"events.jsonl", "filler"}).empty());
}

// Issue 16, point 3: a run keeps the recipe it ran with; `resume` refuses changed inputs.
class RunInputs : public Outputs {
 protected:
  // A copy of the quick recipe, model and graph in the test's folder (so they can be edited),
  // with `extra` appended to the recipe.
  void copy_inputs(const std::string& extra = "") {
    fs::copy_file(src("data/models/sim.json"), at("model.json"));
    fs::copy_file(src("graphs/inspect.yaml"), at("graph.yaml"));
    std::string text = slurp(src("data/recipes/quick.yaml"));
    const std::string model = "model: ../models/sim.json";
    ASSERT_NE(text.find(model), std::string::npos);
    text.replace(text.find(model), model.size(), "model: model.json");
    std::ofstream(at("recipe.yaml")) << text << extra;
  }
  std::vector<std::string> args_of(const std::string& command) {
    return {command, "--graph", at("graph.yaml"), "--db", db(), "--time-scale", "0", "--quiet"};
  }
  CliResult run_copy() {
    auto args = args_of("run");
    args.insert(args.begin() + 1, at("recipe.yaml"));
    return run_cli(args, dir_.path());
  }
  CliResult resume() { return run_cli({"resume", "1", "--db", db(), "--quiet"}, dir_.path()); }
  std::string exported(const std::string& format) {
    const auto r = run_cli({"export", "1", "--db", db(), "--format", format}, dir_.path());
    EXPECT_EQ(r.code, 0) << format << ": " << r.err;
    return r.out;
  }
};

TEST_F(RunInputs, AnEditedOrMovedRecipeChangesNoExportOfTheRun) {
  copy_inputs();
  ASSERT_EQ(run_copy().code, 0);
  const std::string klarf = exported("klarf");
  const std::string klarf12 = exported("klarf12");
  const std::string csv = exported("csv");
  ASSERT_NE(klarf.find("\"W07\""), std::string::npos);
  std::string text = slurp(at("recipe.yaml"));
  for (const auto& [from, to] :
       {std::pair<std::string, std::string>{"pixel_size_um: 5.0", "pixel_size_um: 7.5"},
        {"wafer_id: W07", "wafer_id: OTHER"}}) {
    ASSERT_NE(text.find(from), std::string::npos) << from;
    text.replace(text.find(from), from.size(), to);
  }
  std::ofstream(at("recipe.yaml")) << text;
  EXPECT_EQ(exported("klarf"), klarf) << "the stored recipe, not the edited file";
  EXPECT_EQ(exported("csv"), csv);
  fs::rename(at("recipe.yaml"), at("moved.yaml"));
  EXPECT_EQ(exported("klarf12"), klarf12) << "the recipe file is gone; its stored copy is not";
  EXPECT_EQ(exported("csv"), csv);
}

TEST_F(RunInputs, ResumeRefusesARecipeGraphOrModelThatChanged) {
  copy_inputs("\nfaults: [\"machine.estop=fire@site:5\"]\n");
  ASSERT_EQ(run_copy().code, exit_code::emergency_stop);  // Canceled at site 5: resumable
  for (const std::string name : {"recipe.yaml", "graph.yaml", "model.json"}) {
    const std::string before = slurp(at(name));
    std::ofstream(at(name), std::ios::app) << "\n";  // the same meaning, another content
    const auto r = resume();
    EXPECT_EQ(r.code, 2) << name << ": " << r.err;
    EXPECT_NE(r.err.find("has changed since run 1 was made"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(at(name)), std::string::npos) << "names the file: " << r.err;
    std::ofstream(at(name), std::ios::trunc) << before;
  }
  const auto shown = run_cli({"show", "1", "--db", db(), "--json"}, dir_.path());
  EXPECT_EQ(json::parse(shown.out)["state"], "Canceled") << "no refused resume touched the run";
  const auto r = resume();  // the files as they were: accepted (and the interlock fires again)
  EXPECT_EQ(r.code, exit_code::emergency_stop) << r.err;
}

}  // namespace
}  // namespace ws::testing
