// Pins down the command line as a user runs it: the demo completes, SIGINT/SIGTERM stop a run
// safely with the documented exit codes and stored outcome, a run right after completes, bad
// recipes are refused with file and line before anything moves, and show/export print the
// documented JSON.
#include "common/process.hpp"
#include "common/run_fixture.hpp"
#include "common/sanitizers.hpp"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

namespace ws::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

int count_stored_events(const std::string& db, const std::string& type) {
  sqlite3* h = nullptr;
  int count = -1;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* q = nullptr;
    sqlite3_prepare_v2(h, "SELECT count(*) FROM run_events WHERE type = ?", -1, &q, nullptr);
    sqlite3_bind_text(q, 1, type.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(q) == SQLITE_ROW) count = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
  }
  sqlite3_close(h);
  return count;
}

class Cli : public ::testing::Test {
 protected:
  std::string src(const std::string& rel) { return source_path(rel).string(); }
  std::string db() { return (dir_.path() / "runs.db").string(); }

  json show(const std::string& id) {
    const auto r = run_cli({"show", id, "--db", db(), "--json"}, dir_.path());
    EXPECT_EQ(r.code, 0) << r.err;
    return json::parse(r.out);
  }

  std::vector<json> events(const std::string& text) {
    std::vector<json> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.front() == '{') out.push_back(json::parse(line));
    }
    return out;
  }

  static bool has_event(const std::vector<json>& evs, const std::string& type,
                        const std::string& key, const std::string& value) {
    for (const auto& e : evs) {
      if (e.value("type", "") == type && e.contains(key) && e[key] == value) return true;
    }
    return false;
  }

  // Under ThreadSanitizer a run of the demo's 88 sites takes minutes, and these tests check the
  // command line's behaviour, not the demo's length: there they run its first kTsanSites sites
  // (a copy of the recipe cut after them, with the model path made absolute).
  static constexpr int kTsanSites = 24;
  static int demo_sites() { return kThreadSanitizer ? kTsanSites : 88; }

  std::string demo_recipe() {
    const std::string demo = src("data/recipes/demo.yaml");
    if (!kThreadSanitizer) return demo;
    const auto copy = dir_.path() / "demo-tsan.yaml";
    if (std::filesystem::exists(copy)) return copy.string();
    std::ifstream in(demo);
    std::ofstream out(copy);
    std::string line;
    int sites = -1;  // -1: before the sites list
    while (std::getline(in, line)) {
      if (line.starts_with("model: ")) line = "model: " + src("data/models/sim.json");
      if (line.starts_with("sites:")) sites = 0;
      if (sites >= 0 && line.starts_with("  - ") && ++sites > kTsanSites) break;
      out << line << '\n';
    }
    EXPECT_EQ(sites, kTsanSites + 1) << "the demo recipe's sites list has changed shape";
    return copy.string();
  }

  std::vector<std::string> run_args(double time_scale) {
    return {"run",      demo_recipe(), "--graph",      src("graphs/inspect.yaml"), "--db", db(),
            "--events", "-",           "--time-scale", std::to_string(time_scale)};
  }

  void expect_stopped_safely(const std::vector<json>& evs, const json& run) {
    EXPECT_TRUE(has_event(evs, "hardware", "state", "off"));     // light off
    EXPECT_TRUE(has_event(evs, "hardware", "state", "parked"));  // stage parked
    EXPECT_TRUE(has_event(evs, "hardware", "state", "released"));
    for (const char* step : {"abort_capture", "stop_stage", "park_stage", "light_off",
                             "flush_publisher", "persist_sites", "release_hardware"}) {
      EXPECT_TRUE(has_event(evs, "safe_stop_step", "step", step)) << step;
    }
    const auto& s = run["sites"];
    EXPECT_EQ(s["done"].get<int>() + s["incomplete"].get<int>() + s["error"].get<int>() +
                  s["not_started"].get<int>(),
              s["total"].get<int>());
    EXPECT_GT(s["not_started"].get<int>(), 0) << "no new site starts after a stop";
    EXPECT_FALSE(run["stop_latency_ms"].is_null());
  }

  TempDir dir_;
};

