// Shared fixture for graph tests: a RunController on a simulated machine with a fast recipe, a
// fresh store per test, and helpers to read back what was stored.
#pragma once

#include "common/sanitizers.hpp"
#include "waferscan/classifier.hpp"
#include "waferscan/graph_spec.hpp"
#include "waferscan/recipe.hpp"
#include "waferscan/run.hpp"
#include "waferscan/sim/sim_machine.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

namespace ws::testing {

inline std::filesystem::path source_path(const std::string& rel) {
  return std::filesystem::path(WS_SOURCE_DIR) / rel;
}

/// The bytes of the file at `p` (empty when it cannot be read).
inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

/// A unique empty directory under the system temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : "ws";
    for (auto& c : name) {
      if (c == '/') c = '_';
    }
    path_ = std::filesystem::temp_directory_path() /
            ("waferscan-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// The quick recipe (12 sites) with instant hardware, unless a test changes it. Under
/// ThreadSanitizer the frames in flight take about ten times longer to finish, so a stop gets a
/// longer drain before it escalates to an abort.
inline Recipe quick_recipe(double time_scale = 0.0) {
  Recipe r = load_recipe(source_path("data/recipes/quick.yaml"));
  r.time_scale = time_scale;
  r.drain_timeout_ms *= kDeadlineFactor;
  return r;
}

inline GraphSpec default_graph() {
  return load_graph_spec(source_path("graphs/inspect.yaml"));
}

/// A simulated machine, a controller and a store in a temp dir.
class RunFixture : public ::testing::Test {
 protected:
  void SetUp() override { make(quick_recipe()); }
  void TearDown() override {
    // No simulated driver call may stay blocked by an injected hang once the test is over.
    if (sim_) {
      sim_->on_interlock({});
      sim_->release_hangs();
    }
    controller_.reset();
  }

  void make(Recipe r, AgentOptions options = {}) {
    if (sim_) sim_->release_hangs();
    controller_.reset();
    recipe_ = std::move(r);
    sim_ = std::make_unique<SimMachine>(recipe_);
    classifier_ = classify::Classifier::load(recipe_.model);
    controller_ =
        std::make_unique<RunController>(sim_->machine(), dir_.path() / "runs.db", options);
    sim_->on_interlock([this](const std::string& why) { controller_->emergency_stop(why); });
  }

  RunRequest request() {
    RunRequest req;
    req.recipe = recipe_;
    req.graph = default_graph();
    req.classifier = &classifier_;
    return req;
  }

  /// Every site has exactly one status and the counts add up.
  void expect_consistent(const RunReport& r) {
    const auto sites = controller_->store().sites(r.id);
    ASSERT_EQ(sites.size(), recipe_.sites.size());
    SiteCounts c;
    c.total = static_cast<int>(sites.size());
    for (const auto& s : sites) {
      switch (s.status) {
        case SiteStatus::done:
          ++c.done;
          break;
        case SiteStatus::incomplete:
          ++c.incomplete;
          EXPECT_TRUE(s.defects.empty()) << "an incomplete site keeps no defects";
          break;
        case SiteStatus::error:
          ++c.error;
          EXPECT_FALSE(s.reason.empty());
          break;
        case SiteStatus::not_started:
          ++c.not_started;
          EXPECT_TRUE(s.defects.empty());
          break;
        case SiteStatus::unreliable:
          ++c.unreliable;
          EXPECT_TRUE(s.defects.empty()) << "an unreliable site keeps no defects";
          EXPECT_FALSE(s.reason.empty());
          break;
      }
    }
    EXPECT_EQ(c.done + c.incomplete + c.error + c.not_started + c.unreliable, c.total);
    EXPECT_EQ(r.sites.done, c.done);
    EXPECT_EQ(r.sites.incomplete, c.incomplete);
    EXPECT_EQ(r.sites.error, c.error);
    EXPECT_EQ(r.sites.not_started, c.not_started);
    EXPECT_EQ(r.sites.unreliable, c.unreliable);
  }

  /// The hardware ended safe: light off, stage parked, camera released, every step ran.
  void expect_hardware_safe(const RunReport& r) {
    const Machine m = sim_->machine();
    EXPECT_FALSE(m.light->is_on());
    EXPECT_TRUE(m.stage->parked());
    EXPECT_FALSE(m.camera->acquiring());
    ASSERT_EQ(r.safe_stop.size(), 7u);
    for (const auto& step : r.safe_stop) {
      EXPECT_EQ(step.outcome, CallOutcome::ok) << to_string(step.id) << ": " << step.message;
    }
  }

  TempDir dir_;
  Recipe recipe_;
  std::unique_ptr<SimMachine> sim_;
  classify::Classifier classifier_;
  std::unique_ptr<RunController> controller_;
};

}  // namespace ws::testing
