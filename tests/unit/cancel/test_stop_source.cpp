// Pins down the stop vocabulary: first reason wins, stop escalates to abort only, callbacks run
// once per escalation, checkpoints see abort, and tokens of one run never see another run's stop.
#include "waferscan/cancel.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <latch>
#include <stdexcept>
#include <thread>
#include <vector>

namespace ws {
namespace {

TEST(StopSource, StartsUnstopped) {
  StopSource src;
  EXPECT_FALSE(src.stop_requested());
  EXPECT_FALSE(src.token().abort_requested());
  EXPECT_FALSE(src.info().has_value());
  EXPECT_FALSE(StopToken{}.stop_requested());
  EXPECT_FALSE(Checkpoint{}.should_stop());
}

TEST(StopSource, FirstReasonWinsAndLaterRequestsOnlyEscalate) {
  StopSource src;
  EXPECT_TRUE(src.request(StopReason::operator_request, StopStrength::stop, "SIGINT"));
  EXPECT_FALSE(src.request(StopReason::shutdown, StopStrength::stop, "SIGTERM"));  // harmless
  auto info = src.info();
  ASSERT_TRUE(info);
  EXPECT_EQ(info->reason, StopReason::operator_request);
  EXPECT_EQ(info->strength, StopStrength::stop);
  EXPECT_EQ(info->origin, "SIGINT");
  EXPECT_EQ(info->latest_origin, "SIGINT");  // the harmless SIGTERM changed nothing
  EXPECT_TRUE(src.request(StopReason::shutdown, StopStrength::abort, "SIGTERM"));
  info = src.info();
  EXPECT_EQ(info->reason, StopReason::operator_request);  // reason kept
  EXPECT_EQ(info->strength, StopStrength::abort);
  EXPECT_EQ(info->origin, "SIGINT");
  EXPECT_EQ(info->latest_origin, "SIGTERM");  // the escalation names what escalated
  EXPECT_FALSE(src.request(StopReason::fault, StopStrength::stop));  // no de-escalation
  EXPECT_EQ(src.token().strength(), StopStrength::abort);
}

TEST(StopSource, CallbacksRunOncePerEscalation) {
  StopSource src;
  std::vector<StopStrength> seen;
  auto cb = src.on_stop([&](StopStrength s) { seen.push_back(s); });
  src.request(StopReason::operator_request, StopStrength::stop);
  src.request(StopReason::operator_request, StopStrength::stop);
  src.request(StopReason::operator_request, StopStrength::abort);
  src.request(StopReason::operator_request, StopStrength::abort);
  EXPECT_EQ(seen, (std::vector<StopStrength>{StopStrength::stop, StopStrength::abort}));
}

TEST(StopSource, LateRegistrationIsCalledImmediately) {
  StopSource src;
  src.request(StopReason::emergency_stop, StopStrength::abort);
  StopStrength seen = StopStrength::none;
  auto cb = src.on_stop([&](StopStrength s) { seen = s; });
  EXPECT_EQ(seen, StopStrength::abort);
}

TEST(StopSource, ResetCallbackIsNeverCalled) {
  StopSource src;
  int calls = 0;
  auto cb = src.on_stop([&](StopStrength) { ++calls; });
  cb.reset();
  src.request(StopReason::operator_request, StopStrength::abort);
  EXPECT_EQ(calls, 0);
}

TEST(StopSource, UnregisterWaitsForRunningCallback) {
  StopSource src;
  std::latch entered(1);
  std::latch release(1);
  std::atomic<bool> finished{false};
  auto cb = src.on_stop([&](StopStrength) {
    entered.count_down();
    release.wait();
    finished = true;
  });
  std::thread requester([&] { src.request(StopReason::operator_request, StopStrength::stop); });
  entered.wait();
  std::thread unregister([&] {
    cb.reset();
    // reset() may only return once the callback has returned.
    EXPECT_TRUE(finished.load());
  });
  release.count_down();
  requester.join();
  unregister.join();
}

TEST(StopSource, CallbackMayEscalateFromInside) {
  StopSource src;
  std::vector<StopStrength> seen;
  auto cb = src.on_stop([&](StopStrength s) {
    seen.push_back(s);
    if (s == StopStrength::stop) src.request(StopReason::fault, StopStrength::abort);
  });
  src.request(StopReason::operator_request, StopStrength::stop);
  EXPECT_EQ(seen.back(), StopStrength::abort);
  EXPECT_EQ(src.info()->reason, StopReason::operator_request);
}

TEST(StopSource, ConcurrentRequestsHaveExactlyOneWinner) {
  for (int round = 0; round < 50; ++round) {
    StopSource src;
    std::latch go(4);
    std::atomic<int> winners{0};
    std::vector<std::thread> threads;
    const StopReason reasons[] = {StopReason::operator_request, StopReason::shutdown,
                                  StopReason::emergency_stop, StopReason::fault};
    for (auto r : reasons) {
      threads.emplace_back([&, r] {
        go.arrive_and_wait();
        if (src.request(r, StopStrength::stop)) ++winners;
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(winners.load(), 1);
    EXPECT_NE(src.info()->reason, StopReason::none);
  }
}

TEST(Checkpoint, FiresOnAbortByDefaultAndOnStopWhenAsked) {
  StopSource src;
  Checkpoint on_abort(src.token());
  Checkpoint on_stop(src.token(), StopStrength::stop);
  EXPECT_FALSE(on_abort.should_stop());
  src.request(StopReason::operator_request, StopStrength::stop);
  EXPECT_FALSE(on_abort.should_stop());  // a plain stop lets frames in flight finish
  EXPECT_TRUE(on_stop.should_stop());
  src.request(StopReason::operator_request, StopStrength::abort);
  EXPECT_TRUE(on_abort.should_stop());
}

TEST(StopSource, AStaleTokenNeverSeesANewRunsState) {
  StopSource run1;
  const StopToken old_token = run1.token();
  run1.request(StopReason::operator_request, StopStrength::abort);
  StopSource run2;  // each run gets a fresh source
  EXPECT_TRUE(old_token.abort_requested());
  EXPECT_FALSE(run2.stop_requested());
  run1.request(StopReason::shutdown, StopStrength::abort);  // late request on the old run
  EXPECT_FALSE(run2.stop_requested());
}

TEST(Names, RoundTrip) {
  for (auto r : {StopReason::none, StopReason::operator_request, StopReason::shutdown,
                 StopReason::emergency_stop, StopReason::timeout, StopReason::fault}) {
    EXPECT_EQ(stop_reason_from_string(to_string(r)), r);
  }
  EXPECT_EQ(to_string(StopReason::operator_request), "operator");
  EXPECT_FALSE(stop_reason_from_string("bogus"));
}

}  // namespace
}  // namespace ws

namespace ws {
namespace {

// A callback that throws (a journal on a full disk) neither escapes request() nor keeps later
// callbacks from running, and unregistering it from another thread returns (it once waited for
// ever on the entry the throw left behind).
TEST(StopSource, ACallbackThatThrowsDoesNotWedgeTheSource) {
  StopSource src;
  auto thrower = src.on_stop([](StopStrength) { throw std::runtime_error("disk full"); });
  bool later_ran = false;
  auto later = src.on_stop([&](StopStrength) { later_ran = true; });
  EXPECT_NO_THROW(src.request(StopReason::fault, StopStrength::abort, "test"));
  EXPECT_TRUE(later_ran);
  auto reset = std::async(std::launch::async, [&] { thrower.reset(); });
  ASSERT_EQ(reset.wait_for(std::chrono::seconds(30)), std::future_status::ready)
      << "StopCallback::reset waits for a callback that is no longer running";
}

}  // namespace
}  // namespace ws
