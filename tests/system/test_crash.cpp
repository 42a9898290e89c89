// Pins down crash durability: the CLI killed with SIGKILL at 30 seeded random moments (the first 8
// under ThreadSanitizer) leaves a store that passes PRAGMA integrity_check, whose unfinished run
// shows as Interrupted on the next command, whose done sites hold exactly their defects, and which
// `waferscan resume` finishes with no defect stored twice. A run still alive in another process is
// never marked Interrupted.
#include "common/process.hpp"
#include "common/run_fixture.hpp"
#include "common/sanitizers.hpp"

#include <sqlite3.h>
#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <map>
#include <numeric>
#include <random>
#include <set>
#include <tuple>

namespace ws::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using DefectKey = std::tuple<int, int, int, int, std::string>;
using SiteDefects = std::map<int, std::multiset<DefectKey>>;

std::string integrity_check(const std::string& db) {
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(h);
    return "cannot open";
  }
  std::string result;
  sqlite3_exec(
      h, "PRAGMA integrity_check",
      [](void* out, int, char** values, char**) {
        *static_cast<std::string*>(out) += values[0] ? values[0] : "";
        return 0;
      },
      &result, nullptr);
  sqlite3_close(h);
  return result;
}

class Crash : public ::testing::Test {
 protected:
  std::string db() { return (dir_.path() / "runs.db").string(); }
  std::vector<std::string> run_args() {
    return {"run",          source_path("data/recipes/quick.yaml").string(),
            "--graph",      source_path("graphs/inspect.yaml").string(),
            "--db",         db(),
            "--events",     "-",
            "--time-scale", "0.2",
            "--quiet"};
  }
  json export_run(int id) {
    const auto r =
        run_cli({"export", std::to_string(id), "--format", "json", "--db", db()}, dir_.path());
    EXPECT_EQ(r.code, 0) << r.err;
    return json::parse(r.out);
  }
  static SiteDefects defects(const json& exported, bool done_only) {
    SiteDefects out;
    for (const auto& site : exported["sites"]) {
      if (done_only && site["status"] != "done") continue;
      auto& set = out[site["index"].get<int>()];
      for (const auto& d : site["defects"]) {
        const auto& b = d["bbox"];
        set.insert({b[0].get<int>(), b[1].get<int>(), b[2].get<int>(), b[3].get<int>(),
                    d["class"].get<std::string>()});
      }
    }
    return out;
  }
  TempDir dir_;
};

TEST_F(Crash, SigkillAtRandomMomentsLosesNothingStoredAndResumeFinishes) {
  // The reference: one uninterrupted run.
  ASSERT_EQ(run_cli(run_args(), dir_.path()).code, 0);
  const SiteDefects reference = defects(export_run(1), false);
  ASSERT_EQ(reference.size(), 12u);

  std::mt19937 rng(424242);
  std::size_t known_runs = 1;
  int interrupted = 0;
  // Under ThreadSanitizer a round takes about ten times longer: the first 8 kills only.
  const int rounds = kThreadSanitizer ? 8 : 30;
  for (int round = 0; round < rounds; ++round) {
    // Kill after a random number of event lines: a moment anywhere from before the run exists to
    // its safe-stop. Reading lines is the handshake: no sleeps.
    const int lines = static_cast<int>(rng() % 40);
    {
      Process p(run_args(), dir_.path());
      for (int i = 0; i < lines; ++i) {
        if (!p.wait_for_line("\"type\"", 30s)) break;
      }
      p.signal(SIGKILL);
      p.wait(30s);
    }
    ASSERT_EQ(integrity_check(db()), "ok") << "round " << round;
    const auto runs = run_cli({"runs", "--db", db(), "--json"}, dir_.path());
    ASSERT_EQ(runs.code, 0) << runs.err;
    const json all = json::parse(runs.out);
    if (all.size() == known_runs) continue;  // killed before the run was created
    known_runs = all.size();
    const int run_id = all.back()["id"].get<int>();
    const std::string state = all.back()["state"];
    if (state == "Completed") continue;  // killed after it finished
    ASSERT_EQ(state, "Interrupted") << "round " << round << ": a dead run must be found";
    ++interrupted;
    // Every site stored as done is complete.
    for (const auto& [index, set] : defects(export_run(run_id), true)) {
      EXPECT_EQ(set, reference.at(index)) << "round " << round << " site " << index;
    }
    // Resume finishes the run in place, with no defect stored twice.
    const auto resumed =
        run_cli({"resume", std::to_string(run_id), "--db", db(), "--quiet"}, dir_.path());
    ASSERT_EQ(resumed.code, 0) << resumed.err;
    const json after = export_run(run_id);
    EXPECT_EQ(after["run"]["state"], "Completed");
    EXPECT_EQ(defects(after, false), reference) << "round " << round;
    EXPECT_EQ(after["run"]["defects"].get<int>(),
              static_cast<int>(std::accumulate(
                  reference.begin(), reference.end(), std::size_t{0},
                  [](std::size_t n, const auto& kv) { return n + kv.second.size(); })));
  }
  std::printf("interrupted and resumed: %d of %d kills\n", interrupted, rounds);
  EXPECT_GE(interrupted, rounds / 3) << "most kills must land while a run is in progress";
}

TEST_F(Crash, ARunAliveInAnotherProcessIsNeverMarkedInterrupted) {
  auto args = run_args();
  args[args.size() - 2] = "2";  // slow enough to look at it while it runs
  Process p(args, dir_.path());
  ASSERT_TRUE(p.wait_for_line("\"type\":\"site\"", 60s));
  const auto shown = run_cli({"show", "1", "--db", db(), "--json"}, dir_.path());
  ASSERT_EQ(shown.code, 0) << shown.err;
  EXPECT_EQ(json::parse(shown.out)["state"], "Running");
  p.signal(SIGINT);
  EXPECT_EQ(p.wait(60s), 130);
  EXPECT_EQ(json::parse(run_cli({"show", "1", "--db", db(), "--json"}, dir_.path()).out)["state"],
            "Canceled");
}

}  // namespace
}  // namespace ws::testing
