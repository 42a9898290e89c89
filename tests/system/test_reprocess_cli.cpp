// `waferscan run --record`, `reprocess` and `resume` as a user runs them: a recorded set
// reprocesses to the live run's defects; a bad manifest exits 2 before anything runs; Ctrl-C stops
// a reprocess with exit 130 (Canceled) and `resume` then completes the same run.
#include "common/process.hpp"
#include "common/run_fixture.hpp"
#include "common/sanitizers.hpp"
#include "waferscan/recorded_set.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

namespace ws::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class ReprocessCli : public ::testing::Test {
 protected:
  std::string src(const std::string& rel) { return source_path(rel).string(); }
  std::string db() { return (dir_.path() / "runs.db").string(); }
  std::string set() { return (dir_.path() / "set").string(); }

  /// Records the quick recipe; returns the live run's summary line.
  std::string record() {
    const auto r =
        run_cli({"run", src("data/recipes/quick.yaml"), "--graph", src("graphs/inspect.yaml"),
                 "--time-scale", "0", "--db", db(), "--record", set(), "--quiet"},
                dir_.path());
    EXPECT_EQ(r.code, 0) << r.err;
    return r.err;
  }

  std::vector<std::string> reprocess_args() {
    return {"reprocess", set(),
            "--recipe",  src("data/recipes/quick.yaml"),
            "--graph",   src("graphs/inspect.yaml"),
            "--db",      db(),
            "--quiet"};
  }

  static std::string defects_of(const std::string& summary) {
    std::smatch m;
    EXPECT_TRUE(std::regex_search(summary, m, std::regex(R"((\d+) defects)"))) << summary;
    return m.size() > 1 ? m[1].str() : "";
  }

  TempDir dir_;
};

TEST_F(ReprocessCli, RecordedRunReprocessesToTheSameDefects) {
  const std::string live = record();
  ASSERT_TRUE(fs::exists(fs::path(set()) / "manifest.yaml"));
  const auto r = run_cli(reprocess_args(), dir_.path());
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("Completed: 12/12 sites done"), std::string::npos) << r.err;
  EXPECT_EQ(defects_of(r.err), defects_of(live));
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << "skipped steps are not warnings\n"
                                                      << r.err;
  // --sites takes ranges; a site without a frame is a usage error.
  auto args = reprocess_args();
  args.insert(args.end(), {"--sites", "0-3,7"});
  const auto some = run_cli(args, dir_.path());
  EXPECT_EQ(some.code, 0) << some.err;
  EXPECT_NE(some.err.find("5/5 sites done"), std::string::npos) << some.err;
  args.back() = "0-3,99";
  const auto bad = run_cli(args, dir_.path());
  EXPECT_EQ(bad.code, 2) << bad.err;
  EXPECT_NE(bad.err.find("site 99 has no frame"), std::string::npos) << bad.err;
}

TEST_F(ReprocessCli, BadManifestExitsTwoBeforeAnythingRuns) {
  fs::create_directories(set());
  const fs::path manifest = fs::path(set()) / "manifest.yaml";
  std::ofstream(manifest) << "version: 1\nframe: {width: 64, height: 64}\ngolden: g.png\n";
  auto r = run_cli(reprocess_args(), dir_.path());
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find(manifest.string() + ":3: golden:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("g.png' does not exist"), std::string::npos) << r.err;

  std::ofstream(fs::path(set()) / "g.png") << "x";
  std::ofstream(manifest, std::ios::trunc)
      << "version: 1\nframe: {width: 64, height: 64}\ngolden: g.png\nframes:\n"
         "  - image: frames/0.png\n";
  r = run_cli(reprocess_args(), dir_.path());
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find(manifest.string() + ":5: frames[0].image: frames[0] (site 0): file"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(db())) << "nothing ran, not even the store was created";
}

TEST_F(ReprocessCli, SigintCancelsWith130AndResumeCompletesTheSameRun) {
  record();
  // Enough frames that the run is still going when the signal arrives: every site reuses one of
  // the recorded frames. (Under ThreadSanitizer a frame takes about ten times longer.)
  const int sites = kThreadSanitizer ? 30 : 120;
  Manifest m = load_manifest(set());
  const std::vector<FrameEntry> recorded = m.frames;
  m.frames.clear();
  for (int k = 0; k < sites; ++k) {
    FrameEntry e = recorded[static_cast<std::size_t>(k) % recorded.size()];
    e.site_index = k;
    e.name = "s" + std::to_string(k);
    m.frames.push_back(e);
  }
  save_manifest(m);

  auto args = reprocess_args();
  args.insert(args.end(), {"--events", "-"});
  Process p(args, dir_.path());
  ASSERT_TRUE(p.wait_for_line("\"type\":\"site\"", 60s)) << p.err();
  p.signal(SIGINT);
  EXPECT_EQ(p.wait(), 130) << p.err();
  EXPECT_NE(p.err().find("Canceled (operator)"), std::string::npos) << p.err();

  std::smatch id;
  const std::string err = p.err();
  ASSERT_TRUE(std::regex_search(err, id, std::regex(R"(run (\d+) Canceled)"))) << err;
  const auto r = run_cli({"resume", id[1].str(), "--db", db(), "--quiet"}, dir_.path());
  EXPECT_EQ(r.code, 0) << r.err;
  const std::string all = std::to_string(sites);
  EXPECT_NE(r.err.find("run " + id[1].str() + " Completed: " + all + "/" + all + " sites done"),
            std::string::npos)
      << r.err;
  // A completed run cannot be resumed.
  const auto again = run_cli({"resume", id[1].str(), "--db", db(), "--quiet"}, dir_.path());
  EXPECT_EQ(again.code, 2) << again.err;
}

}  // namespace
}  // namespace ws::testing
