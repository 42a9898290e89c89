// Real DeepPCB pairs as a user brings them (`import pairs`, then `reprocess`): a frame that cannot
// be registered (its template is another board's, it is blank, it is not of its template's size)
// ends its site `unreliable` with a reason, and every output says so: the summary line, the
// events, `runs`, `show`, the JSON, CSV and KLARF exports; never `done`, never silently clean.
// Frames of different sizes in one folder are imported with their own sizes and inspected; a colour
// test image is read as grey.
#include "common/process.hpp"
#include "common/run_fixture.hpp"

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace ws::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

class PairsCli : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(pairs());
    // 10000001: a real pair. 10000002: the same test image against another board's template.
    // 10000003: a blank test image. 10000004: a test image cropped to 600x600 against its full
    // 640x640 template. 10000005: both cropped to 600x600 (a frame size of its own), the test
    // image saved in colour.
    copy_pair("77000000", "77000000", "10000001");
    copy_pair("77000001", "92000000", "10000002");
    const cv::Mat temp = deeppcb("77000000_temp.jpg");
    write(pairs() / "10000003_test.jpg", cv::Mat(temp.size(), CV_8UC1, cv::Scalar(255)));
    write(pairs() / "10000003_temp.jpg", temp);
    const cv::Rect crop(0, 0, 600, 600);
    write(pairs() / "10000004_test.jpg", deeppcb("77000001_test.jpg")(crop));
    write(pairs() / "10000004_temp.jpg", deeppcb("77000001_temp.jpg"));
    cv::Mat colour;
    cv::cvtColor(deeppcb("77000001_test.jpg")(crop), colour, cv::COLOR_GRAY2BGR);
    write(pairs() / "10000005_test.jpg", colour);
    write(pairs() / "10000005_temp.jpg", deeppcb("77000001_temp.jpg")(crop));
  }

  static cv::Mat deeppcb(const std::string& file) {
    return cv::imread(source_path("data/deeppcb/" + file).string(), cv::IMREAD_GRAYSCALE);
  }
  static void write(const fs::path& p, const cv::Mat& img) {
    ASSERT_FALSE(img.empty()) << p;
    ASSERT_TRUE(cv::imwrite(p.string(), img)) << p;
  }
  void copy_pair(const std::string& test, const std::string& temp, const std::string& as) {
    fs::copy_file(source_path("data/deeppcb/" + test + "_test.jpg"), pairs() / (as + "_test.jpg"));
    fs::copy_file(source_path("data/deeppcb/" + temp + "_temp.jpg"), pairs() / (as + "_temp.jpg"));
  }

  fs::path pairs() { return dir_.path() / "pairs"; }
  std::string set() { return (dir_.path() / "set").string(); }
  std::string db() { return (dir_.path() / "runs.db").string(); }
  CliResult cli(const std::vector<std::string>& args) { return run_cli(args, dir_.path()); }

  TempDir dir_;
};

