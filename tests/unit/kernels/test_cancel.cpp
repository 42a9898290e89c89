// Every kernel returns Status::canceled when its checkpoint fires before or while it runs.
#include "kernel_cases.hpp"
#include "kernels/align.hpp"
#include "kernels/band.hpp"
#include "kernels/blob_features.hpp"
#include "kernels/connected_components.hpp"
#include "kernels/preprocess.hpp"
#include "test_images.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <string>

namespace ws::kernels::test {
namespace {

constexpr int kBand = 8;
const cv::Size kSize(96, 80);  // 10 bands

// The frame kernels of kernel_cases(), then the kernels only this suite runs.
std::vector<KernelCase> cases() {
  static const cv::Mat a = make_pattern(kSize, 2.0, 31);
  static const cv::Mat b = make_pattern(kSize, 2.0, 31);
  static const cv::Mat flat(kSize, CV_32FC1, cv::Scalar(1.0f));
  static const cv::Mat binary = make_image(kSize, Fill::sparse, 32);
  static cv::Mat labels;
  static std::vector<Component> comps;
  if (labels.empty()) connected_components(binary, kBand, Checkpoint(), labels, comps);
  static const cv::Mat diff = make_image(kSize, Fill::random, 33);
  auto all = kernel_cases({.a = a, .b = b, .flat = flat, .noise = diff, .max_shift_px = 4});
  all.push_back({"connected_components", [](const Checkpoint& cp) {
                   cv::Mat l;
                   std::vector<Component> c;
                   return connected_components(binary, kBand, cp, l, c);
                 }});
  all.push_back({"align", [](const Checkpoint& cp) { return align(a, b, 4, kBand, cp).status; }});
  all.push_back({"blob_features", [](const Checkpoint& cp) {
                   std::vector<BlobFeatures> f;
                   return blob_features({a, b, 0, 0, diff, labels}, comps, 1, kBand, cp, f);
                 }});
  all.push_back({"preprocess", [](const Checkpoint& cp) {
                   cv::Mat o;
                   return preprocess(a, flat, kBand, cp, o);
                 }});
  return all;
}

// Parameter: index into cases().
class CancelKernel : public ::testing::TestWithParam<std::size_t> {};

TEST_P(CancelKernel, RunsToOkWithAQuietCheckpoint) {
  std::atomic<std::uint8_t> flag{0};
  EXPECT_EQ(cases()[GetParam()].run(Checkpoint(&flag, 1)), Status::ok);
}

TEST_P(CancelKernel, FlagSetBeforeRunningCancels) {
  std::atomic<std::uint8_t> flag{1};
  EXPECT_EQ(cases()[GetParam()].run(Checkpoint(&flag, 1)), Status::canceled);
}

TEST_P(CancelKernel, FlagBelowThresholdDoesNotCancel) {
  std::atomic<std::uint8_t> flag{1};
  EXPECT_EQ(cases()[GetParam()].run(Checkpoint(&flag, 2)), Status::ok);
}

std::string case_name(const ::testing::TestParamInfo<std::size_t>& info) {
  return cases()[info.param].name;
}

INSTANTIATE_TEST_SUITE_P(AllKernels, CancelKernel, ::testing::Range<std::size_t>(0, cases().size()),
                         case_name);

TEST(CancelWhileRunning, StopsWithinOneBand) {
  // Every kernel loops through for_each_band; a flag raised during the first band (as a stop
  // request from another thread would be) must stop the loop before the second band starts.
  std::atomic<std::uint8_t> flag{0};
  const Checkpoint cp(&flag, 1);
  int bands_run = 0;
  const Status s = for_each_band(100, 10, cp, [&](int, int) {
    ++bands_run;
    flag.store(1, std::memory_order_relaxed);
  });
  EXPECT_EQ(s, Status::canceled);
  EXPECT_EQ(bands_run, 1);
}

}  // namespace
}  // namespace ws::kernels::test
