#include "kernels/align.hpp"

#include "kernels/band.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <vector>

namespace ws::kernels {

namespace {
constexpr int kScoredRows = 256;    // rows of the interior scored per shift (fewer if smaller)
constexpr int kMaxColumns = 32768;  // keeps a row's dot product inside int32

void validate(const cv::Mat& frame, const cv::Mat& golden, int max_shift_px, int band_rows) {
  require_band_rows(band_rows, "align");
  if (frame.type() != CV_8UC1 || golden.type() != CV_8UC1 || frame.size() != golden.size()) {
    throw std::invalid_argument("align: frame and golden must be CV_8UC1 of one size");
  }
  if (frame.cols > kMaxColumns) throw std::invalid_argument("align: frame wider than 32768");
  if (max_shift_px < 0) throw std::invalid_argument("align: max_shift_px must be >= 0");
}

std::int32_t dot(const std::uint8_t* a, const std::uint8_t* b, int n) {
  std::int32_t sum = 0;
  for (int i = 0; i < n; ++i) sum += static_cast<std::int32_t>(a[i]) * b[i];
  return sum;
}

// Per-shift sums over the scored pixels; sums of the frame are shift-independent.
struct ShiftSums {
  std::int64_t fg = 0;
  std::int64_t g = 0;
  std::int64_t gg = 0;
};
}  // namespace

AlignResult align(const cv::Mat& frame, const cv::Mat& golden, int max_shift_px, int band_rows,
                  const Checkpoint& cp) {
  validate(frame, golden, max_shift_px, band_rows);
  AlignResult result;
  if (frame.empty()) return result;
  const int width = frame.cols;
  const int height = frame.rows;
  // The search radius is clamped so at least one column and row stays inside for every shift.
  const int rx = std::min(max_shift_px, (width - 1) / 2);
  const int ry = std::min(max_shift_px, (height - 1) / 2);
  const int x0 = rx;
  const int n = width - 2 * rx;
  const int interior_rows = height - 2 * ry;
  const int step = std::max(1, interior_rows / kScoredRows);
  const int scored = (interior_rows + step - 1) / step;
  const int nx = 2 * rx + 1;
  const int ny = 2 * ry + 1;

  // Row prefix sums of golden and golden^2 give each shift's window sums in O(1) per row.
  std::vector<std::int64_t> prefix_g(static_cast<std::size_t>(height) * (width + 1));
  std::vector<std::int64_t> prefix_gg(prefix_g.size());
  for (int y = 0; y < height; ++y) {
    const auto* g = golden.ptr<std::uint8_t>(y);
    std::int64_t* pg = &prefix_g[static_cast<std::size_t>(y) * (width + 1)];
    std::int64_t* pgg = &prefix_gg[static_cast<std::size_t>(y) * (width + 1)];
    pg[0] = pgg[0] = 0;
    for (int x = 0; x < width; ++x) {
      pg[x + 1] = pg[x] + g[x];
      pgg[x + 1] = pgg[x] + static_cast<std::int64_t>(g[x]) * g[x];
    }
  }

  std::vector<ShiftSums> sums(static_cast<std::size_t>(nx) * ny);
  std::int64_t sum_f = 0;
  std::int64_t sum_ff = 0;
  // A scored row costs (2r+1)^2 dot products, so bands are counted in scored rows.
  const int band = std::max(1, band_rows / step);
  const Status status = for_each_band(scored, band, cp, [&](int begin, int end) {
    for (int i = begin; i < end; ++i) {
      const int y = ry + i * step;
      const std::uint8_t* f = frame.ptr<std::uint8_t>(y) + x0;
      for (int k = 0; k < n; ++k) {
        sum_f += f[k];
        sum_ff += static_cast<std::int64_t>(f[k]) * f[k];
      }
      for (int dy = -ry; dy <= ry; ++dy) {
        const int gy = y - dy;
        const std::uint8_t* grow = golden.ptr<std::uint8_t>(gy);
        const std::int64_t* pg = &prefix_g[static_cast<std::size_t>(gy) * (width + 1)];
        const std::int64_t* pgg = &prefix_gg[static_cast<std::size_t>(gy) * (width + 1)];
        ShiftSums* s = &sums[static_cast<std::size_t>(dy + ry) * nx];
        for (int dx = -rx; dx <= rx; ++dx) {
          const int gx0 = x0 - dx;
          ShiftSums& acc = s[dx + rx];
          acc.fg += dot(f, grow + gx0, n);
          acc.g += pg[gx0 + n] - pg[gx0];
          acc.gg += pgg[gx0 + n] - pgg[gx0];
        }
      }
    }
  });
  if (status == Status::canceled) {
    result.status = Status::canceled;
    return result;
  }

  const double count = static_cast<double>(scored) * n;
  const auto sf = static_cast<double>(sum_f);
  const double var_f = static_cast<double>(sum_ff) - sf * sf / count;
  double best = -2.0;
  for (int dy = -ry; dy <= ry; ++dy) {
    for (int dx = -rx; dx <= rx; ++dx) {
      const ShiftSums& acc = sums[static_cast<std::size_t>(dy + ry) * nx + (dx + rx)];
      const auto sg = static_cast<double>(acc.g);
      const double var_g = static_cast<double>(acc.gg) - sg * sg / count;
      const double cov = static_cast<double>(acc.fg) - sf * sg / count;
      // Below a quarter grey level of variance per pixel there is nothing to align on.
      const double ncc =
          (var_f > 0.25 * count && var_g > 0.25 * count) ? cov / std::sqrt(var_f * var_g) : 0.0;
      const bool closer = std::abs(dx) + std::abs(dy) < std::abs(result.dx) + std::abs(result.dy);
      if (ncc > best || (ncc == best && closer)) {
        best = ncc;
        result.dx = dx;
        result.dy = dy;
      }
    }
  }
  if (best <= 0.0) {
    result.dx = 0;
    result.dy = 0;
  }
  result.confidence = std::clamp(best, 0.0, 1.0);
  return result;
}

}  // namespace ws::kernels
