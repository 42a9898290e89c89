#include "kernels/median3.hpp"

#include "kernels/band.hpp"
#include "kernels/flat_field.hpp"
#include "kernels/output.hpp"
#include "kernels/simd.hpp"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace ws::kernels {

namespace {
void validate(const cv::Mat& src, int band_rows) {
  require_band_rows(band_rows, "median3");
  if (src.type() != CV_8UC1) throw std::invalid_argument("median3: src must be CV_8UC1");
}

inline std::uint8_t med3(std::uint8_t a, std::uint8_t b, std::uint8_t c) {
  return std::max(std::min(a, b), std::min(std::max(a, b), c));
}

// The median of a 3x3 window is med3(max of the column minima, med3 of the column medians, min of
// the column maxima) once each column of three is sorted. Sorting every column once and sharing it
// between the three windows that contain it costs 6 + 12 min/max per pixel, against 38 for a
// 19-exchange network per window. Branch-free, so both loops vectorise. Columns go in tiles of
// kTile, so the sorted columns are still in L1 when the second loop reads them (wide frames).
constexpr int kTile = 1024;
constexpr std::size_t kScratch = 3 * (kTile + 2);  // bytes of scratch median_row() needs

// One output row of n pixels from the rows above, at and below it (n pixels each, read in
// place; the frame's edge columns are replicated); n by value, so byte stores cannot alias it.
WS_SIMD_CLONES
void median_row(const std::uint8_t* __restrict a, const std::uint8_t* __restrict c,
                const std::uint8_t* __restrict b, std::uint8_t* __restrict d, int n,
                std::uint8_t* __restrict scratch) {
  std::uint8_t* __restrict lo = scratch;
  std::uint8_t* __restrict mid = lo + kTile + 2;
  std::uint8_t* __restrict hi = mid + kTile + 2;
  for (int x0 = 0; x0 < n; x0 += kTile) {
    const int t = std::min(kTile, n - x0);
    // Sorted column i is frame column x0 - 1 + i, i in [0, t + 2); the two outside the frame
    // (at its left and right edge) repeat the edge column.
    const int first = x0 == 0 ? 1 : 0;
    const int last = x0 + t == n ? t + 1 : t + 2;
    const int col0 = x0 - 1;
    for (int i = first; i < last; ++i) {
      const std::uint8_t p = a[col0 + i];
      const std::uint8_t q = c[col0 + i];
      const std::uint8_t r = b[col0 + i];
      const std::uint8_t l1 = std::min(p, q);
      const std::uint8_t h1 = std::max(p, q);
      const std::uint8_t m1 = std::min(h1, r);
      hi[i] = std::max(h1, r);
      lo[i] = std::min(l1, m1);
      mid[i] = std::max(l1, m1);
    }
    if (first == 1) {
      lo[0] = lo[1];
      mid[0] = mid[1];
      hi[0] = hi[1];
    }
    if (last == t + 1) {
      lo[t + 1] = lo[t];
      mid[t + 1] = mid[t];
      hi[t + 1] = hi[t];
    }
    std::uint8_t* out = d + x0;
    for (int x = 0; x < t; ++x) {
      const std::uint8_t l = std::max(std::max(lo[x], lo[x + 1]), lo[x + 2]);
      const std::uint8_t h = std::min(std::min(hi[x], hi[x + 1]), hi[x + 2]);
      out[x] = med3(l, med3(mid[x], mid[x + 1], mid[x + 2]), h);
    }
  }
}

}  // namespace

Status median3(const cv::Mat& src, int band_rows, const Checkpoint& cp, cv::Mat& out) {
  validate(src, band_rows);
  cv::Mat dst = output_for(out, src.size(), CV_8UC1, {&src});
  const int width = src.cols;
  const int height = src.rows;
  // Bands run concurrently, so each has its own scratch. Rows are read in place.
  const Status status = parallel_bands(height, band_rows, cp, [&](int begin, int end) {
    std::vector<std::uint8_t> scratch(kScratch);
    for (int y = begin; y < end; ++y) {
      median_row(src.ptr<std::uint8_t>(std::max(y - 1, 0)), src.ptr<std::uint8_t>(y),
                 src.ptr<std::uint8_t>(std::min(y + 1, height - 1)), dst.ptr<std::uint8_t>(y),
                 width, scratch.data());
    }
  });
  if (status == Status::ok) out = dst;
  return status;
}

Status flat_field_median3(const cv::Mat& raw, const cv::Mat& flat, int band_rows,
                          const Checkpoint& cp, cv::Mat& out) {
  validate(raw, band_rows);
  if (flat.type() != CV_32FC1 || flat.size() != raw.size()) {
    throw std::invalid_argument("flat_field_median3: flat must be CV_32FC1 of raw's size");
  }
  cv::Mat dst = output_for(out, raw.size(), CV_8UC1, {&raw, &flat});
  const int width = raw.cols;
  const int height = raw.rows;
  // Row `y` of flat_field(raw, flat) into a padded buffer, exactly as flat_field() computes it.
  const auto corrected_row = [&](int y, std::uint8_t* buf) {
    const int n = width;  // a local: byte stores cannot alias it, so the loop vectorises
    std::uint8_t* d = buf + 1;
    divide_row(raw.ptr<std::uint8_t>(y), flat.ptr<float>(y), d, n);
    buf[0] = d[0];
    buf[n + 1] = d[n - 1];
  };
  const Status status = parallel_bands(height, band_rows, cp, [&](int begin, int end) {
    std::vector<std::uint8_t> rows(3 * (static_cast<std::size_t>(width) + 2) + kScratch);
    std::uint8_t* above = rows.data();
    std::uint8_t* centre = above + width + 2;
    std::uint8_t* below = centre + width + 2;
    std::uint8_t* scratch = below + width + 2;
    corrected_row(std::max(begin - 1, 0), above);
    corrected_row(begin, centre);
    for (int y = begin; y < end; ++y) {
      corrected_row(std::min(y + 1, height - 1), below);
      median_row(above + 1, centre + 1, below + 1, dst.ptr<std::uint8_t>(y), width, scratch);
      std::uint8_t* free_row = above;
      above = centre;
      centre = below;
      below = free_row;
    }
  });
  if (status == Status::ok) out = dst;
  return status;
}

}  // namespace ws::kernels
