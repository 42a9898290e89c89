#include "kernels/absdiff_shifted.hpp"

#include "kernels/band.hpp"
#include "kernels/output.hpp"
#include "kernels/simd.hpp"
#include "kernels/stores.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace ws::kernels {

namespace {
void validate(const cv::Mat& frame, const cv::Mat& golden, int band_rows) {
  require_band_rows(band_rows, "absdiff_shifted");
  if (frame.type() != CV_8UC1 || golden.type() != CV_8UC1 || frame.size() != golden.size()) {
    throw std::invalid_argument("absdiff_shifted: frame and golden must be CV_8UC1 of one size");
  }
}

// |f - g| over one row, 32 pixels per step as max - min (pmaxub, pminub, psubb per vector in
// every clone). Written with vector types because GCC 12 at -O3 compiled the scalar
// max(f, g) - min(f, g) into about 25 compare, blend and mask instructions per 16 pixels.
using U8x32 = std::uint8_t __attribute__((vector_size(32)));
WS_SIMD_CLONES
void absdiff_row(const std::uint8_t* __restrict f, const std::uint8_t* __restrict g,
                 std::uint8_t* __restrict d, int n) {
  int x = 0;
  for (; x + 32 <= n; x += 32) {
    U8x32 a;
    U8x32 b;
    std::memcpy(&a, f + x, sizeof a);
    std::memcpy(&b, g + x, sizeof b);
    const U8x32 diff = (a > b ? a : b) - (a > b ? b : a);
    std::memcpy(d + x, &diff, sizeof diff);
  }
  for (; x < n; ++x) d[x] = static_cast<std::uint8_t>(f[x] > g[x] ? f[x] - g[x] : g[x] - f[x]);
}

#if defined(__SSE2__)
// The same with streaming stores: 16 pixels a step in SSE2 (baseline on x86-64), which is enough
// for a loop bound by memory bandwidth and needs no clones.
void absdiff_row_streamed(const std::uint8_t* f, const std::uint8_t* g, std::uint8_t* d, int n) {
  stream_row(
      d, n,
      [f, g](std::ptrdiff_t x) {
        const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(f + x));
        const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(g + x));
        return _mm_sub_epi8(_mm_max_epu8(a, b), _mm_min_epu8(a, b));
      },
      [f, g, d](std::ptrdiff_t begin, std::ptrdiff_t end) {
        absdiff_row(f + begin, g + begin, d + begin, static_cast<int>(end - begin));
      });
}
#else
// No streaming stores in this build (use_streaming() is always false).
void absdiff_row_streamed(const std::uint8_t* f, const std::uint8_t* g, std::uint8_t* d, int n) {
  absdiff_row(f, g, d, n);
}
#endif
}  // namespace

cv::Rect valid_region(cv::Size size, int dx, int dy) {
  const int x0 = std::clamp(dx, 0, size.width);
  const int x1 = std::clamp(size.width + dx, 0, size.width);
  const int y0 = std::clamp(dy, 0, size.height);
  const int y1 = std::clamp(size.height + dy, 0, size.height);
  if (x1 <= x0 || y1 <= y0) return {};
  return {x0, y0, x1 - x0, y1 - y0};
}

Status absdiff_shifted(const cv::Mat& frame, const cv::Mat& golden, int dx, int dy, int band_rows,
                       const Checkpoint& cp, cv::Mat& out, Stores stores) {
  validate(frame, golden, band_rows);
  cv::Mat dst = output_for(out, frame.size(), CV_8UC1, {&frame, &golden});
  const bool stream = use_streaming(stores, 3 * dst.total());  // reads two images, writes one
  const auto diff_row = stream ? absdiff_row_streamed : absdiff_row;
  const cv::Rect valid = valid_region(frame.size(), dx, dy);
  const int width = frame.cols;
  // Without a column shift and with continuous images, a band's valid rows are one run of bytes
  // in all three images: one call per band instead of one per row.
  const bool whole_rows = dx == 0 && frame.isContinuous() && golden.isContinuous() &&
                          dst.isContinuous() && !valid.empty();
  const Status status = parallel_bands(frame.rows, band_rows, cp, [&](int begin, int end) {
    if (whole_rows) {
      const auto row = [width](const cv::Mat& m, int y) {
        return m.data + static_cast<std::ptrdiff_t>(y) * width;  // y may be one past the end
      };
      // The band's valid rows [a, b): empty (a == b) when the band lies outside them.
      const int a = std::clamp(valid.y, begin, end);
      const int b = std::clamp(valid.y + valid.height, begin, end);
      std::fill(row(dst, begin), row(dst, a), std::uint8_t{0});
      if (b > a) diff_row(row(frame, a), row(golden, a - dy), row(dst, a), (b - a) * width);
      std::fill(row(dst, b), row(dst, end), std::uint8_t{0});
      if (stream) stream_fence();
      return;
    }
    for (int y = begin; y < end; ++y) {
      auto* d = dst.ptr<std::uint8_t>(y);
      if (y < valid.y || y >= valid.y + valid.height) {
        std::fill(d, d + width, std::uint8_t{0});
        continue;
      }
      const auto* f = frame.ptr<std::uint8_t>(y);
      const auto* g = golden.ptr<std::uint8_t>(y - dy) - dx;  // g[x] is golden(x - dx, y - dy)
      const int x0 = valid.x;
      const int x1 = valid.x + valid.width;
      std::fill(d, d + x0, std::uint8_t{0});
      diff_row(f + x0, g + x0, d + x0, x1 - x0);
      std::fill(d + x1, d + width, std::uint8_t{0});
    }
    if (stream) stream_fence();
  });
  if (status == Status::ok) out = dst;
  return status;
}

}  // namespace ws::kernels
