// Pins down "Stop stops" at every point a stop can land: before and after every device call of
// every site, at the entry of every node, and during the safe-stop sequence itself, for every
// reason and both strengths and several in-flight caps. Each run must end Canceled with the right
// reason (or Completed when nothing was left to stop), with the light off, the stage parked, the
// camera released, every site in exactly one status, and every done site holding exactly the
// defects an uninterrupted run finds. Then runs with stops at random points bring the total past
// 1000, and threads, file descriptors and resident memory must not have grown. Under sanitizers
// there are fewer caps and random runs; under ThreadSanitizer every point also gets one of the
// reason/strength combinations in turn instead of all five.
#include "common/run_fixture.hpp"
#include "common/sanitizers.hpp"

#include <gtest/gtest.h>

#include <dirent.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <tuple>

namespace ws::testing {
namespace {

struct Resources {
  long threads = 0;
  long fds = 0;
  long rss_kb = 0;
};

Resources resources() {
  Resources r;
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "Threads:") status >> r.threads;
    if (key == "VmRSS:") status >> r.rss_kb;
  }
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d) != nullptr) ++r.fds;
    closedir(d);
  }
  return r;
}

using Point = std::pair<std::string, std::size_t>;
constexpr std::size_t kAnySite = static_cast<std::size_t>(-1);
using DefectKey = std::tuple<int, int, int, int, std::string>;

struct Combo {
  StopReason reason;
  StopStrength strength;
};
constexpr Combo kCombos[] = {
    {StopReason::operator_request, StopStrength::stop},
    {StopReason::operator_request, StopStrength::abort},
    {StopReason::shutdown, StopStrength::stop},
    {StopReason::shutdown, StopStrength::abort},
    {StopReason::emergency_stop, StopStrength::abort},
};

class StopEverywhere : public RunFixture {
 protected:
  void SetUp() override {
    Recipe r = quick_recipe();
    r.sites.resize(6);
    r.camera.width = 256;  // small frames: a thousand runs must stay quick
    r.camera.height = 256;
    make(r);
  }

  std::map<int, std::multiset<DefectKey>> defects_by_site(RunId id) {
    std::map<int, std::multiset<DefectKey>> out;
    for (const auto& s : controller_->store().sites(id)) {
      auto& set = out[s.site.index];
      for (const auto& d : s.defects) {
        const auto& b = d.features.bbox;
        set.insert({b.x, b.y, b.width, b.height, d.class_name});
      }
    }
    return out;
  }

  /// Runs once with a stop of `combo` at `point`; checks every promise; returns the report.
  RunReport stop_at(const Point& point, const Combo& combo, std::size_t cap) {
    std::atomic<bool> fired{false};
    auto req = request();
    req.graph.in_flight = cap;
    RunHooks hooks;
    hooks.probe = [&](std::string_view name, std::size_t seq) {
      if ((point.second != kAnySite && seq != point.second) || name != point.first ||
          fired.exchange(true)) {
        return;
      }
      if (combo.reason == StopReason::emergency_stop) {
        controller_->emergency_stop("test interlock");
      } else {
        controller_->request_stop(std::nullopt, combo.reason, combo.strength, "test");
      }
    };
    const RunReport r = controller_->run(req, hooks);
    const std::string where = point.first + "#" + std::to_string(point.second) + " " +
                              std::string(to_string(combo.reason)) + "/" +
                              std::string(to_string(combo.strength)) + " cap " +
                              std::to_string(cap);
    EXPECT_TRUE(fired.load()) << where << ": the point was never reached";
    const bool nothing_left = r.sites.done == r.sites.total;
    if (r.state == RunState::completed) {
      EXPECT_TRUE(nothing_left) << where;
    } else {
      EXPECT_EQ(r.state, RunState::canceled) << where << ": " << r.message;
      EXPECT_EQ(r.stop_reason, combo.reason) << where;
    }
    if (point.first.rfind("safe_stop.", 0) == 0) {
      EXPECT_EQ(r.state, RunState::completed) << where << ": a stop during cleanup changes nothing";
    }
    expect_consistent(r);
    expect_hardware_safe(r);
    // Every done site has exactly the defects an uninterrupted run finds there.
    const auto got = defects_by_site(r.id);
    for (const auto& s : controller_->store().sites(r.id)) {
      if (s.status != SiteStatus::done) continue;
      EXPECT_EQ(got.at(s.site.index), reference_.at(s.site.index))
          << where << ": site " << s.site.index;
    }
    if (::testing::Test::HasFailure()) ADD_FAILURE() << "first failure at " << where;
    return r;
  }

