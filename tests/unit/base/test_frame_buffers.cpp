// The pipeline's frame buffer pool: a released frame's buffer is handed out again for the same
// size, a frame still held is never handed out, the idle budget bounds what is kept, and Mats
// made from the pool behave as ordinary Mats (copies share, clones do not, views keep it alive).
#include "base/frame_buffers.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace ws {
namespace {

TEST(FrameBuffers, AReleasedBufferIsUsedAgainForTheSameSize) {
  const FrameBuffers pool(std::size_t{64} << 20);
  cv::Mat a;
  pool.create(a, {640, 480}, CV_8UC1);
  const uchar* first = a.data;
  a.setTo(9);
  a.release();
  EXPECT_EQ(pool.idle(), 1u);
  cv::Mat b;
  pool.create(b, {640, 480}, CV_8UC1);
  EXPECT_EQ(b.data, first) << "the idle buffer is handed out again";
  EXPECT_EQ(pool.fresh(), 1u);
  EXPECT_EQ(pool.idle(), 0u);
  cv::Mat other;
  pool.create(other, {320, 240}, CV_8UC1);  // another size: a buffer of its own
  EXPECT_NE(other.data, first);
  EXPECT_EQ(pool.fresh(), 2u);
}

TEST(FrameBuffers, AFrameStillHeldIsNeverHandedOut) {
  const FrameBuffers pool(std::size_t{64} << 20);
  cv::Mat held;
  pool.create(held, {256, 256}, CV_8UC1);
  held.setTo(1);
  const cv::Mat view = held(cv::Rect(10, 10, 20, 20));  // a view keeps the buffer alive
  held.release();
  EXPECT_EQ(pool.idle(), 0u);
  cv::Mat next;
  pool.create(next, {256, 256}, CV_8UC1);
  EXPECT_NE(next.data, view.datastart);
  next.setTo(2);
  EXPECT_EQ(cv::countNonZero(view != 1), 0) << "the held pixels are untouched";
  const cv::Mat copy = next;  // shares
  next.release();
  EXPECT_EQ(pool.idle(), 0u);
  const cv::Mat deep = copy.clone();  // an ordinary Mat, not from the pool
  EXPECT_NE(deep.data, copy.data);
}

TEST(FrameBuffers, TheIdleBudgetBoundsWhatIsKept) {
  const std::size_t frame = 100 * 100;
  const FrameBuffers pool(2 * frame);
  std::vector<cv::Mat> frames(3);
  for (cv::Mat& m : frames) pool.create(m, {100, 100}, CV_8UC1);
  frames.clear();
  EXPECT_EQ(pool.idle(), 2u) << "the third buffer is freed, not kept";
}

TEST(FrameBuffers, ReleasedFromManyThreads) {
  const FrameBuffers pool(std::size_t{64} << 20);
  std::vector<cv::Mat> frames(8);
  for (cv::Mat& m : frames) pool.create(m, {64, 64}, CV_8UC1);
  std::vector<std::thread> threads;
  for (cv::Mat& m : frames) threads.emplace_back([&m] { m.release(); });
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(pool.idle(), 8u);
  std::vector<cv::Mat> again(8);
  for (cv::Mat& m : again) pool.create(m, {64, 64}, CV_8UC1);
  EXPECT_EQ(pool.fresh(), 8u) << "all eight came back and were used again";
}

}  // namespace
}  // namespace ws
