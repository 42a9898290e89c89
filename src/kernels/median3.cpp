#include "kernels/median3.hpp"

#include "kernels/band.hpp"
#include "kernels/flat_field.hpp"
#include "kernels/output.hpp"
#include "kernels/simd.hpp"
#include "kernels/stores.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace ws::kernels {

namespace {
void validate(const cv::Mat& src, int band_rows) {
  require_band_rows(band_rows, "median3");
  if (src.type() != CV_8UC1) throw std::invalid_argument("median3: src must be CV_8UC1");
}

// How the median is computed. Sort each column of three (lo <= mid <= hi); the median of the 3x3
// window is then med3(max of the three lo, med3 of the three mid, min of the three hi). Two
// output rows are made at once: rows y and y + 1 both need the column pair (y, y + 1) sorted, so
// each column costs 2 + 4 + 4 min/max for two rows instead of 6 + 6.
//
// Pixels go 64 at a time in GCC vector types: one AVX-512 register, two AVX2 or four SSE2 ones,
// whichever the WS_SIMD_CLONES clone was built for. The columns on either side come from loads
// one byte to the left and right, so there is no scratch memory to store and reload. Columns 0
// and n - 1 (whose neighbours are replicated edges) are computed one pixel at a time, and rows
// narrower than kMinVectorWidth entirely so.
//
// Passing a 64-byte vector by value is an ABI matter only across calls that are not inlined:
// every helper taking or returning one is always_inline and file-local, so GCC's -Wpsabi note
// about it does not apply here.
#pragma GCC diagnostic ignored "-Wpsabi"
using Vec = std::uint8_t __attribute__((vector_size(64)));
constexpr int kLanes = 64;
constexpr int kMinVectorWidth = kLanes + 2;

[[gnu::always_inline]] inline Vec load(const std::uint8_t* p) {
  Vec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
[[gnu::always_inline]] inline Vec vmin(const Vec& a, const Vec& b) {
  return a < b ? a : b;
}
[[gnu::always_inline]] inline Vec vmax(const Vec& a, const Vec& b) {
  return a < b ? b : a;
}
[[gnu::always_inline]] inline Vec vmed3(const Vec& a, const Vec& b, const Vec& c) {
  return vmax(vmin(a, b), vmin(vmax(a, b), c));
}

inline std::uint8_t med3(std::uint8_t a, std::uint8_t b, std::uint8_t c) {
  return std::max(std::min(a, b), std::min(std::max(a, b), c));
}

// The median at column x of the rows above (a), at (c) and below (b), edges replicated.
std::uint8_t median_at(const std::uint8_t* a, const std::uint8_t* c, const std::uint8_t* b, int n,
                       int x) {
  std::uint8_t lo[3];
  std::uint8_t mid[3];
  std::uint8_t hi[3];
  for (int j = 0; j < 3; ++j) {
    const int k = std::clamp(x - 1 + j, 0, n - 1);
    const std::uint8_t l1 = std::min(a[k], c[k]);
    const std::uint8_t h1 = std::max(a[k], c[k]);
    const std::uint8_t m1 = std::min(h1, b[k]);
    hi[j] = std::max(h1, b[k]);
    lo[j] = std::min(l1, m1);
    mid[j] = std::max(l1, m1);
  }
  return med3(std::max({lo[0], lo[1], lo[2]}), med3(mid[0], mid[1], mid[2]),
              std::min({hi[0], hi[1], hi[2]}));
}

// Source rows y - 1, y, y + 1 and y + 2 (edges already replicated) and output rows y and y + 1;
// with kTwo false only output row y (r3 and d1 unused).
struct RowSet {
  const std::uint8_t* r0;
  const std::uint8_t* r1;
  const std::uint8_t* r2;
  const std::uint8_t* r3;
  std::uint8_t* d0;
  std::uint8_t* d1;
};

// 64 output pixels at x..x+63 of row y into m0 (and of row y + 1 into m1); 1 <= x <= n - 65.
template <bool kTwo>
[[gnu::always_inline]] inline void median_vectors(const std::uint8_t* __restrict r0,
                                                  const std::uint8_t* __restrict r1,
                                                  const std::uint8_t* __restrict r2,
                                                  const std::uint8_t* __restrict r3, int x, Vec& m0,
                                                  Vec& m1) {
  Vec lo0[3];
  Vec mid0[3];
  Vec hi0[3];
  Vec lo1[3];
  Vec mid1[3];
  Vec hi1[3];
  for (int j = 0; j < 3; ++j) {
    const int at = x - 1 + j;
    const Vec p = load(r1 + at);
    const Vec q = load(r2 + at);
    const Vec pair_lo = vmin(p, q);
    const Vec pair_hi = vmax(p, q);
    const Vec above = load(r0 + at);
    lo0[j] = vmin(above, pair_lo);
    hi0[j] = vmax(above, pair_hi);
    mid0[j] = vmax(pair_lo, vmin(above, pair_hi));
    if constexpr (kTwo) {
      const Vec below = load(r3 + at);
      lo1[j] = vmin(below, pair_lo);
      hi1[j] = vmax(below, pair_hi);
      mid1[j] = vmax(pair_lo, vmin(below, pair_hi));
    }
  }
  m0 = vmed3(vmax(vmax(lo0[0], lo0[1]), lo0[2]), vmed3(mid0[0], mid0[1], mid0[2]),
             vmin(vmin(hi0[0], hi0[1]), hi0[2]));
  if constexpr (kTwo) {
    m1 = vmed3(vmax(vmax(lo1[0], lo1[1]), lo1[2]), vmed3(mid1[0], mid1[1], mid1[2]),
               vmin(vmin(hi1[0], hi1[1]), hi1[2]));
  }
}

// 64 pixels at d with streaming stores (d 16-byte aligned), or with ordinary ones.
[[gnu::always_inline]] inline void put(std::uint8_t* d, const Vec& v, bool stream) {
  if (stream) {
    stream_64(d, &v);
  } else {
    std::memcpy(d, &v, sizeof v);
  }
}

// Output row y (and y + 1 with kTwo) of an n-pixel-wide image, n >= kMinVectorWidth. With
// `stream`, the 64-byte lines of row y that lie inside columns [1, n - 1) take streaming stores,
// and those of row y + 1 too when it has row y's alignment; every other byte takes ordinary
// stores, so no cache line takes both kinds (see stream_row()).
template <bool kTwo>
WS_SIMD_CLONES void median_rows(const RowSet& s, int n, bool stream) {
  // Locals, so that the compiler need not reload them after every byte store.
  const std::uint8_t* __restrict r0 = s.r0;
  const std::uint8_t* __restrict r1 = s.r1;
  const std::uint8_t* __restrict r2 = s.r2;
  const std::uint8_t* __restrict r3 = s.r3;
  std::uint8_t* __restrict d0 = s.d0;
  std::uint8_t* __restrict d1 = s.d1;
  // Pixels [begin, end) of the row(s), begin >= 1, end <= n - 1 and end - begin <= 64, through
  // one vector that covers them.
  const auto partial = [&](int begin, int end) {
    if (begin >= end) return;
    const int x = std::min(begin, n - kMinVectorWidth + 1);
    Vec m0;
    Vec m1;
    median_vectors<kTwo>(r0, r1, r2, r3, x, m0, m1);
    std::memcpy(d0 + begin, reinterpret_cast<const std::uint8_t*>(&m0) + (begin - x),
                static_cast<std::size_t>(end - begin));
    if constexpr (kTwo) {
      std::memcpy(d1 + begin, reinterpret_cast<const std::uint8_t*>(&m1) + (begin - x),
                  static_cast<std::size_t>(end - begin));
    }
  };
  const auto line_offset = [](const std::uint8_t* p) {
    return static_cast<int>(reinterpret_cast<std::uintptr_t>(p) % kLanes);
  };
  // Vectors at x = first, first + 64, ... < last; the rest goes through partial().
  int first = 1;
  if (stream) first = 1 + (kLanes - line_offset(d0 + 1)) % kLanes;  // d0 + first on a line
  const int last = first + (n - 1 - first) / kLanes * kLanes;
  const bool stream1 = stream && kTwo && line_offset(d0) == line_offset(d1);

  partial(1, first);
  for (int x = first; x < last; x += kLanes) {
    Vec m0;
    Vec m1;
    median_vectors<kTwo>(r0, r1, r2, r3, x, m0, m1);
    put(d0 + x, m0, stream);
    if constexpr (kTwo) put(d1 + x, m1, stream1);
  }
  partial(last, n - 1);
  // The edge columns last, when the vectors have brought their source bytes into the cache: the
  // end of a row not yet read is a wait for memory that no prefetcher has started.
  d0[0] = median_at(r0, r1, r2, n, 0);
  d0[n - 1] = median_at(r0, r1, r2, n, n - 1);
  if constexpr (kTwo) {
    d1[0] = median_at(r1, r2, r3, n, 0);
    d1[n - 1] = median_at(r1, r2, r3, n, n - 1);
  }
}

// Output row(s) of any width: vectors from kMinVectorWidth on, else one pixel at a time.
template <bool kTwo>
void median_rows_any(const RowSet& s, int n, bool stream) {
  if (n >= kMinVectorWidth) {
    median_rows<kTwo>(s, n, stream);
    return;
  }
  for (int x = 0; x < n; ++x) {
    s.d0[x] = median_at(s.r0, s.r1, s.r2, n, x);
    if constexpr (kTwo) s.d1[x] = median_at(s.r1, s.r2, s.r3, n, x);
  }
}

// Rows [begin, end) of dst, two at a time, from `row(y)`: the source row y, clamped to the image,
// for y in [begin - 1, end + 1), asked for in increasing order. A row row() returned must stay
// valid over its next three calls (flat_field_median3() keeps four rows in turn).
template <typename RowOf>
void median_band(int begin, int end, cv::Mat& dst, bool stream, RowOf&& row) {
  const int n = dst.cols;
  const std::uint8_t* r0 = row(begin - 1);
  const std::uint8_t* r1 = row(begin);
  for (int y = begin; y < end; y += 2) {
    const std::uint8_t* r2 = row(y + 1);
    if (y + 1 < end) {
      const std::uint8_t* r3 = row(y + 2);
      median_rows_any<true>(
          {r0, r1, r2, r3, dst.ptr<std::uint8_t>(y), dst.ptr<std::uint8_t>(y + 1)}, n, stream);
      r0 = r2;
      r1 = r3;
    } else {
      median_rows_any<false>({r0, r1, r2, nullptr, dst.ptr<std::uint8_t>(y), nullptr}, n, stream);
    }
  }
  if (stream) stream_fence();
}

}  // namespace

Status median3(const cv::Mat& src, int band_rows, const Checkpoint& cp, cv::Mat& out,
               Stores stores) {
  validate(src, band_rows);
  cv::Mat dst = output_for(out, src.size(), CV_8UC1, {&src});
  const int height = src.rows;
  const bool stream = use_streaming(stores, 2 * dst.total());  // reads one image, writes one
  // Bands run concurrently; rows are read in place.
  const Status status = parallel_bands(height, band_rows, cp, [&](int begin, int end) {
    median_band(begin, end, dst, stream,
                [&](int y) { return src.ptr<std::uint8_t>(std::clamp(y, 0, height - 1)); });
  });
  if (status == Status::ok) out = dst;
  return status;
}

Status flat_field_median3(const cv::Mat& raw, const cv::Mat& flat, int band_rows,
                          const Checkpoint& cp, cv::Mat& out, Stores stores) {
  validate(raw, band_rows);
  if (flat.type() != CV_32FC1 || flat.size() != raw.size()) {
    throw std::invalid_argument("flat_field_median3: flat must be CV_32FC1 of raw's size");
  }
  cv::Mat dst = output_for(out, raw.size(), CV_8UC1, {&raw, &flat});
  const int width = raw.cols;
  const int height = raw.rows;
  // reads 1 + 4 bytes a pixel, writes 1
  const bool stream = use_streaming(stores, 6 * dst.total());
  const Status status = parallel_bands(height, band_rows, cp, [&](int begin, int end) {
    // Row y of flat_field(raw, flat), exactly as flat_field() computes it, into the next of four
    // buffers in turn: median_band() holds at most the last four rows it was given.
    std::vector<std::uint8_t> rows(4 * static_cast<std::size_t>(width));
    int next = 0;
    median_band(begin, end, dst, stream, [&](int y) {
      const int clamped = std::clamp(y, 0, height - 1);
      std::uint8_t* buf = rows.data() + static_cast<std::size_t>(next) * width;
      next = (next + 1) % 4;
      divide_row(raw.ptr<std::uint8_t>(clamped), flat.ptr<float>(clamped), buf, width);
      return static_cast<const std::uint8_t*>(buf);
    });
  });
  if (status == Status::ok) out = dst;
  return status;
}

}  // namespace ws::kernels
