#include "hardware/sim/die_pattern.hpp"

#include "hardware/sim/sim_rng.hpp"

#include <opencv2/imgproc.hpp>

#include <cstdint>

namespace ws::sim {

namespace {

int floor_div(int a, int b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

}  // namespace

cv::Mat render_die_pattern(int width, int height, int margin) {
  cv::Mat out(height + 2 * margin, width + 2 * margin, CV_32F, cv::Scalar(level::background));
  const int first_cx = floor_div(-margin, cell_px);
  const int first_cy = floor_div(-margin, cell_px);
  const int last_cx = floor_div(width + margin - 1, cell_px);
  const int last_cy = floor_div(height + margin - 1, cell_px);
  // Drawing outside the image is clipped by OpenCV, so cells on the margin need no special case.
  for (int cy = first_cy; cy <= last_cy; ++cy) {
    for (int cx = first_cx; cx <= last_cx; ++cx) {
      const int x0 = cx * cell_px + margin;
      const int y0 = cy * cell_px + margin;
      cv::rectangle(out, cv::Rect(x0, y0 + 4, cell_px, 3), cv::Scalar(level::line), cv::FILLED);
      cv::rectangle(out, cv::Rect(x0 + 24, y0, 2, cell_px), cv::Scalar(level::line), cv::FILLED);
      // The pad layout is a fixed function of the cell: the same on every die and every seed.
      const std::uint64_t h =
          mix64((static_cast<std::uint64_t>(static_cast<std::uint32_t>(cx)) << 32) ^
                static_cast<std::uint32_t>(cy));
      if (h % 5 == 0) continue;  // about one cell in five has no pad
      const int pad_w = 6 + static_cast<int>((h >> 8) % 9);
      const int pad_h = 6 + static_cast<int>((h >> 16) % 9);
      const int pad_x = 4 + static_cast<int>((h >> 24) % 3);
      cv::rectangle(out, cv::Rect(x0 + pad_x, y0 + 10, pad_w, pad_h), cv::Scalar(level::pad),
                    cv::FILLED);
    }
  }
  return out;
}

}  // namespace ws::sim
