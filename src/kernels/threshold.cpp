#include "kernels/threshold.hpp"

#include "kernels/band.hpp"
#include "kernels/output.hpp"
#include "kernels/simd.hpp"
#include "kernels/stores.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace ws::kernels {

namespace {
void validate(const cv::Mat& src, int band_rows) {
  require_band_rows(band_rows, "threshold");
  if (src.type() != CV_8UC1) throw std::invalid_argument("threshold: src must be CV_8UC1");
}

// d[x] = s[x] > level ? 255 : 0 over one run of pixels, 32 a step. In SIMD clones and never
// inlined, so every caller (the banded loops with and without checkpoints) runs the same code: when
// the loop was inlined into each, GCC gave them different loops, one 1.5x slower than the other.
using U8x32 = std::uint8_t __attribute__((vector_size(32)));
WS_SIMD_CLONES
void threshold_row(const std::uint8_t* __restrict s, std::uint8_t* __restrict d, std::ptrdiff_t n,
                   std::uint8_t level) {
  const U8x32 lv = U8x32{} + level;
  std::ptrdiff_t x = 0;
  for (; x + 32 <= n; x += 32) {
    U8x32 a;
    std::memcpy(&a, s + x, sizeof a);
    const auto out = reinterpret_cast<U8x32>(a > lv);  // all ones where greater
    std::memcpy(d + x, &out, sizeof out);
  }
  for (; x < n; ++x) d[x] = s[x] > level ? std::uint8_t{255} : std::uint8_t{0};
}

// One run with regular stores, `level` clamped to -1..255: < 0 sets every pixel, 255 none.
void threshold_run(const std::uint8_t* s, std::uint8_t* d, std::ptrdiff_t n, int level) {
  if (level < 0 || level >= 255) {
    std::fill(d, d + n, level < 0 ? std::uint8_t{255} : std::uint8_t{0});
  } else {
    threshold_row(s, d, n, static_cast<std::uint8_t>(level));
  }
}

// The same with streaming stores for the whole cache lines (threshold_run for the partial lines
// at the ends). SSE2 has no unsigned byte compare: s > lv is max(s, lv + 1) == s.
void threshold_run_streamed(const std::uint8_t* s, std::uint8_t* d, std::ptrdiff_t n, int level) {
  const auto regular = [s, d, level](std::ptrdiff_t begin, std::ptrdiff_t end) {
    threshold_run(s + begin, d + begin, end - begin, level);
  };
#if defined(__SSE2__)
  if (level < 0 || level >= 255) {
    const __m128i fill = _mm_set1_epi8(static_cast<char>(level < 0 ? -1 : 0));
    stream_row(
        d, n, [fill](std::ptrdiff_t) { return fill; }, regular);
    return;
  }
  const __m128i above = _mm_set1_epi8(static_cast<char>(level + 1));
  stream_row(
      d, n,
      [s, above](std::ptrdiff_t x) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + x));
        return _mm_cmpeq_epi8(_mm_max_epu8(v, above), v);
      },
      regular);
#else
  regular(0, n);  // no streaming stores in this build (use_streaming() is always false)
#endif
}
}  // namespace

Status threshold(const cv::Mat& src, int level, int band_rows, const Checkpoint& cp, cv::Mat& out,
                 Stores stores) {
  validate(src, band_rows);
  cv::Mat dst = output_for(out, src.size(), CV_8UC1, {&src});
  const bool stream = use_streaming(stores, 2 * dst.total());  // reads src, writes dst
  // Continuous images make a band one run of bytes: partial lines written the regular way only at
  // the band's ends, not at both ends of every row (when the width is no multiple of 64). On
  // 5793^2 this turned streaming from 0.8x-1.0x of regular stores into 1.1x-1.3x.
  const bool whole_rows = src.isContinuous() && dst.isContinuous();
  const int width = src.cols;
  // Clamp once so the comparison runs on bytes: level < 0 sets everything, >= 255 nothing.
  const int clamped = std::clamp(level, -1, 255);
  const auto write_run = stream ? threshold_run_streamed : threshold_run;
  const Status status = parallel_bands(src.rows, band_rows, cp, [&](int begin, int end) {
    // A band of continuous images is one run; otherwise row by row.
    const int runs = whole_rows ? 1 : end - begin;
    const std::ptrdiff_t length =
        whole_rows ? static_cast<std::ptrdiff_t>(end - begin) * width : width;
    for (int r = 0; r < runs; ++r) {
      write_run(src.ptr<std::uint8_t>(begin + r), dst.ptr<std::uint8_t>(begin + r), length,
                clamped);
    }
    if (stream) stream_fence();
  });
  if (status == Status::ok) out = dst;
  return status;
}

}  // namespace ws::kernels