  std::map<int, std::multiset<DefectKey>> reference_;
};

TEST_F(StopEverywhere, EveryPointEveryReasonBothStrengths) {
  // Discover the points by running once without a stop; it is also the reference result.
  std::vector<Point> points;
  std::mutex points_mutex;
  {
    auto req = request();
    RunHooks hooks;
    hooks.probe = [&](std::string_view name, std::size_t seq) {
      std::lock_guard lock(points_mutex);
      // The lamp is switched on by whichever site the agent happens to acquire first (with a cap
      // above 1 that is not always site 0): that point is "the first light-on", whatever site.
      const bool lamp = name.rfind("acquire.light_on", 0) == 0;
      points.emplace_back(std::string(name), lamp ? kAnySite : seq);
    };
    const RunReport r = controller_->run(req, hooks);
    ASSERT_EQ(r.state, RunState::completed);
    reference_ = defects_by_site(r.id);
  }
  std::sort(points.begin(), points.end());
  points.erase(std::unique(points.begin(), points.end()), points.end());
  ASSERT_GE(points.size(), 60u) << "6 sites x (device calls + nodes) + safe-stop steps";

  const Resources before = resources();
  const std::vector<std::size_t> caps =
      kSanitized ? std::vector<std::size_t>{4} : std::vector<std::size_t>{1, 2, 4};
  int runs = 0;
  int canceled = 0;
  constexpr std::size_t combos = std::size(kCombos);
  for (const auto cap : caps) {
    for (std::size_t p = 0; p < points.size(); ++p) {
      for (std::size_t c = 0; c < combos; ++c) {
        // ThreadSanitizer: the combinations in turn, so each still lands at a fifth of the points.
        if (kThreadSanitizer && c != p % combos) continue;
        const RunReport r = stop_at(points[p], kCombos[c], cap);
        ++runs;
        canceled += r.state == RunState::canceled ? 1 : 0;
        if (HasFailure()) return;  // the first failure says where; the rest would repeat it
      }
    }
  }
  const int exhaustive = runs;
  // Random points until more than a thousand runs in this process.
  std::mt19937 rng(20261126);
  const int random_runs = kThreadSanitizer ? 20 : 100;
  const int total =
      kSanitized ? exhaustive + random_runs : std::max(1000, exhaustive + random_runs);
  while (runs < total) {
    const auto& point = points[rng() % points.size()];
    const auto& combo = kCombos[rng() % std::size(kCombos)];
    stop_at(point, combo, 1 + rng() % 8);
    ++runs;
    if (HasFailure()) return;
  }
  // A following run completes.
  const RunReport last = controller_->run(request());
  EXPECT_EQ(last.state, RunState::completed);
  EXPECT_EQ(defects_by_site(last.id), reference_);

  const Resources after = resources();
  std::printf("stop points: %zu, exhaustive runs: %d (canceled %d), total runs: %d\n",
              points.size(), exhaustive, canceled, runs + 1);
  std::printf("threads %ld -> %ld, fds %ld -> %ld, rss %ld -> %ld kB\n", before.threads,
              after.threads, before.fds, after.fds, before.rss_kb, after.rss_kb);
  EXPECT_GE(exhaustive, kThreadSanitizer ? 60 : kSanitized ? 300 : 900);
  EXPECT_GT(canceled, exhaustive / 2) << "most stops land before the work is done";
  EXPECT_LE(after.threads, before.threads) << "a thread was left behind";
  EXPECT_LE(after.fds, before.fds) << "a file descriptor was left open";
  if (!kSanitized) {  // sanitizers keep their own shadow memory and quarantine
    EXPECT_LT(after.rss_kb - before.rss_kb, 64 * 1024) << "resident memory grew";
  }
}

}  // namespace
}  // namespace ws::testing
