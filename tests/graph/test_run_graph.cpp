// Pins down whole runs of the inspection graph on the simulated machine: the in-flight cap holds,
// stop and abort drain the graph, every site ends in exactly one status, a body exception fails the
// run with cleanup done, stale stops miss, and runs follow each other cleanly in one process.
#include "common/run_fixture.hpp"
#include "waferscan/error.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <latch>
#include <stdexcept>
#include <thread>

namespace ws::testing {
namespace {

using namespace std::chrono_literals;

class RunGraph : public RunFixture {};

TEST_F(RunGraph, CompletesEverySiteAndLeavesTheHardwareSafe) {
  const RunReport r = controller_->run(request());
  EXPECT_EQ(r.state, RunState::completed);
  EXPECT_EQ(r.stop_reason, StopReason::none);
  EXPECT_EQ(r.sites.done, 12);
  EXPECT_FALSE(r.graph_quiet_ms.has_value());
  expect_consistent(r);
  expect_hardware_safe(r);
  EXPECT_EQ(exit_code_for(r), exit_code::completed);
  const auto stored = controller_->store().run(r.id);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->state, RunState::completed);
}

class InFlightCap : public RunFixture, public ::testing::WithParamInterface<std::size_t> {};

TEST_P(InFlightCap, IsReachedAndNeverExceeded) {
  const std::size_t cap = GetParam();
  std::atomic<std::size_t> acquired{0};
  std::latch cap_reached(1);
  auto req = request();
  req.graph.in_flight = cap;
  RunHooks hooks;
  hooks.probe = [&](std::string_view node, std::size_t seq) {
    if (node == "acquire" && acquired.fetch_add(1) + 1 == cap) cap_reached.count_down();
    // Hold the first frame in classify until the cap is full: only the cap bounds the graph now.
    if (node == "classify" && seq == 0) cap_reached.wait();
  };
  const RunReport r = controller_->run(req, hooks);
  EXPECT_EQ(r.state, RunState::completed);
  EXPECT_EQ(r.max_in_flight, cap);  // measured by the graph's own counter
  expect_consistent(r);
}

INSTANTIATE_TEST_SUITE_P(Caps, InFlightCap, ::testing::Values(1u, 2u, 3u, 5u));

TEST_F(RunGraph, StopMidRunLetsFramesInFlightFinishAndStartsNoNewSite) {
  auto req = request();
  RunHooks hooks;
  hooks.probe = [&](std::string_view node, std::size_t seq) {
    if (node == "detect" && seq == 3) {
      controller_->request_stop(std::nullopt, StopReason::operator_request, StopStrength::stop,
                                "test");
    }
  };
  const RunReport r = controller_->run(req, hooks);
  EXPECT_EQ(r.state, RunState::canceled);
  EXPECT_EQ(r.stop_reason, StopReason::operator_request);
  EXPECT_EQ(r.stop_strength, StopStrength::stop);
  EXPECT_GE(r.sites.done, 4);        // sites 0..3 were in flight or done: a stop lets them finish
  EXPECT_EQ(r.sites.incomplete, 0);  // nothing abandoned by a plain stop
  EXPECT_GT(r.sites.not_started, 0);
  ASSERT_TRUE(r.graph_quiet_ms.has_value());
  ASSERT_TRUE(r.hardware_safe_ms.has_value());
  EXPECT_LE(*r.graph_quiet_ms, *r.hardware_safe_ms);
  expect_consistent(r);
  expect_hardware_safe(r);
  EXPECT_EQ(exit_code_for(r), exit_code::canceled_operator);
}

TEST_F(RunGraph, AbortMidRunAbandonsFramesInFlight) {
  auto req = request();
  std::atomic<bool> fired{false};
  RunHooks hooks;
  hooks.probe = [&](std::string_view node, std::size_t seq) {
    if (node == "preprocess" && seq == 2 && !fired.exchange(true)) {
      controller_->request_stop(std::nullopt, StopReason::shutdown, StopStrength::abort, "test");
    }
  };
  const RunReport r = controller_->run(req, hooks);
  EXPECT_EQ(r.state, RunState::canceled);
  EXPECT_EQ(r.stop_reason, StopReason::shutdown);
  EXPECT_EQ(r.stop_strength, StopStrength::abort);
  EXPECT_GE(r.sites.incomplete, 1);  // site 2 was acquired and then abandoned
  EXPECT_LT(r.sites.done, 12);
  expect_consistent(r);
  expect_hardware_safe(r);
  EXPECT_EQ(exit_code_for(r), exit_code::canceled_shutdown);
}

TEST_F(RunGraph, AStopRequestedTwiceIsHarmless) {
  auto req = request();
  RunHooks hooks;
  hooks.probe = [&](std::string_view node, std::size_t seq) {
    if (node == "classify" && seq == 1) {
      EXPECT_TRUE(controller_->request_stop(std::nullopt, StopReason::operator_request,
                                            StopStrength::stop, "first"));
      EXPECT_FALSE(controller_->request_stop(std::nullopt, StopReason::operator_request,
                                             StopStrength::stop, "second"));
    }
  };
  const RunReport r = controller_->run(req, hooks);
  EXPECT_EQ(r.state, RunState::canceled);
  expect_consistent(r);
  expect_hardware_safe(r);
}

TEST_F(RunGraph, AnExceptionInANodeBodyFailsTheRunWithCleanupDone) {
  auto req = request();
  RunHooks hooks;
  hooks.probe = [](std::string_view node, std::size_t seq) {
    if (node == "detect" && seq == 4) throw std::runtime_error("injected body failure");
  };
  const RunReport r = controller_->run(req, hooks);
  EXPECT_EQ(r.state, RunState::failed);
  EXPECT_EQ(r.stop_reason, StopReason::fault);
  EXPECT_NE(r.message.find("injected body failure"), std::string::npos) << r.message;
  expect_consistent(r);
  expect_hardware_safe(r);
  EXPECT_EQ(exit_code_for(r), exit_code::failed);
  EXPECT_EQ(controller_->store().run(r.id)->state, RunState::failed);
}

TEST_F(RunGraph, TwoRunsInARowAfterACancellation) {
  auto req = request();
  RunHooks hooks;
  hooks.probe = [&](std::string_view node, std::size_t seq) {
    if (node == "acquire" && seq == 2) {
      controller_->request_stop(std::nullopt, StopReason::operator_request, StopStrength::abort);
    }
  };
  const RunReport first = controller_->run(req, hooks);
  EXPECT_EQ(first.state, RunState::canceled);
  const RunReport second = controller_->run(request());
  EXPECT_EQ(second.state, RunState::completed);
  EXPECT_EQ(second.sites.done, 12);
  EXPECT_NE(first.id, second.id);
  expect_consistent(second);
  expect_hardware_safe(second);
}

TEST_F(RunGraph, AStaleStopNeverReachesTheNextRun) {
  const RunReport first = controller_->run(request());
  auto req = request();
  RunHooks hooks;
  hooks.probe = [&](std::string_view node, std::size_t seq) {
    if (node == "detect" && seq == 5) {
      EXPECT_FALSE(controller_->request_stop(first.id, StopReason::operator_request,
                                             StopStrength::abort, "stale"));
    }
  };
  const RunReport second = controller_->run(req, hooks);
  EXPECT_EQ(second.state, RunState::completed);
  EXPECT_EQ(second.sites.done, 12);
  EXPECT_FALSE(controller_->request_stop(second.id, StopReason::operator_request,
                                         StopStrength::abort));  // no run is active
}

TEST_F(RunGraph, ASecondRunIsRefusedWhileOneIsInProgress) {
  std::latch inside(1);
  std::latch release(1);
  auto req = request();
  RunHooks hooks;
  hooks.probe = [&](std::string_view node, std::size_t seq) {
    if (node == "publish" && seq == 0) {
      inside.count_down();
      release.wait();
    }
  };
  auto first = std::async(std::launch::async, [&] { return controller_->run(req, hooks); });
  inside.wait();
  EXPECT_THROW(controller_->run(request()), RunRejected);
  release.count_down();
  EXPECT_EQ(first.get().state, RunState::completed);
}

TEST_F(RunGraph, DrainDeadlineEscalatesAStopToAnAbort) {
  Recipe r = quick_recipe();
  r.drain_timeout_ms = 0;  // the drain may not wait at all
  make(r);
  std::atomic<bool> saw_abort{false};
  auto req = request();
  RunHooks hooks;
  hooks.probe = [&](std::string_view node, std::size_t seq) {
    if (node == "preprocess" && seq == 1) {
      controller_->request_stop(std::nullopt, StopReason::operator_request, StopStrength::stop);
      // Handshake: hold this frame until the drain watchdog has escalated (bounded wait).
      const StopToken token = controller_->active_token();
      const auto deadline = std::chrono::steady_clock::now() + 10s;
      while (!token.abort_requested() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
      }
      saw_abort = token.abort_requested();
    }
  };
  const RunReport rep = controller_->run(req, hooks);
  EXPECT_TRUE(saw_abort.load());
  EXPECT_EQ(rep.state, RunState::canceled);
  EXPECT_EQ(rep.stop_reason, StopReason::operator_request);  // the first reason is kept
  EXPECT_EQ(rep.stop_strength, StopStrength::abort);
  EXPECT_GE(rep.sites.incomplete, 1);  // the held frame was abandoned by the abort
  expect_consistent(rep);
  expect_hardware_safe(rep);
}

}  // namespace
}  // namespace ws::testing
