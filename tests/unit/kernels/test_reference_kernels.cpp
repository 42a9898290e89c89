// Each building-block kernel gives exactly its OpenCV reference's output, at any size and band.
#include "kernels/absdiff_shifted.hpp"
#include "kernels/connected_components.hpp"
#include "kernels/flat_field.hpp"
#include "kernels/median3.hpp"
#include "kernels/threshold.hpp"
#include "test_images.hpp"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include <array>
#include <limits>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

namespace ws::kernels::test {
namespace {

using Param = std::tuple<cv::Size, Fill, int>;  // size, content, band_rows

class ReferenceKernels : public ::testing::TestWithParam<Param> {
 protected:
  [[nodiscard]] cv::Size size() const { return std::get<0>(GetParam()); }
  [[nodiscard]] Fill fill() const { return std::get<1>(GetParam()); }
  [[nodiscard]] int band() const { return std::get<2>(GetParam()); }
  [[nodiscard]] cv::Mat image(std::uint64_t seed) const { return make_image(size(), fill(), seed); }
  Checkpoint cp_;
};

// OpenCV's flat-field correction: raw as float, cv::divide by the gains, back to 8 bits.
cv::Mat cv_flat_field(const cv::Mat& raw, const cv::Mat& flat) {
  cv::Mat rawf;
  raw.convertTo(rawf, CV_32F);
  cv::Mat quotient;
  cv::divide(rawf, flat, quotient);
  cv::Mat expected;
  quotient.convertTo(expected, CV_8U);
  return expected;
}

TEST_P(ReferenceKernels, FlatFieldMatchesCvDivide) {
  const cv::Mat raw = image(1);
  cv::Mat flat(size(), CV_32FC1);
  cv::RNG rng(2);
  rng.fill(flat, cv::RNG::UNIFORM, 0.5, 1.5);
  if (flat.total() > 2) flat.at<float>(0, 0) = 0.0f;  // cv::divide's x / 0 = 0 rule is matched too
  const cv::Mat expected = cv_flat_field(raw, flat);

  cv::Mat out;
  ASSERT_EQ(flat_field(raw, flat, band(), cp_, out), Status::ok);
  EXPECT_EQ(count_differences(out, expected), 0);

  cv::Mat copy;
  ASSERT_EQ(flat_field(raw, cv::Mat(), band(), cp_, copy), Status::ok);
  EXPECT_EQ(count_differences(copy, raw), 0) << "an empty flat means no correction";
}

TEST_P(ReferenceKernels, Median3MatchesCvMedianBlur) {
  const cv::Mat src = image(3);
  cv::Mat expected;
  cv::medianBlur(src, expected, 3);
  cv::Mat out;
  ASSERT_EQ(median3(src, band(), cp_, out), Status::ok);
  EXPECT_EQ(count_differences(out, expected), 0);

  cv::Mat in_place = src.clone();
  ASSERT_EQ(median3(in_place, band(), cp_, in_place), Status::ok);
  EXPECT_EQ(count_differences(in_place, expected), 0) << "out may alias src";
}

// Gains that reach every branch of the vectorised division: halves (round half to even), a
// quotient above 255, above 2^31 (cvRound's overflow gives 0), NaN, infinities, negative and
// signed-zero gains, a subnormal; on widths that leave a tail after the 8-pixel steps.
TEST(FlatFieldGains, SpecialValuesMatchCvDivide) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<std::pair<int, float>> cases = {
      {1, 2.0f},   {3, 2.0f},     {5, 2.0f},      {7, 2.0f},   {255, 255.0f / 254.5f},
      {200, 0.1f}, {255, 1e-30f}, {10, -1.0f},    {10, nan},   {10, inf},
      {10, -inf},  {10, -0.0f},   {0, 0.0f},      {255, 1.0f}, {9, 1e-40f},
      {128, 0.5f}, {127, 0.498f}, {254, 0.9961f}, {1, 4.0f},   {3, 6.0f}};
  for (const int width : {1, 8, 20, 67}) {
    cv::Mat raw(1, width, CV_8UC1);
    cv::Mat flat(1, width, CV_32FC1);
    for (int x = 0; x < width; ++x) {
      const auto& [r, g] = cases[static_cast<std::size_t>(x) % cases.size()];
      raw.at<std::uint8_t>(0, x) = static_cast<std::uint8_t>(r);
      flat.at<float>(0, x) = g;
    }
    const cv::Mat expected = cv_flat_field(raw, flat);
    cv::Mat out;
    ASSERT_EQ(flat_field(raw, flat, 1, Checkpoint(), out), Status::ok);
    for (int x = 0; x < width; ++x) {
      EXPECT_EQ(out.at<std::uint8_t>(0, x), expected.at<std::uint8_t>(0, x))
          << "width " << width << " x " << x << ": " << int(raw.at<std::uint8_t>(0, x)) << " / "
          << flat.at<float>(0, x);
    }
  }
}

TEST_P(ReferenceKernels, AbsdiffMatchesCvAbsdiff) {
  const cv::Mat a = image(4);
  const cv::Mat b = make_image(size(), Fill::random, 5);
  cv::Mat expected;
  cv::absdiff(a, b, expected);
  cv::Mat out;
  ASSERT_EQ(absdiff_shifted(a, b, 0, 0, band(), cp_, out), Status::ok);
  EXPECT_EQ(count_differences(out, expected), 0);
}

TEST_P(ReferenceKernels, ShiftedAbsdiffIsZeroWhereNoReference) {
  const cv::Mat a = image(6);
  const cv::Mat b = make_image(size(), Fill::random, 7);
  for (const auto& [dx, dy] : std::array<std::pair<int, int>, 8>{
           {{1, 0}, {0, -1}, {0, 3}, {-2, 3}, {3, 2}, {1000, 0}, {0, -1000}, {0, 0}}}) {
    cv::Mat out;
    ASSERT_EQ(absdiff_shifted(a, b, dx, dy, band(), cp_, out), Status::ok);
    cv::Mat expected(size(), CV_8UC1, cv::Scalar(0));
    const cv::Rect valid = valid_region(size(), dx, dy);
    if (!valid.empty()) {
      cv::absdiff(a(valid), b(valid - cv::Point(dx, dy)), expected(valid));
    }
    EXPECT_EQ(count_differences(out, expected), 0) << "shift " << dx << "," << dy;
    // The same through views into larger images (not continuous: the row-by-row path).
    cv::Mat big_a(size().height + 2, size().width + 3, CV_8UC1, cv::Scalar(9));
    cv::Mat big_b = big_a.clone();
    const cv::Rect inner({1, 1}, size());
    a.copyTo(big_a(inner));
    b.copyTo(big_b(inner));
    cv::Mat view_out;
    ASSERT_EQ(absdiff_shifted(big_a(inner), big_b(inner), dx, dy, band(), cp_, view_out),
              Status::ok);
    EXPECT_EQ(count_differences(view_out, expected), 0) << "views, shift " << dx << "," << dy;
  }
}

TEST_P(ReferenceKernels, ThresholdMatchesCvThreshold) {
  const cv::Mat src = image(8);
  for (const int level : {-5, 0, 1, 127, 254, 255, 300}) {
    cv::Mat expected;
    cv::threshold(src, expected, level, 255, cv::THRESH_BINARY);
    cv::Mat out;
    ASSERT_EQ(threshold(src, level, band(), cp_, out), Status::ok);
    EXPECT_EQ(count_differences(out, expected), 0) << "level " << level;
  }
}

TEST_P(ReferenceKernels, ComponentsMatchCvConnectedComponentsWithStats) {
  const cv::Mat binary = image(9);
  cv::Mat cv_labels;
  cv::Mat stats;
  cv::Mat centroids;
  const int n = cv::connectedComponentsWithStats(binary, cv_labels, stats, centroids, 8, CV_32S);
  std::multiset<std::tuple<int, int, int, int, int>> expected;
  for (int i = 1; i < n; ++i) {
    expected.emplace(stats.at<int>(i, cv::CC_STAT_LEFT), stats.at<int>(i, cv::CC_STAT_TOP),
                     stats.at<int>(i, cv::CC_STAT_WIDTH), stats.at<int>(i, cv::CC_STAT_HEIGHT),
                     stats.at<int>(i, cv::CC_STAT_AREA));
  }
  cv::Mat labels;
  std::vector<Component> comps;
  ASSERT_EQ(connected_components(binary, band(), cp_, labels, comps), Status::ok);
  std::multiset<std::tuple<int, int, int, int, int>> got;
  for (const Component& c : comps)
    got.emplace(c.bbox.x, c.bbox.y, c.bbox.width, c.bbox.height, c.area);
  EXPECT_EQ(got, expected);

  // Same partition: both labelings agree on which pixels share a component.
  ASSERT_EQ(labels.type(), CV_32SC1);
  std::vector<int> ours_to_cv(comps.size() + 1, -1);
  for (int y = 0; y < binary.rows; ++y) {
    for (int x = 0; x < binary.cols; ++x) {
      const int ours = labels.at<int>(y, x);
      const int theirs = cv_labels.at<int>(y, x);
      ASSERT_EQ(ours == 0, theirs == 0);
      if (ours == 0) continue;
      if (ours_to_cv[ours] < 0) ours_to_cv[ours] = theirs;
      ASSERT_EQ(ours_to_cv[ours], theirs) << "at " << x << "," << y;
    }
  }
}

std::string param_name(const ::testing::TestParamInfo<Param>& info) {
  const auto& [size, fill, band] = info.param;
  return std::to_string(size.width) + "x" + std::to_string(size.height) + "_" + to_string(fill) +
         "_band" + std::to_string(band);
}

INSTANTIATE_TEST_SUITE_P(
    Sweep, ReferenceKernels,
    ::testing::Combine(::testing::Values(cv::Size(1, 1), cv::Size(37, 1), cv::Size(1, 29),
                                         cv::Size(2, 2), cv::Size(17, 23), cv::Size(64, 64),
                                         cv::Size(257, 129),
                                         // many of the median's 64-pixel vectors and a part
                                         cv::Size(1025, 3), cv::Size(2100, 4)),
                       ::testing::Values(Fill::random, Fill::zero, Fill::full, Fill::sparse),
                       ::testing::Values(1, 7, 64)),
    param_name);

}  // namespace
}  // namespace ws::kernels::test