TEST_F(Cli, DemoCompletesWithExitZero) {
  const auto r = run_cli(run_args(0.02), dir_.path());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("Completed"), std::string::npos) << r.err;
  const auto evs = events(r.out);
  EXPECT_TRUE(has_event(evs, "state", "state", "Running"));
  EXPECT_TRUE(has_event(evs, "state", "state", "Completed"));
  // Not a terminal: plain progress lines (the live bar is for terminals), then the summary.
  EXPECT_NE(r.err.find("progress: "), std::string::npos) << r.err;
  const std::string all = std::to_string(demo_sites());
  EXPECT_NE(r.err.find("progress: " + all + "/" + all + " sites"), std::string::npos) << r.err;
  const json run = show("1");
  EXPECT_EQ(run["state"], "Completed");
  EXPECT_TRUE(run["stop_reason"].is_null());
  EXPECT_TRUE(run["stop_latency_ms"].is_null());
  EXPECT_EQ(run["sites"]["done"], run["sites"]["total"]);
  EXPECT_GT(run["defects"].get<int>(), 0);
}

struct SignalCase {
  int sig;
  const char* name;
  int signals;  // 1: stop, 2: abort
  int exit_code;
  const char* reason;
};

class CliSignal : public Cli, public ::testing::WithParamInterface<SignalCase> {};

TEST_P(CliSignal, StopsSafelyAndTheNextRunCompletes) {
  const SignalCase c = GetParam();
  Process p(run_args(0.5), dir_.path());
  // Handshake: wait until sites are being published, then signal mid-run.
  ASSERT_TRUE(p.wait_for_line("\"type\":\"site\"", 60s)) << p.err();
  for (int i = 0; i < c.signals; ++i) {
    p.signal(c.sig);
    if (i + 1 < c.signals) {
      ASSERT_TRUE(p.wait_for_line("stop_requested", 30s));
    }
  }
  const int code = p.wait(60s);
  ASSERT_EQ(code, c.exit_code) << p.err();
  const auto evs = events(p.out());
  EXPECT_TRUE(has_event(evs, "stop_requested", "reason", c.reason));
  EXPECT_TRUE(has_event(evs, "stop_requested", "strength", c.signals == 2 ? "abort" : "stop"));
  EXPECT_TRUE(has_event(evs, "state", "state", "Canceled"));
  const json run = show("1");
  EXPECT_EQ(run["state"], "Canceled");
  EXPECT_EQ(run["stop_reason"], c.reason);
  expect_stopped_safely(evs, run);

  // Running again right after works.
  const auto again = run_cli(run_args(0.0), dir_.path());
  ASSERT_EQ(again.code, 0) << again.err;
  const json second = show("2");
  EXPECT_EQ(second["state"], "Completed");
  EXPECT_EQ(second["sites"]["done"], second["sites"]["total"]);
}

INSTANTIATE_TEST_SUITE_P(Signals, CliSignal,
                         ::testing::Values(SignalCase{SIGINT, "SIGINT", 1, 130, "operator"},
                                           SignalCase{SIGINT, "SIGINT", 2, 130, "operator"},
                                           SignalCase{SIGTERM, "SIGTERM", 1, 143, "shutdown"},
                                           SignalCase{SIGHUP, "SIGHUP", 1, 143, "shutdown"},
                                           SignalCase{SIGQUIT, "SIGQUIT", 1, 130, "operator"},
                                           SignalCase{SIGALRM, "SIGALRM", 1, 143, "shutdown"},
                                           SignalCase{SIGXCPU, "SIGXCPU", 1, 143, "shutdown"},
                                           SignalCase{SIGUSR1, "SIGUSR1", 1, 130, "operator"},
                                           // also the stopper's own wake-up signal: from
                                           // outside it must be a stop, not swallowed
                                           SignalCase{SIGUSR2, "SIGUSR2", 1, 130, "operator"}),
                         [](const auto& param_info) {
                           const SignalCase& c = param_info.param;
                           return std::string(c.name) + "x" + std::to_string(c.signals);
                         });

