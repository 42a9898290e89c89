#include "kernels/threshold.hpp"

#include "kernels/band.hpp"
#include "kernels/output.hpp"

#include <algorithm>
#include <cstdint>
#include <stdexcept>

namespace ws::kernels {

namespace {
void validate(const cv::Mat& src, int band_rows) {
  require_band_rows(band_rows, "threshold");
  if (src.type() != CV_8UC1) throw std::invalid_argument("threshold: src must be CV_8UC1");
}
}  // namespace

Status threshold(const cv::Mat& src, int level, int band_rows, const Checkpoint& cp, cv::Mat& out) {
  validate(src, band_rows);
  cv::Mat dst = output_for(out, src.size(), CV_8UC1, {&src});
  const int width = src.cols;
  // Clamp once so the comparison runs on bytes: level < 0 sets everything, >= 255 nothing.
  const int clamped = std::clamp(level, -1, 255);
  const Status status = parallel_bands(src.rows, band_rows, cp, [&](int begin, int end) {
    // Locals, not captures: a byte store could alias a captured bound and stop vectorisation.
    const int n = width;
    for (int y = begin; y < end; ++y) {
      const auto* s = src.ptr<std::uint8_t>(y);
      auto* d = dst.ptr<std::uint8_t>(y);
      if (clamped < 0 || clamped >= 255) {
        std::fill(d, d + n, clamped < 0 ? std::uint8_t{255} : std::uint8_t{0});
        continue;
      }
      const auto lv = static_cast<std::uint8_t>(clamped);  // byte compares: 16+ pixels a step
      for (int x = 0; x < n; ++x) d[x] = s[x] > lv ? std::uint8_t{255} : std::uint8_t{0};
    }
  });
  if (status == Status::ok) out = dst;
  return status;
}

}  // namespace ws::kernels
