// Banded kernels run their bands in the caller's tbb::task_group_context: cancelling it stops them
// within a band and they report canceled; a disabled checkpoint never stops them.
#include "kernel_cases.hpp"
#include "kernels/band.hpp"
#include "kernels/diff_histogram.hpp"
#include "kernels/fused_blobs.hpp"
#include "test_images.hpp"

#include <gtest/gtest.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_invoke.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace ws::kernels::test {
namespace {

constexpr int kBand = 8;
const cv::Size kSize(256, 400);  // 50 bands

// Runs `fn` as a task of a task_group bound to `ctx`, the way a flow-graph node body runs in its
// graph's context, and waits for it.
void run_in_context(tbb::task_group_context& ctx, const std::function<void()>& fn) {
  tbb::task_group group(ctx);
  group.run_and_wait(fn);
}

using Threads = int;  // max_allowed_parallelism
class ParallelBands : public ::testing::TestWithParam<Threads> {
 protected:
  tbb::global_control limit_{tbb::global_control::max_allowed_parallelism,
                             static_cast<std::size_t>(GetParam())};
};

TEST_P(ParallelBands, CoversEveryRowOnceWhenQuiet) {
  std::atomic<std::uint8_t> flag{0};
  for (const Checkpoint& cp : {Checkpoint(), Checkpoint(&flag, 1)}) {
    std::vector<std::atomic<int>> seen(103);
    EXPECT_EQ(parallel_bands(103, 10, cp,
                             [&](int begin, int end) {
                               for (int y = begin; y < end; ++y) seen[y].fetch_add(1);
                             }),
              Status::ok);
    for (const auto& s : seen) EXPECT_EQ(s.load(), 1);
  }
}

TEST_P(ParallelBands, EnclosingContextCancelledInsideABandStopsTheRest) {
  // The first band to run cancels the enclosing context (as g.cancel() from another thread
  // would, but at a known moment); bands already running may finish, none may start after.
  std::atomic<std::uint8_t> flag{0};
  for (const Checkpoint& cp : {Checkpoint(), Checkpoint(&flag, 1)}) {
    tbb::task_group_context ctx;
    std::atomic<int> started{0};
    Status status = Status::ok;
    run_in_context(ctx, [&] {
      status = parallel_bands(1000, 1, cp, [&](int, int) {
        if (started.fetch_add(1) == 0) ctx.cancel_group_execution();
      });
    });
    EXPECT_EQ(status, Status::canceled);
    EXPECT_LE(started.load(), GetParam() + 1) << "at most the bands already running finish";
  }
}

TEST_P(ParallelBands, CheckpointFiredInsideABandStopsTheRest) {
  std::atomic<std::uint8_t> flag{0};
  std::atomic<int> started{0};
  const Status status = parallel_bands(1000, 1, Checkpoint(&flag, 1), [&](int, int) {
    if (started.fetch_add(1) == 0) flag.store(1);
  });
  EXPECT_EQ(status, Status::canceled);
  EXPECT_LE(started.load(), GetParam() + 1);
}

INSTANTIATE_TEST_SUITE_P(Threads, ParallelBands, ::testing::Values(1, 2));

// Every parallel kernel, started in an already-cancelled context, returns canceled: the frame
// kernels of kernel_cases(), then the kernels only this suite runs.
std::vector<KernelCase> cases() {
  static const cv::Mat a = make_pattern(kSize, 2.0, 71);
  static const cv::Mat b = make_pattern(kSize, 2.0, 72);
  static const cv::Mat flat(kSize, CV_32FC1, cv::Scalar(1.0f));
  auto all = kernel_cases({.a = a, .b = b, .flat = flat, .noise = a, .dy = 2, .level = 99});
  all.push_back({"diff_histogram", [](const Checkpoint& cp) {
                   Histogram h;
                   return diff_histogram(a, b, 1, 2, kBand, cp, h);
                 }});
  all.push_back({"fused_blobs", [](const Checkpoint& cp) {
                   std::vector<BlobFeatures> blobs;
                   return fused_blobs(a, b, 1, 2, 30, 1, kBand, cp, blobs);
                 }});
  return all;
}

class CancelledContext : public ::testing::TestWithParam<std::size_t> {};

TEST_P(CancelledContext, KernelReturnsCanceledWithOrWithoutCheckpoint) {
  std::atomic<std::uint8_t> flag{0};
  for (const Checkpoint& cp : {Checkpoint(), Checkpoint(&flag, 1)}) {
    tbb::task_group_context ctx;
    Status status = Status::ok;
    run_in_context(ctx, [&] {
      ctx.cancel_group_execution();
      status = cases()[GetParam()].run(cp);
    });
    EXPECT_EQ(status, Status::canceled) << (cp.enabled() ? "checkpoint" : "no checkpoint");
  }
  // And the same kernel in a live context runs to the end.
  tbb::task_group_context ctx;
  Status status = Status::canceled;
  run_in_context(ctx, [&] { status = cases()[GetParam()].run(Checkpoint(&flag, 1)); });
  EXPECT_EQ(status, Status::ok);
}

INSTANTIATE_TEST_SUITE_P(AllParallelKernels, CancelledContext,
                         ::testing::Range<std::size_t>(0, cases().size()),
                         [](const ::testing::TestParamInfo<std::size_t>& param_info) {
                           return cases()[param_info.param].name;
                         });

// A cancel from another thread while a kernel runs on a large frame: it returns canceled (the
// kernel is told it started through the band body of a wrapping parallel_bands, no sleeps).
TEST(CancelledContext, CancelFromAnotherThreadWhileRunning) {
  const cv::Mat a = make_pattern({1024, 2048}, 2.0, 73);
  const cv::Mat b = make_pattern({1024, 2048}, 2.0, 74);
  tbb::task_group_context ctx;
  std::atomic<bool> running{false};
  std::atomic<std::uint8_t> flag{0};
  Status status = Status::ok;
  std::thread canceller([&] {
    while (!running.load()) std::this_thread::yield();
    ctx.cancel_group_execution();
  });
  run_in_context(ctx, [&] {
    // Each call of the outer body is one pass over the frame; it keeps going until cancelled.
    for (int pass = 0; pass < 1000 && status == Status::ok; ++pass) {
      running.store(true);
      std::vector<BlobFeatures> blobs;
      status = fused_blobs(a, b, 0, 0, 30, 1, 16, Checkpoint(&flag, 1), blobs);
    }
  });
  canceller.join();
  EXPECT_EQ(status, Status::canceled);
}

}  // namespace
}  // namespace ws::kernels::test
