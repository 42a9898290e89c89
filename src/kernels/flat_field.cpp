#include "kernels/flat_field.hpp"

#include "kernels/band.hpp"
#include "kernels/output.hpp"
#include "kernels/simd.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace ws::kernels {

namespace {
void validate(const cv::Mat& raw, const cv::Mat& flat, int band_rows) {
  require_band_rows(band_rows, "flat_field");
  if (raw.type() != CV_8UC1) throw std::invalid_argument("flat_field: raw must be CV_8UC1");
  if (!flat.empty() && (flat.type() != CV_32FC1 || flat.size() != raw.size())) {
    throw std::invalid_argument("flat_field: flat must be empty or CV_32FC1 of raw's size");
  }
}
using F32x8 = float __attribute__((vector_size(32)));
using I32x8 = std::int32_t __attribute__((vector_size(32)));
using U8x8 = std::uint8_t __attribute__((vector_size(8)));

// cv::divide defines x / 0 as 0 for floating-point images; match it.
std::uint8_t divide_pixel(std::uint8_t r, float g) {
  return g != 0.0f ? cv::saturate_cast<std::uint8_t>(static_cast<float>(r) / g) : 0;
}
}  // namespace

WS_SIMD_CLONES
void divide_row(const std::uint8_t* __restrict r, const float* __restrict g,
                std::uint8_t* __restrict d, int n) {
  // Eight pixels a step with vector types (GCC keeps the scalar loop scalar: cvRound and the
  // x / 0 rule do not vectorise). Same results as divide_pixel(): saturate_cast<uchar>(float) is
  // cvRound (round half to even) clamped to 0..255, and cvRound gives INT_MIN, so 0, for NaN and
  // for |q| >= 2^31. Clamping first keeps q in [0, 255], where adding and subtracting 2^23 rounds
  // half to even exactly.
  const F32x8 zero = {};
  const F32x8 top = zero + 255.0f;
  const F32x8 magic = zero + 8388608.0f;  // 2^23
  int x = 0;
  for (; x + 8 <= n; x += 8) {
    U8x8 rb;
    F32x8 gf;
    std::memcpy(&rb, r + x, sizeof rb);
    std::memcpy(&gf, g + x, sizeof gf);
    const F32x8 q = gf != 0.0f ? __builtin_convertvector(rb, F32x8) / gf : zero;
    F32x8 c = q > 255.0f ? top : q;
    c = c > 0.0f ? c : zero;  // also NaN -> 0
    c = q < 2147483648.0f ? c : zero;
    c = (c + magic) - magic;
    const U8x8 out = __builtin_convertvector(__builtin_convertvector(c, I32x8), U8x8);
    std::memcpy(d + x, &out, sizeof out);
  }
  for (; x < n; ++x) d[x] = divide_pixel(r[x], g[x]);
}

Status flat_field(const cv::Mat& raw, const cv::Mat& flat, int band_rows, const Checkpoint& cp,
                  cv::Mat& out) {
  validate(raw, flat, band_rows);
  // output_for gives a separate destination when out aliases raw, so in-place calls stay correct.
  cv::Mat dst = output_for(out, raw.size(), CV_8UC1, {&raw, &flat});
  const int width = raw.cols;
  const Status status = parallel_bands(raw.rows, band_rows, cp, [&](int begin, int end) {
    const int n = width;  // a local: byte stores cannot alias it, so the loop vectorises
    for (int y = begin; y < end; ++y) {
      const auto* r = raw.ptr<std::uint8_t>(y);
      auto* d = dst.ptr<std::uint8_t>(y);
      if (flat.empty()) {
        std::copy(r, r + n, d);
        continue;
      }
      divide_row(r, flat.ptr<float>(y), d, n);
    }
  });
  if (status == Status::ok) out = dst;
  return status;
}

}  // namespace ws::kernels
