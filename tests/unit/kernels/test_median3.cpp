// median3 and flat_field_median3 on every width around the 64-pixel vector steps (the one-pixel
// path below 66 columns, the edge columns, the partial vectors at either end), on odd and even
// heights and bands (rows go in pairs), with regular and streaming stores into outputs at any
// alignment: exactly OpenCV's result, and nothing written outside the output.
#include "kernels/flat_field.hpp"
#include "kernels/median3.hpp"
#include "test_images.hpp"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include <string>

namespace ws::kernels::test {
namespace {

constexpr int kWidths[] = {1, 2, 3, 63, 64, 65, 66, 67, 127, 128, 129, 130, 131, 193, 200, 257};
constexpr int kHeights[] = {1, 2, 3, 5, 8};
constexpr int kBands[] = {1, 2, 3, 64};
// Column offsets of the output view (guarded_view()): its rows start at every kind of alignment.
constexpr int kOffsets[] = {0, 1, 17, 63};

std::string where(cv::Size size, int band, Stores stores, int offset) {
  return std::to_string(size.width) + "x" + std::to_string(size.height) + " band " +
         std::to_string(band) + (stores == Stores::streaming ? " streaming" : " regular") +
         (offset < 0 ? std::string(", fresh output") : ", view at " + std::to_string(offset));
}

// Runs `kernel(band, stores, out)` into a fresh output and into guarded views at every offset.
template <typename Kernel>
void expect_everywhere(cv::Size size, const cv::Mat& expected, Kernel&& kernel) {
  for (const int band : kBands) {
    for (const Stores stores : {Stores::regular, Stores::streaming}) {
      cv::Mat fresh;
      ASSERT_EQ(kernel(band, stores, fresh), Status::ok);
      EXPECT_EQ(count_differences(fresh, expected), 0) << where(size, band, stores, -1);
      for (const int offset : kOffsets) {
        auto [big, view] = guarded_view(size, offset);
        const std::uint8_t* at = view.data;
        ASSERT_EQ(kernel(band, stores, view), Status::ok);
        ASSERT_EQ(view.data, at) << "the output view was reused";
        EXPECT_EQ(count_differences(view, expected), 0) << where(size, band, stores, offset);
        EXPECT_EQ(guard_damage(big, view), 0) << where(size, band, stores, offset);
      }
    }
  }
}

TEST(Median3Shapes, EveryWidthAroundTheVectorStepsMatchesCvMedianBlur) {
  for (const int height : kHeights) {
    for (const int width : kWidths) {
      const cv::Size size(width, height);
      const cv::Mat src = make_image(size, Fill::random, 31 + width * 7 + height);
      cv::Mat expected;
      cv::medianBlur(src, expected, 3);
      expect_everywhere(size, expected, [&](int band, Stores stores, cv::Mat& out) {
        return median3(src, band, Checkpoint(), out, stores);
      });
    }
  }
}

TEST(Median3Shapes, FlatFieldMedianOnEveryWidthEqualsFlatFieldThenCvMedianBlur) {
  for (const int height : kHeights) {
    for (const int width : kWidths) {
      const cv::Size size(width, height);
      const cv::Mat raw = make_image(size, Fill::random, 41 + width * 5 + height);
      cv::Mat flat(size, CV_32FC1);
      cv::randu(flat, 0.5, 1.5);
      cv::Mat corrected;
      ASSERT_EQ(flat_field(raw, flat, 64, Checkpoint(), corrected), Status::ok);
      cv::Mat expected;
      cv::medianBlur(corrected, expected, 3);
      expect_everywhere(size, expected, [&](int band, Stores stores, cv::Mat& out) {
        return flat_field_median3(raw, flat, band, Checkpoint(), out, stores);
      });
    }
  }
}

// The input may be a view too (rows not continuous, at any alignment).
TEST(Median3Shapes, ViewInputMatchesCvMedianBlur) {
  const cv::Size size(300, 9);
  const cv::Mat src = make_image(size, Fill::random, 77);
  cv::Mat expected;
  cv::medianBlur(src, expected, 3);
  for (const int offset : kOffsets) {
    auto [big, in] = guarded_view(size, offset);
    src.copyTo(in);
    for (const Stores stores : {Stores::regular, Stores::streaming}) {
      cv::Mat out;
      ASSERT_EQ(median3(in, 4, Checkpoint(), out, stores), Status::ok);
      EXPECT_EQ(count_differences(out, expected), 0) << where(size, 4, stores, offset);
    }
  }
}

}  // namespace
}  // namespace ws::kernels::test
