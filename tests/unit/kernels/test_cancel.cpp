// Every kernel returns Status::canceled when its checkpoint fires before or while it runs.
#include "kernels/absdiff_shifted.hpp"
#include "kernels/align.hpp"
#include "kernels/band.hpp"
#include "kernels/blob_features.hpp"
#include "kernels/connected_components.hpp"
#include "kernels/detect.hpp"
#include "kernels/flat_field.hpp"
#include "kernels/median3.hpp"
#include "kernels/noise_sigma.hpp"
#include "kernels/preprocess.hpp"
#include "kernels/threshold.hpp"
#include "test_images.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

namespace ws::kernels::test {
namespace {

constexpr int kBand = 8;
const cv::Size kSize(96, 80);  // 10 bands

// A kernel run on fixed inputs with a given checkpoint.
using KernelRun = std::function<Status(const Checkpoint&)>;

struct Case {
  std::string name;
  KernelRun run;
};

std::vector<Case> cases() {
  static const cv::Mat a = make_pattern(kSize, 2.0, 31);
  static const cv::Mat b = make_pattern(kSize, 2.0, 31);
  static const cv::Mat flat(kSize, CV_32FC1, cv::Scalar(1.0f));
  static const cv::Mat binary = make_image(kSize, Fill::sparse, 32);
  static cv::Mat labels;
  static std::vector<Component> comps;
  if (labels.empty()) connected_components(binary, kBand, Checkpoint(), labels, comps);
  static const cv::Mat diff = make_image(kSize, Fill::random, 33);
  return {
      {"flat_field",
       [](const Checkpoint& cp) {
         cv::Mat o;
         return flat_field(a, flat, kBand, cp, o);
       }},
      {"median3",
       [](const Checkpoint& cp) {
         cv::Mat o;
         return median3(a, kBand, cp, o);
       }},
      {"absdiff_shifted",
       [](const Checkpoint& cp) {
         cv::Mat o;
         return absdiff_shifted(a, b, 1, 1, kBand, cp, o);
       }},
      {"threshold",
       [](const Checkpoint& cp) {
         cv::Mat o;
         return threshold(a, 100, kBand, cp, o);
       }},
      {"connected_components",
       [](const Checkpoint& cp) {
         cv::Mat l;
         std::vector<Component> c;
         return connected_components(binary, kBand, cp, l, c);
       }},
      {"align", [](const Checkpoint& cp) { return align(a, b, 4, kBand, cp).status; }},
      {"noise_sigma",
       [](const Checkpoint& cp) {
         return noise_sigma(diff, cv::Rect({}, kSize), kBand, cp).status;
       }},
      {"blob_features",
       [](const Checkpoint& cp) {
         std::vector<BlobFeatures> f;
         return blob_features({a, b, 0, 0, diff, labels}, comps, 1, kBand, cp, f);
       }},
      {"preprocess",
       [](const Checkpoint& cp) {
         cv::Mat o;
         return preprocess(a, flat, kBand, cp, o);
       }},
      {"detect",
       [](const Checkpoint& cp) {
         DetectionSpec spec;
         spec.band_rows = kBand;
         spec.max_shift_px = 4;
         return detect(a, b, spec, cp).status;
       }},
  };
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

INSTANTIATE_TEST_SUITE_P(AllKernels, CancelKernel, ::testing::Range<std::size_t>(0, 10), case_name);

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