// One machine, one owner: while a run drives the machine, a second run (on another store, even)
// and a hardware reset are refused at once, with exit 7 and the holder named; nothing of theirs
// is stored. Once the first run has ended, the machine is free again.
TEST_F(Cli, ASecondProcessIsRefusedTheMachineWhileARunHoldsIt) {
  Process first(run_args(0.5), dir_.path());
  ASSERT_TRUE(first.wait_for_line("\"type\":\"site\"", 60s)) << first.err();
  auto second_args = run_args(0.0);
  const std::string other_db = (dir_.path() / "other.db").string();
  second_args[5] = other_db;
  const auto second = run_cli(second_args, dir_.path());
  EXPECT_EQ(second.code, exit_code::busy) << second.err;
  EXPECT_NE(second.err.find("the machine is in use by pid"), std::string::npos) << second.err;
  EXPECT_NE(second.err.find("`waferscan run`"), std::string::npos) << second.err;
  EXPECT_FALSE(std::filesystem::exists(other_db)) << "refused before any store was touched";
  const auto reset = run_cli({"hardware", "reset", "--db", db()}, dir_.path());
  EXPECT_EQ(reset.code, exit_code::busy) << reset.err;
  EXPECT_NE(reset.err.find("hardware reset refused"), std::string::npos) << reset.err;
  first.signal(SIGINT);
  ASSERT_EQ(first.wait(60s), 130) << first.err();
  const auto after = run_cli(second_args, dir_.path());
  EXPECT_EQ(after.code, 0) << after.err;
}

// A disk that fills during a run, for real: the process's file-size limit makes the kernel refuse
// SQLite's own write, as ENOSPC does (a 2 MB tmpfs gave the same deadlock before the fix). The run
// neither deadlocks nor skips the safe stop: the stage is parked and the light off; the command
// fails naming the store's error; what was stored before stays readable.
TEST_F(Cli, AStoreThatFillsUpDuringARunStillEndsSafely) {
  std::ifstream in(src("data/recipes/quick.yaml"));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string model = "model: ../models/sim.json";
  ASSERT_NE(text.find(model), std::string::npos);
  text.replace(text.find(model), model.size(), "model: " + src("data/models/sim.json"));
  text = text.substr(0, text.find("\nsites:")) + "\nsites: all\n";
  const auto recipe = dir_.path() / "many.yaml";
  std::ofstream(recipe) << text;
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  rlimit small = old;
  small.rlim_cur = 256 * 1024;  // inherited by the child only: restored right after the spawn
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  Process p({"run", recipe.string(), "--graph", src("graphs/inspect.yaml"), "--db", db(),
             "--events", "-", "--time-scale", "0", "--quiet"},
            dir_.path());
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old), 0);
  ASSERT_EQ(p.wait(120s), exit_code::failed) << p.err();
  // SQLite reports the refused write (EFBIG here, ENOSPC on a full disk) as an I/O error.
  EXPECT_NE(p.err().find("error: " + db() + ": "), std::string::npos) << p.err();
  EXPECT_TRUE(p.err().find("disk I/O error") != std::string::npos ||
              p.err().find("database or disk is full") != std::string::npos)
      << p.err();
  const auto evs = events(p.out());
  EXPECT_TRUE(has_event(evs, "hardware", "state", "parked"));
  EXPECT_TRUE(has_event(evs, "hardware", "state", "off"));
  for (const auto& e : evs) {
    if (e.value("type", "") != "safe_stop_step") continue;
    const std::string step = e.value("step", "");
    if (step == "park_stage" || step == "light_off") EXPECT_EQ(e.value("outcome", ""), "ok");
  }
  const json run = show("1");  // the run whose final state could not be written: Interrupted
  EXPECT_EQ(run["state"], "Interrupted");
  EXPECT_GT(run["sites"]["done"].get<int>(), 0);
}

// Whether `pid` blocks `sig` (the SigBlk mask of /proc/PID/status): the CLI blocks the stop
// signals first thing in main, and its signal thread takes them from then on.
bool blocks(pid_t pid, int sig) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("SigBlk:", 0) != 0) continue;
    const unsigned long long mask = std::stoull(line.substr(7), nullptr, 16);
    return ((mask >> (sig - 1)) & 1ULL) != 0;
  }
  return false;
}

