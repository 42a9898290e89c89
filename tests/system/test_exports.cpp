// Pins down the exports and the graph view as a user runs them: `export --format
// klarf|klarf12|csv|png` write their files from a real run, png needs --out, a run whose recipe
// file is gone is a usage error naming the recipe, and `graph SPEC --dot` shows every node and the
// in-flight cap of the spec.
#include "common/process.hpp"
#include "common/run_fixture.hpp"

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

namespace ws::testing {
namespace {

using nlohmann::json;

class CliExport : public ::testing::Test {
 protected:
  std::string src(const std::string& rel) { return source_path(rel).string(); }
  std::string db() { return (dir_.path() / "runs.db").string(); }
  std::string out(const std::string& name) { return (dir_.path() / name).string(); }

  void run_quick(const std::string& recipe) {
    const auto r = run_cli({"run", recipe, "--graph", src("graphs/inspect.yaml"), "--db", db(),
                            "--time-scale", "0", "--quiet"},
                           dir_.path());
    ASSERT_EQ(r.code, 0) << r.err;
  }
  CliResult export_run(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"export", "1", "--db", db()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_cli(args, dir_.path());
  }

  TempDir dir_;
};

TEST_F(CliExport, EveryFormatIsWrittenFromARealRun) {
  run_quick(src("data/recipes/quick.yaml"));
  const auto shown = run_cli({"show", "1", "--db", db(), "--json"}, dir_.path());
  ASSERT_EQ(shown.code, 0) << shown.err;
  const int defects = json::parse(shown.out)["defects"].get<int>();
  ASSERT_GT(defects, 0);

  auto r = export_run({"--format", "klarf", "--out", out("run.klarf")});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string k18 = slurp(out("run.klarf"));
  EXPECT_EQ(k18.rfind("Record FileRecord \"1.8\"", 0), 0u) << k18.substr(0, 200);
  EXPECT_NE(k18.find("EndOfFile;"), std::string::npos);
  EXPECT_NE(k18.find("Data " + std::to_string(defects) + "\n"), std::string::npos);

  r = export_run({"--format", "klarf"});  // stdout by default
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, k18);

  r = export_run({"--format", "klarf12", "--out", out("run.k12")});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string k12 = slurp(out("run.k12"));
  EXPECT_EQ(k12.rfind("FileVersion 1 2;", 0), 0u) << k12.substr(0, 200);
  EXPECT_NE(k12.find("\nEndOfFile;"), std::string::npos);

  r = export_run({"--format", "csv", "--out", out("run.csv")});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string csv = slurp(out("run.csv"));
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + defects);  // no field holds a newline
  EXPECT_EQ(csv.rfind("run,site,", 0), 0u);

  r = export_run({"--format", "png", "--out", out("map.png")});
  ASSERT_EQ(r.code, 0) << r.err;
  const cv::Mat img = cv::imread(out("map.png"), cv::IMREAD_COLOR);
  ASSERT_FALSE(img.empty());
  EXPECT_EQ(img.cols, 1100);
  EXPECT_EQ(img.rows, 900);
  cv::Scalar mean, stddev;
  cv::meanStdDev(img, mean, stddev);
  EXPECT_GT(stddev[0], 10.0);
}

TEST_F(CliExport, PngNeedsOutAndUnknownFormatsAreRefused) {
  run_quick(src("data/recipes/quick.yaml"));
  auto r = export_run({"--format", "png"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--out"), std::string::npos) << r.err;
  r = export_run({"--format", "gif", "--out", out("x.gif")});
  EXPECT_EQ(r.code, 2);
}

// A run whose recipe file is gone still exports, from the recipe text it stored:
// RunInputs.AnEditedOrMovedRecipeChangesNoExportOfTheRun (test_outputs.cpp).

TEST_F(CliExport, GraphDotShowsEveryNodeAndTheCap) {
  const auto spec = dir_.path() / "g.yaml";
  std::ofstream(spec) << "graph: wide\nin_flight: 7\nnodes:\n  detect:\n    concurrency: 5\n";
  const auto r = run_cli({"graph", spec.string(), "--dot"}, dir_.path());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("digraph \"wide\" {", 0), 0u) << r.out;
  for (const char* node :
       {"sites", "admit", "acquire", "preprocess", "detect", "classify", "reorder", "publish"}) {
    EXPECT_TRUE(std::regex_search(r.out, std::regex(std::string("\\n  ") + node + " \\[label=")))
        << node << "\n"
        << r.out;
  }
  EXPECT_NE(r.out.find("cap 7"), std::string::npos);
  EXPECT_NE(r.out.find("concurrency 5"), std::string::npos);
  EXPECT_NE(r.out.find("-> reorder -> publish;"), std::string::npos);
  EXPECT_NE(r.out.find("publish -> admit [label=\"decrement\""), std::string::npos);
  EXPECT_EQ(r.out.back(), '\n');

  const auto plain = run_cli({"graph", src("graphs/inspect.yaml")}, dir_.path());
  ASSERT_EQ(plain.code, 0) << plain.err;
  EXPECT_NE(plain.out.find("admit(cap 4)"), std::string::npos) << plain.out;

  const auto missing = run_cli({"graph", out("nope.yaml"), "--dot"}, dir_.path());
  EXPECT_EQ(missing.code, 2);
}

}  // namespace
}  // namespace ws::testing