TEST_F(PairsCli, FramesThatCannotBeRegisteredAreUnreliableInEveryOutput) {
  const auto imported = cli({"import", "pairs", pairs().string(), "--out", set()});
  ASSERT_EQ(imported.code, 0) << imported.err;
  const std::string manifest = slurp(fs::path(set()) / "manifest.yaml");
  EXPECT_NE(manifest.find("width: 600"), std::string::npos) << "the 600x600 frames keep their size";

  const fs::path events = dir_.path() / "events.jsonl";
  const auto r = cli(
      {"reprocess", set(), "--model", source_path("data/models/deeppcb.json").string(), "--graph",
       source_path("graphs/inspect.yaml").string(), "--db", db(), "--events", events.string()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("2/5 sites done"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("unreliable 3"), std::string::npos) << r.err;
  // The progress line (plain, not a terminal: always printed for the last site) says it too.
  const auto progress = r.err.find("progress: 5/5 sites");
  ASSERT_NE(progress, std::string::npos) << r.err;
  EXPECT_NE(r.err.substr(progress, r.err.find('\n', progress) - progress).find(", unreliable 3"),
            std::string::npos)
      << r.err;

  // runs: the count in its own column.
  const auto runs = cli({"runs", "--db", db()});
  ASSERT_EQ(runs.code, 0) << runs.err;
  EXPECT_NE(runs.out.find("unreliable"), std::string::npos) << runs.out;
  EXPECT_NE(runs.out.find("  2/5            3 "), std::string::npos) << runs.out;

  // show: the count; export json: each site's status and reason.
  const auto show = cli({"show", "1", "--json", "--db", db()});
  ASSERT_EQ(show.code, 0) << show.err;
  EXPECT_EQ(json::parse(show.out)["sites"]["unreliable"], 3);
  const auto exported = cli({"export", "1", "--format", "json", "--db", db()});
  ASSERT_EQ(exported.code, 0) << exported.err;
  std::map<std::string, std::string> status;
  const json doc = json::parse(exported.out);
  for (const json& s : doc["sites"]) {
    status[s["name"]] = s["status"];
    if (s["status"] == "unreliable") {
      EXPECT_TRUE(s["defects"].empty()) << s.dump();
      EXPECT_NE(s["reason"].get<std::string>().find("registration unreliable"), std::string::npos)
          << s.dump();
    }
  }
  EXPECT_EQ(status, (std::map<std::string, std::string>{{"10000001", "done"},
                                                        {"10000002", "unreliable"},
                                                        {"10000003", "unreliable"},
                                                        {"10000004", "unreliable"},
                                                        {"10000005", "done"}}));

  // The events: one site event per unreliable site, with its status.
  int unreliable_events = 0;
  std::ifstream in(events);
  for (std::string line; std::getline(in, line);) {
    const json e = json::parse(line);
    if (e["type"] == "site" && e["status"] == "unreliable") ++unreliable_events;
  }
  EXPECT_EQ(unreliable_events, 3);

  // CSV: a row for each unreliable site; KLARF: not complete, and why.
  const auto csv = cli({"export", "1", "--format", "csv", "--db", db()});
  ASSERT_EQ(csv.code, 0) << csv.err;
  int unreliable_rows = 0;
  std::istringstream rows(csv.out);
  for (std::string line; std::getline(rows, line);) {
    unreliable_rows += line.find(",unreliable,,") != std::string::npos ? 1 : 0;
  }
  EXPECT_EQ(unreliable_rows, 3) << csv.out;
  const auto klarf = cli({"export", "1", "--format", "klarf", "--db", db()});
  ASSERT_EQ(klarf.code, 0) << klarf.err;
  EXPECT_NE(klarf.out.find("\"INCOMPLETE\""), std::string::npos);
  EXPECT_NE(klarf.out.find("3 unreliable"), std::string::npos) << klarf.out.substr(0, 2000);
}

// A failed import leaves nothing behind (no frames/, no references/, no staging folder), so the
// same command succeeds once its input is mended: an undecodable first image, then a label box
// outside its frame.
TEST_F(PairsCli, AFailedImportLeavesNothingAndTheRetrySucceeds) {
  const auto debris = [&] {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_.path())) {
      const std::string name = e.path().filename().string();
      const bool captured = name.rfind("stdout-", 0) == 0 || name.rfind("stderr-", 0) == 0;
      if (name != "pairs" && !captured) names.push_back(name);  // not the CLI's captured output
    }
    return names;
  };
  const fs::path first = pairs() / "10000001_test.jpg";
  const std::string good = slurp(first);
  std::ofstream(first, std::ios::binary | std::ios::trunc) << "not a JPEG";
  const auto undecodable = cli({"import", "pairs", pairs().string(), "--out", set()});
  EXPECT_EQ(undecodable.code, 2) << undecodable.err;
  EXPECT_NE(undecodable.err.find("10000001_test.jpg"), std::string::npos) << undecodable.err;
  EXPECT_EQ(debris(), std::vector<std::string>{}) << "the failed import left files behind";

  std::ofstream(first, std::ios::binary | std::ios::trunc) << good;
  std::ofstream(pairs() / "10000001.txt") << "600 600 700 700 1\n";  // outside 640x640
  const auto outside = cli({"import", "pairs", pairs().string(), "--out", set()});
  EXPECT_EQ(outside.code, 2) << outside.err;
  EXPECT_NE(outside.err.find("10000001.txt"), std::string::npos) << outside.err;
  EXPECT_EQ(debris(), std::vector<std::string>{});

  std::ofstream(pairs() / "10000001.txt", std::ios::trunc) << "10 10 20 20 1\n";
  const auto retry = cli({"import", "pairs", pairs().string(), "--out", set()});
  ASSERT_EQ(retry.code, 0) << retry.err;
  EXPECT_TRUE(fs::is_regular_file(fs::path(set()) / "manifest.yaml"));
  EXPECT_EQ(debris(), std::vector<std::string>{"set"});
  const auto again =
      cli({"reprocess", set(), "--model", source_path("data/models/deeppcb.json").string(),
           "--graph", source_path("graphs/inspect.yaml").string(), "--db", db(), "--quiet"});
  EXPECT_EQ(again.code, 0) << "the imported set reprocesses: " << again.err;
}

}  // namespace
}  // namespace ws::testing