// Handshake: polls the child's state (no timing is asserted), bounded.
bool wait_until_blocked(const Process& p, int sig) {
  for (int i = 0; i < 3000; ++i) {
    if (blocks(p.pid(), sig)) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

struct EarlySignalCase {
  int sig;
  int exit_code;
};

class EarlySignal : public Cli, public ::testing::WithParamInterface<EarlySignalCase> {};

// Stop works before the run exists: an events output that is a FIFO nobody reads blocks `run` in
// its open, after the recipe is read and before the store is touched; a stop signal ends it at
// once with the signal's exit code, and nothing is stored. (A FIFO given as the recipe or graph
// spec is refused without being opened:
// BoundedInput.ARecipeThatIsNotARegularFileIsNamedAsWhatItIs.)
TEST_P(EarlySignal, EndsACommandStuckBeforeAnyRunExists) {
  const EarlySignalCase c = GetParam();
  const auto fifo = dir_.path() / "events.jsonl";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  Process p({"run", src("data/recipes/quick.yaml"), "--graph", src("graphs/inspect.yaml"), "--db",
             db(), "--events", fifo.string(), "--time-scale", "0"},
            dir_.path());
  ASSERT_TRUE(wait_until_blocked(p, c.sig));
  p.signal(c.sig);
  EXPECT_EQ(p.wait(60s), c.exit_code) << p.err();
  EXPECT_NE(p.err().find("stopped by"), std::string::npos) << p.err();
  EXPECT_FALSE(std::filesystem::exists(db())) << "nothing was stored";
}

INSTANTIATE_TEST_SUITE_P(Signals, EarlySignal,
                         ::testing::Values(EarlySignalCase{SIGINT, 130},
                                           EarlySignalCase{SIGTERM, 143},
                                           EarlySignalCase{SIGHUP, 143}),
                         [](const auto& c) { return "run_" + std::to_string(c.param.sig); });

// `export` is interruptible too: an output that is a FIFO nobody reads blocks it in its open.
TEST_F(Cli, ExportStopsOnCtrlC) {
  ASSERT_EQ(run_cli(run_args(0.0), dir_.path()).code, 0);
  const auto fifo = dir_.path() / "out.json";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  Process p({"export", "1", "--format", "json", "--out", fifo.string(), "--db", db()}, dir_.path());
  ASSERT_TRUE(wait_until_blocked(p, SIGINT));
  p.signal(SIGINT);
  EXPECT_EQ(p.wait(60s), 130) << p.err();
  EXPECT_EQ(show("1")["state"], "Completed") << "the store is untouched";
}

// A stop escalated by another signal: the reason is the first one's, the abort's origin names
// the signal that escalated.
TEST_F(Cli, AnEscalationNamesTheSignalThatEscalated) {
  Process p(run_args(0.5), dir_.path());
  ASSERT_TRUE(p.wait_for_line("\"type\":\"site\"", 60s)) << p.err();
  p.signal(SIGINT);
  ASSERT_TRUE(p.wait_for_line("stop_requested", 30s));
  p.signal(SIGTERM);
  ASSERT_EQ(p.wait(60s), 130) << p.err();
  bool stop_seen = false;
  bool abort_seen = false;
  for (const auto& e : events(p.out())) {
    if (e.value("type", "") != "stop_requested") continue;
    EXPECT_EQ(e.value("reason", ""), "operator");
    if (e.value("strength", "") == "stop") {
      stop_seen = true;
      EXPECT_EQ(e.value("origin", ""), "SIGINT");
    } else {
      abort_seen = true;
      EXPECT_EQ(e.value("origin", ""), "SIGTERM") << e.dump();
      EXPECT_EQ(e.value("first_origin", ""), "SIGINT") << e.dump();
    }
  }
  EXPECT_TRUE(stop_seen);
  EXPECT_TRUE(abort_seen);
}

// `--events - | head -n 1`: the reader is gone. Its stdout here is a pipe nobody reads from at
// all, so every event write fails (EPIPE), deterministically, from the first.
TEST_F(Cli, ADeadEventReaderIsASinkFailureAndTheRunGoesOn) {
  Process p(run_args(0.0), dir_.path(), StdoutMode::dead_pipe);
  const int code = p.wait();
  ASSERT_EQ(code, 0) << "no death by SIGPIPE (141); " << p.err();
  const json run = show("1");
  EXPECT_EQ(run["state"], "Completed");
  EXPECT_EQ(run["sites"]["done"], run["sites"]["total"]);
  EXPECT_EQ(count_stored_events(db(), "sink_failed"), 1) << "journaled once, then not written to";
  EXPECT_GT(count_stored_events(db(), "site"), 0) << "the store keeps every event";
}

// The product of `show` is its standard output: when nobody can read it, that is a failure.
TEST_F(Cli, ShowToADeadReaderFails) {
  ASSERT_EQ(run_cli(run_args(0.0), dir_.path()).code, 0);
  Process p({"show", "1", "--db", db(), "--json"}, dir_.path(), StdoutMode::dead_pipe);
  EXPECT_EQ(p.wait(), 1);
  EXPECT_NE(p.err().find("standard output: write failed"), std::string::npos) << p.err();
}

TEST_F(Cli, QuietSilencesProgressButKeepsTheSummary) {
  auto args = run_args(0.0);
  args.push_back("--quiet");
  const auto r = run_cli(args, dir_.path());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err.find("progress"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Completed"), std::string::npos) << r.err;
}

TEST_F(Cli, MalformedRecipeIsAUsageErrorNamingFileAndLine) {
  const auto bad = dir_.path() / "bad.yaml";
  std::ofstream(bad) << "recipe: bad\nseed: 1\ncamera:\n  width: [1, 2\n";
  const auto r = run_cli({"run", bad.string(), "--db", db()}, dir_.path());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("bad.yaml:"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(db())) << "nothing may be stored for a refused recipe";
}

TEST_F(Cli, OutOfRangeStagePositionIsRefusedBeforeAnythingMoves) {
  const auto bad = dir_.path() / "far.yaml";
  std::ifstream in(src("data/recipes/quick.yaml"));
  std::stringstream text;
  text << in.rdbuf();
  std::string recipe = text.str();
  const auto pos = recipe.find("sites:");
  ASSERT_NE(pos, std::string::npos);
  recipe = recipe.substr(0, pos) + "sites:\n  - die: [0, 0]\n    position_um: [900000, 0]\n";
  std::ofstream(bad) << recipe;
  const auto r = run_cli({"run", bad.string(), "--db", db()}, dir_.path());
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("far.yaml:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("position_um"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(db())) << "refused before the store or hardware exist";
}

TEST_F(Cli, UsageErrorsExitTwo) {
  EXPECT_EQ(run_cli({"bogus"}, dir_.path()).code, 2);
  EXPECT_EQ(run_cli({"run"}, dir_.path()).code, 2);
  EXPECT_EQ(run_cli({"run", src("data/recipes/quick.yaml"), "--in-flight", "0"}, dir_.path()).code,
            2);
  const auto missing = run_cli({"run", "no-such-recipe.yaml", "--db", db()}, dir_.path());
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("no-such-recipe.yaml"), std::string::npos) << missing.err;
}

TEST_F(Cli, AFaultedDeviceRefusesRunsUntilTheOperatorResetsIt) {
  // A capture that hangs and ignores its abort: the watchdog faults the camera (exit 4, timeout).
  auto args = run_args(0.0);
  args.insert(args.end(), {"--inject", "camera.capture=hang@site:2", "--inject",
                           "camera.capture=ignore_abort@site:2"});
  const auto faulted = run_cli(args, dir_.path());
  ASSERT_EQ(faulted.code, 4) << faulted.err;
  EXPECT_EQ(show("1")["state"], "Failed");
  EXPECT_EQ(show("1")["stop_reason"], "timeout");
  // Refused while Faulted (exit 5, nothing stored), reset by the operator, then it runs again.
  const auto refused = run_cli(run_args(0.0), dir_.path());
  EXPECT_EQ(refused.code, 5) << refused.err;
  EXPECT_NE(refused.err.find("camera is Faulted"), std::string::npos) << refused.err;
  const auto status = run_cli({"hardware", "status", "--db", db()}, dir_.path());
  EXPECT_EQ(status.code, 5);
  EXPECT_NE(status.out.find("camera"), std::string::npos) << status.out;
  const auto reset = run_cli({"hardware", "reset", "--db", db()}, dir_.path());
  ASSERT_EQ(reset.code, 0) << reset.err;
  EXPECT_NE(reset.out.find("1 device(s) reset"), std::string::npos) << reset.out;
  EXPECT_EQ(run_cli({"hardware", "status", "--db", db()}, dir_.path()).code, 0);
  EXPECT_EQ(run_cli(run_args(0.0), dir_.path()).code, 0);
}

TEST_F(Cli, AnInterlockIsAnEmergencyStopWithExitThree) {
  auto args = run_args(0.0);
  args.insert(args.end(), {"--inject", "machine.estop=fire@site:5"});
  const auto r = run_cli(args, dir_.path());
  ASSERT_EQ(r.code, 3) << r.err;
  const json run = show("1");
  EXPECT_EQ(run["state"], "Canceled");
  EXPECT_EQ(run["stop_reason"], "emergency_stop");
  const auto evs = events(r.out);
  EXPECT_TRUE(has_event(evs, "hardware", "state", "off"));
  EXPECT_TRUE(has_event(evs, "hardware", "state", "parked"));
}

TEST_F(Cli, AnOverheatedMachineStopsTheRunWithReasonFault) {
  // The demo recipe's monitor stops the run on an alarm; this machine is hot from the first
  // reading, which comes before any site starts.
  auto args = run_args(0.0);
  args.insert(args.end(), {"--inject", "machine.overheat=fire@call:1"});
  const auto r = run_cli(args, dir_.path());
  ASSERT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("health monitor: temperature"), std::string::npos) << r.err;
  const json run = show("1");
  EXPECT_EQ(run["state"], "Failed");
  EXPECT_EQ(run["stop_reason"], "fault");
  EXPECT_EQ(run["sites"]["done"], 0);
  const auto evs = events(r.out);
  EXPECT_TRUE(has_event(evs, "alarm", "kind", "alarm"));
  EXPECT_TRUE(has_event(evs, "stop_requested", "reason", "fault"));
  EXPECT_TRUE(has_event(evs, "hardware", "state", "parked"));
  EXPECT_TRUE(has_event(evs, "hardware", "state", "off"));
  // The next run on a machine that is not hot completes.
  EXPECT_EQ(run_cli(run_args(0.0), dir_.path()).code, 0);
}

TEST_F(Cli, ExportJsonHasTheDocumentedShape) {
  ASSERT_EQ(run_cli(run_args(0.0), dir_.path()).code, 0);
  const auto r = run_cli({"export", "1", "--format", "json", "--db", db()}, dir_.path());
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["run"]["id"], 1);
  ASSERT_FALSE(j["sites"].empty());
  int defects = 0;
  for (const auto& site : j["sites"]) {
    for (const char* k : {"index", "name", "die", "position_um", "status", "defects"}) {
      EXPECT_TRUE(site.contains(k)) << k;
    }
    for (const auto& d : site["defects"]) {
      ++defects;
      for (const char* k :
           {"id", "bbox", "class", "confidence", "area_px", "polarity", "contrast"}) {
        EXPECT_TRUE(d.contains(k)) << k;
      }
      EXPECT_EQ(d["bbox"].size(), 4u);
      EXPECT_LT(d["bbox"][0].get<int>(), d["bbox"][2].get<int>());
    }
  }
  EXPECT_EQ(defects, j["run"]["defects"].get<int>());
  const auto runs = run_cli({"runs", "--db", db(), "--json"}, dir_.path());
  ASSERT_EQ(runs.code, 0);
  EXPECT_EQ(json::parse(runs.out).size(), 1u);
  EXPECT_EQ(run_cli({"show", "99", "--db", db()}, dir_.path()).code, 2);
}

// A store written before text was checked may hold names that are not UTF-8: every read command
// still works, and the JSON outputs stay valid JSON (the bad bytes become U+FFFD).
TEST_F(Cli, AStoreHoldingTextThatIsNotUtf8StaysReadable) {
  ASSERT_EQ(run_cli(run_args(0.0), dir_.path()).code, 0);
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db().c_str(), &h), SQLITE_OK);
  const int rc = sqlite3_exec(h,
                              "UPDATE runs SET recipe_name = CAST(X'636166E9' AS TEXT);"
                              "UPDATE sites SET name = CAST(X'72FF' AS TEXT) WHERE idx = 0;",
                              nullptr, nullptr, nullptr);
  sqlite3_close(h);
  ASSERT_EQ(rc, SQLITE_OK);
  const std::string replaced = "caf\xEF\xBF\xBD";  // U+FFFD in UTF-8
  for (const std::vector<std::string>& args : {std::vector<std::string>{"runs", "--json"},
                                               {"show", "1", "--json"},
                                               {"export", "1", "--format", "json"}}) {
    std::vector<std::string> full = args;
    full.insert(full.end(), {"--db", db()});
    const auto r = run_cli(full, dir_.path());
    ASSERT_EQ(r.code, 0) << args[0] << ": " << r.err;
    const json j = json::parse(r.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << args[0] << " printed invalid JSON";
    EXPECT_NE(r.out.find(replaced), std::string::npos) << args[0] << ": " << r.out.substr(0, 400);
  }
  const auto text = run_cli({"show", "1", "--db", db()}, dir_.path());
  EXPECT_EQ(text.code, 0) << text.err;
}

}  // namespace
}  // namespace ws::testing
