// Streaming (non-temporal) stores give exactly OpenCV's output, on any size, alignment, view,
// shift and band, and write nothing outside the output image.
#include "kernels/absdiff_shifted.hpp"
#include "kernels/stores.hpp"
#include "kernels/threshold.hpp"
#include "test_images.hpp"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include <array>
#include <string>
#include <tuple>
#include <utility>

namespace ws::kernels::test {
namespace {

// size, column offset of every view (input and output alike, so their alignments differ from
// the allocation's), band rows
using Param = std::tuple<cv::Size, int, int>;

class StreamingStores : public ::testing::TestWithParam<Param> {
 protected:
  [[nodiscard]] cv::Size size() const { return std::get<0>(GetParam()); }
  [[nodiscard]] int offset() const { return std::get<1>(GetParam()); }
  [[nodiscard]] int band() const { return std::get<2>(GetParam()); }

  // `img` copied into a larger image at (offset, 1); returns the view. Not continuous unless
  // the image is a single row.
  [[nodiscard]] cv::Mat view_of(const cv::Mat& img, std::uint8_t margin) const {
    cv::Mat big(img.rows + 2, img.cols + offset() + 19, CV_8UC1, cv::Scalar(margin));
    cv::Mat v = big(cv::Rect({offset(), 1}, img.size()));
    img.copyTo(v);
    return v;
  }

  // An output view inside a guard-filled buffer; the kernel reuses it (same size and type).
  [[nodiscard]] std::pair<cv::Mat, cv::Mat> guarded_view() const {
    return test::guarded_view(size(), offset());
  }

  // A continuous output that starts `offset() + 16` bytes into a guard-filled buffer, so its
  // rows start at any alignment.
  [[nodiscard]] std::pair<cv::Mat, cv::Mat> guarded_continuous() const {
    cv::Mat big(1, static_cast<int>(size().area()) + offset() + 48, CV_8UC1, cv::Scalar(kGuard));
    return {big, cv::Mat(size(), CV_8UC1, big.ptr() + offset() + 16)};
  }

  Checkpoint cp_;
};

TEST_P(StreamingStores, ShiftedAbsdiffMatchesCvAbsdiff) {
  const cv::Mat a = make_image(size(), Fill::random, 11);
  const cv::Mat b = make_image(size(), Fill::random, 12);
  for (const auto& [dx, dy] : std::array<std::pair<int, int>, 7>{
           {{0, 0}, {1, 0}, {-3, 0}, {0, 2}, {0, -1}, {5, -2}, {-17, 3}}}) {
    cv::Mat expected(size(), CV_8UC1, cv::Scalar(0));
    const cv::Rect valid = valid_region(size(), dx, dy);
    if (!valid.empty()) cv::absdiff(a(valid), b(valid - cv::Point(dx, dy)), expected(valid));
    const std::string where = "shift " + std::to_string(dx) + "," + std::to_string(dy);

    // Continuous images (with dx == 0, the whole-band path), into a fresh output and into one at
    // any alignment.
    cv::Mat out;
    ASSERT_EQ(absdiff_shifted(a, b, dx, dy, band(), cp_, out, Stores::streaming), Status::ok);
    EXPECT_EQ(count_differences(out, expected), 0) << where;
    auto [buffer, shifted_out] = guarded_continuous();
    const std::uint8_t* at = shifted_out.data;
    ASSERT_EQ(absdiff_shifted(a, b, dx, dy, band(), cp_, shifted_out, Stores::streaming),
              Status::ok);
    EXPECT_EQ(shifted_out.data, at) << "the output was reused";
    EXPECT_EQ(count_differences(shifted_out, expected), 0) << "misaligned, " << where;
    EXPECT_EQ(guard_damage(buffer, shifted_out), 0) << "misaligned, " << where;

    // Views (row by row, unless a single row), into an output view with guarded margins.
    auto [big, view_out] = guarded_view();
    ASSERT_EQ(absdiff_shifted(view_of(a, 9), view_of(b, 9), dx, dy, band(), cp_, view_out,
                              Stores::streaming),
              Status::ok);
    EXPECT_EQ(view_out.data, big.ptr(1) + offset()) << "the output view was reused";
    EXPECT_EQ(count_differences(view_out, expected), 0) << "views, " << where;
    EXPECT_EQ(guard_damage(big, view_out), 0) << "views, " << where;
  }
}

TEST_P(StreamingStores, ThresholdMatchesCvThreshold) {
  const cv::Mat src = make_image(size(), Fill::random, 13);
  for (const int level : {-5, 0, 1, 127, 254, 255, 300}) {
    cv::Mat expected;
    cv::threshold(src, expected, level, 255, cv::THRESH_BINARY);

    cv::Mat out;
    ASSERT_EQ(threshold(src, level, band(), cp_, out, Stores::streaming), Status::ok);
    EXPECT_EQ(count_differences(out, expected), 0) << "level " << level;

    auto [buffer, shifted_out] = guarded_continuous();
    ASSERT_EQ(threshold(src, level, band(), cp_, shifted_out, Stores::streaming), Status::ok);
    EXPECT_EQ(count_differences(shifted_out, expected), 0) << "misaligned, level " << level;
    EXPECT_EQ(guard_damage(buffer, shifted_out), 0) << "misaligned, level " << level;

    auto [big, view_out] = guarded_view();
    ASSERT_EQ(threshold(view_of(src, 200), level, band(), cp_, view_out, Stores::streaming),
              Status::ok);
    EXPECT_EQ(view_out.data, big.ptr(1) + offset()) << "the output view was reused";
    EXPECT_EQ(count_differences(view_out, expected), 0) << "views, level " << level;
    EXPECT_EQ(guard_damage(big, view_out), 0) << "views, level " << level;
  }
}

std::string param_name(const ::testing::TestParamInfo<Param>& info) {
  const auto& [size, offset, band] = info.param;
  return std::to_string(size.width) + "x" + std::to_string(size.height) + "_at" +
         std::to_string(offset) + "_band" + std::to_string(band);
}

// Widths around the 16-byte steps and 64-byte lines (shorter than a step, exactly one, one more,
// several lines plus a partial one) and offsets that put the first byte at every kind of
// misalignment; band 1 streams row by row, 64 whole bands of continuous images.
INSTANTIATE_TEST_SUITE_P(
    Sweep, StreamingStores,
    ::testing::Combine(::testing::Values(cv::Size(1, 1), cv::Size(1, 29), cv::Size(37, 1),
                                         cv::Size(15, 4), cv::Size(16, 3), cv::Size(17, 23),
                                         cv::Size(64, 64), cv::Size(200, 9), cv::Size(257, 33)),
                       ::testing::Values(0, 1, 8, 15), ::testing::Values(1, 7, 64)),
    param_name);

TEST(StreamingStoresChoice, OnlyOutputsLargerThanTheThresholdStream) {
  const std::size_t llc = last_level_cache_bytes();
  EXPECT_GE(llc, std::size_t{1} << 20);
  EXPECT_LE(llc, std::size_t{1} << 30);
  const std::size_t limit = streaming_threshold_bytes();
  EXPECT_FALSE(use_streaming(Stores::automatic, limit));
  EXPECT_FALSE(use_streaming(Stores::regular, limit + 1));
#if defined(__SSE2__)
  EXPECT_TRUE(use_streaming(Stores::automatic, limit + 1));
  EXPECT_TRUE(use_streaming(Stores::streaming, 1));
#else
  EXPECT_FALSE(use_streaming(Stores::streaming, 1)) << "no streaming stores in this build";
#endif
}

}  // namespace
}  // namespace ws::kernels::test
