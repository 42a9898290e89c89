// `waferscan run --record`, `reprocess` and `resume` as a user runs them: a recorded set
// reprocesses to the live run's defects; a bad manifest exits 2 before anything runs; Ctrl-C stops
// a reprocess with exit 130 (Canceled) and `resume` then completes the same run; the three share
// one run wiring: a Faulted device refuses each with exit 5, and an interlock during a resumed
// live run is an emergency stop (exit 3), as in `run`.
#include "common/process.hpp"
#include "common/run_fixture.hpp"
#include "common/sanitizers.hpp"
#include "waferscan/recorded_set.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

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

  /// The quick recipe with an interlock that fires when the stage goes to site 5 (its model path
  /// made absolute, so the copy works from the test's folder).
  std::string estop_recipe() {
    std::ifstream in(src("data/recipes/quick.yaml"));
    std::stringstream text;
    text << in.rdbuf();
    std::string yaml = std::regex_replace(text.str(), std::regex(R"(\nmodel: [^\n]*)"),
                                          "\nmodel: " + src("data/models/sim.json"));
    yaml += "\nfaults: [\"machine.estop=fire@site:5\"]\n";
    const auto path = dir_.path() / "estop.yaml";
    std::ofstream(path) << yaml;
    return path.string();
  }

  /// A run of `recipe` ending with `code`; returns the run's id from its summary line.
  std::string run_expecting(const std::string& recipe, int code,
                            const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"run",          recipe, "--graph", src("graphs/inspect.yaml"),
                                     "--time-scale", "0",    "--db",    db(),
                                     "--quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto r = run_cli(args, dir_.path());
    EXPECT_EQ(r.code, code) << r.err;
    std::smatch id;
    EXPECT_TRUE(std::regex_search(r.err, id, std::regex(R"(run (\d+) )"))) << r.err;
    return id.size() > 1 ? id[1].str() : "";
  }

  /// Makes the recorded set `sites` sites long, each reusing one of the recorded frames.
  void expand_set(int sites) {
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
  }

  /// Reprocesses the set and presses Ctrl-C once its first site is published: the run must end
  /// Canceled (operator) with exit 130. Returns its id (empty, having failed the test, if not).
  std::string reprocess_then_ctrl_c() {
    auto args = reprocess_args();
    args.insert(args.end(), {"--events", "-"});
    Process p(args, dir_.path());
    EXPECT_TRUE(p.wait_for_line("\"type\":\"site\"", 60s)) << p.err();
    p.signal(SIGINT);
    EXPECT_EQ(p.wait(), 130) << p.err();
    const std::string err = p.err();
    EXPECT_NE(err.find("Canceled (operator)"), std::string::npos) << err;
    std::smatch id;
    EXPECT_TRUE(std::regex_search(err, id, std::regex(R"(run (\d+) Canceled)"))) << err;
    return id.size() > 1 ? id[1].str() : "";
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
  expand_set(sites);

  const std::string id = reprocess_then_ctrl_c();
  ASSERT_FALSE(id.empty());
  const auto r = run_cli({"resume", id, "--db", db(), "--quiet"}, dir_.path());
  EXPECT_EQ(r.code, 0) << r.err;
  const std::string all = std::to_string(sites);
  EXPECT_NE(r.err.find("run " + id + " Completed: " + all + "/" + all + " sites done"),
            std::string::npos)
      << r.err;
  // A completed run cannot be resumed.
  const auto again = run_cli({"resume", id, "--db", db(), "--quiet"}, dir_.path());
  EXPECT_EQ(again.code, 2) << again.err;
}

// Two resumes of one run: the second is refused with exit 7 (busy) while the first holds the run,
// whatever the timing. The first is frozen (SIGSTOP) once it has published a site, so the second
// meets it mid-run every time; once the first has completed, the run is no longer resumable (2).
TEST_F(ReprocessCli, ASecondResumeOfARunBeingResumedIsBusy) {
  record();
  expand_set(kThreadSanitizer ? 60 : 400);
  const std::string id = reprocess_then_ctrl_c();
  ASSERT_FALSE(id.empty());

  Process winner({"resume", id, "--db", db(), "--events", "-"}, dir_.path());
  ASSERT_TRUE(winner.wait_for_line("\"type\":\"site\"", 60s)) << winner.err();
  winner.signal(SIGSTOP);
  const auto loser = run_cli({"resume", id, "--db", db(), "--quiet"}, dir_.path());
  winner.signal(SIGCONT);
  EXPECT_EQ(loser.code, 7) << loser.err;
  EXPECT_NE(loser.err.find("run " + id + " is Running in process"), std::string::npos) << loser.err;
  EXPECT_EQ(winner.wait(), 0) << winner.err();
  const auto after = run_cli({"resume", id, "--db", db(), "--quiet"}, dir_.path());
  EXPECT_EQ(after.code, 2) << after.err;
  // One resume happened, and `show` says so (the refused ones changed nothing).
  const auto shown = run_cli({"show", id, "--db", db(), "--json"}, dir_.path());
  ASSERT_EQ(shown.code, 0) << shown.err;
  EXPECT_NE(shown.out.find("\"resume_count\": 1"), std::string::npos) << shown.out;
  EXPECT_EQ(shown.out.find("\"resumed_at\": null"), std::string::npos) << shown.out;
}

TEST_F(ReprocessCli, AnInterlockDuringAResumedLiveRunIsAnEmergencyStop) {
  const std::string id = run_expecting(estop_recipe(), 3);
  // The resumed run visits site 5 again, where the machine's interlock fires again.
  const auto r = run_cli({"resume", id, "--db", db(), "--quiet"}, dir_.path());
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find("run " + id + " Canceled (emergency_stop)"), std::string::npos) << r.err;
  const auto shown = run_cli({"show", id, "--db", db(), "--json"}, dir_.path());
  ASSERT_EQ(shown.code, 0) << shown.err;
  const auto j = nlohmann::json::parse(shown.out);
  EXPECT_EQ(j["state"], "Canceled");
  EXPECT_EQ(j["stop_reason"], "emergency_stop");
}

TEST_F(ReprocessCli, AFaultedDeviceRefusesReprocessAndResumeWithExitFive) {
  record();
  const std::string canceled = run_expecting(estop_recipe(), 3);
  // A capture that hangs and ignores its abort: the watchdog faults the camera (exit 4).
  run_expecting(
      src("data/recipes/quick.yaml"), 4,
      {"--inject", "camera.capture=hang@site:2", "--inject", "camera.capture=ignore_abort@site:2"});
  const auto reprocess = run_cli(reprocess_args(), dir_.path());
  EXPECT_EQ(reprocess.code, 5) << reprocess.err;
  EXPECT_NE(reprocess.err.find("camera is Faulted"), std::string::npos) << reprocess.err;
  const auto resume = run_cli({"resume", canceled, "--db", db(), "--quiet"}, dir_.path());
  EXPECT_EQ(resume.code, 5) << resume.err;
  EXPECT_NE(resume.err.find("camera is Faulted"), std::string::npos) << resume.err;
}

}  // namespace
}  // namespace ws::testing
