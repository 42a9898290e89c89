#include "kernels/align.hpp"

#include "base/frame_buffers.hpp"
#include "kernels/band.hpp"
#include "kernels/simd.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <vector>

namespace ws::kernels {

namespace {
constexpr int kScoredRows = 128;    // rows of the overlap scored per shift (fewer if smaller)
constexpr int kMaxColumns = 32768;  // keeps a row's dot product inside int32
constexpr int kTopRadius = 3;       // the coarsest level searches at most this far (or further
                                    // when the image is too small to go coarser)
constexpr int kMinTopSide = 48;     // a pyramid level keeps at least this many rows and columns
constexpr int kRefineRadius = 2;    // each finer level searches this far around the coarse peak
constexpr int kMaxRecentre = 4;     // extra searches when a peak lands on a window's edge

void validate(const cv::Mat& frame, const cv::Mat& golden, int max_shift_px, int band_rows) {
  require_band_rows(band_rows, "align");
  if (frame.type() != CV_8UC1 || golden.type() != CV_8UC1 || frame.size() != golden.size()) {
    throw std::invalid_argument("align: frame and golden must be CV_8UC1 of one size");
  }
  if (frame.cols > kMaxColumns) throw std::invalid_argument("align: frame wider than 32768");
  if (max_shift_px < 0) throw std::invalid_argument("align: max_shift_px must be >= 0");
}

// Half-size image, each pixel the rounded mean of a 2x2 block (odd last row/column dropped).
// The levels come from frame_buffers(): a fresh 4 MiB level per 4096^2 frame cost page faults on
// every frame in the graph, whose threads' malloc arenas give freed memory back to the system.
Status downsample2(const cv::Mat& src, int band_rows, const Checkpoint& cp, cv::Mat& out) {
  cv::Mat dst;
  frame_buffers().create(dst, {src.cols / 2, src.rows / 2}, CV_8UC1);
  const int width = dst.cols;
  const Status status = parallel_bands(dst.rows, band_rows, cp, [&](int begin, int end) {
    const int n = width;  // a local: byte stores cannot alias it, so the loop vectorises
    for (int y = begin; y < end; ++y) {
      const auto* a = src.ptr<std::uint8_t>(2 * y);
      const auto* b = src.ptr<std::uint8_t>(2 * y + 1);
      auto* d = dst.ptr<std::uint8_t>(y);
      for (int x = 0; x < n; ++x) {
        const std::ptrdiff_t c = 2 * static_cast<std::ptrdiff_t>(x);
        const int sum = a[c] + a[c + 1] + b[c] + b[c + 1];
        d[x] = static_cast<std::uint8_t>((sum + 2) >> 2);
      }
    }
  });
  if (status == Status::ok) out = dst;
  return status;
}

// An inclusive window of shifts and the ZNCC of each.
struct ShiftWindow {
  int x_lo = 0;
  int x_hi = 0;
  int y_lo = 0;
  int y_hi = 0;
  std::vector<double> ncc;
  [[nodiscard]] int nx() const { return x_hi - x_lo + 1; }
  [[nodiscard]] bool contains(int dx, int dy) const {
    return dx >= x_lo && dx <= x_hi && dy >= y_lo && dy <= y_hi;
  }
  [[nodiscard]] double at(int dx, int dy) const {
    return ncc[static_cast<std::size_t>(dy - y_lo) * nx() + (dx - x_lo)];
  }
};

// Sums over the scored pixels for one shift; the frame's sums do not depend on the shift.
struct ShiftSums {
  std::int64_t fg = 0;
  std::int64_t g = 0;
  std::int64_t gg = 0;
};

// One scored frame row f[0, n) (widened to 16 bits) against one reference row g: for each shift dx
// of [x_lo, x_hi], the dot product with g[x0 - dx, x0 - dx + n) and that window's sums of g and
// g^2, added to s[dx - x_lo]. The window sums slide by one pixel per shift instead of being summed
// again. Every sum of one row fits in int32 (at most 32768 columns of 255 * 255). 16-bit operands
// summed into 32 bits are what the compiler turns into multiply-adds of pairs (pmaddwd).
WS_SIMD_CLONES
void score_row(const std::int16_t* f, const std::uint8_t* g, int width, int x0, int n, int x_lo,
               int x_hi, std::int16_t* g16, ShiftSums* s) {
  for (int x = 0; x < width; ++x) g16[x] = g[x];
  const std::int16_t* first = g16 + (x0 - x_hi);
  std::int32_t sum_g = 0;
  std::int32_t sum_gg = 0;
  for (int i = 0; i < n; ++i) {
    sum_g += first[i];
    sum_gg += first[i] * first[i];
  }
  for (int dx = x_hi;; --dx) {
    const std::int16_t* gw = g16 + (x0 - dx);
    std::int32_t fg = 0;
    for (int i = 0; i < n; ++i) fg += f[i] * gw[i];
    ShiftSums& acc = s[dx - x_lo];
    acc.fg += fg;
    acc.g += sum_g;
    acc.gg += sum_gg;
    if (dx == x_lo) break;
    const std::int32_t out = gw[0];
    const std::int32_t in = gw[n];  // the next window's last pixel: inside the row
    sum_g += in - out;
    sum_gg += in * in - out * out;
  }
}

// Scores every shift of `w` on the same frame pixels: those that have a reference pixel under
// every shift of the window, every k-th row of them (about kScoredRows rows), all columns.
Status score_window(const cv::Mat& frame, const cv::Mat& golden, int band_rows,
                    const Checkpoint& cp, ShiftWindow& w) {
  const int width = frame.cols;
  const int height = frame.rows;
  const int nx = w.nx();
  const int ny = w.y_hi - w.y_lo + 1;
  w.ncc.assign(static_cast<std::size_t>(nx) * ny, 0.0);
  const int x0 = std::max(0, w.x_hi);
  const int n = std::min(width, width + w.x_lo) - x0;
  const int y0 = std::max(0, w.y_hi);
  const int rows = std::min(height, height + w.y_lo) - y0;
  if (n <= 0 || rows <= 0) return cp.should_stop() ? Status::canceled : Status::ok;
  const int step = std::max(1, rows / kScoredRows);
  const int scored = (rows + step - 1) / step;

  std::vector<ShiftSums> sums(w.ncc.size());
  std::vector<std::int16_t> f16(static_cast<std::size_t>(n));
  std::vector<std::int16_t> g16(static_cast<std::size_t>(width));
  std::int64_t sum_f = 0;
  std::int64_t sum_ff = 0;
  // A scored row costs one dot product per shift, so bands are counted in scored rows.
  const int band = std::max(1, band_rows / step);
  const Status status = for_each_band(scored, band, cp, [&](int begin, int end) {
    for (int i = begin; i < end; ++i) {
      const int y = y0 + i * step;
      const std::uint8_t* f = frame.ptr<std::uint8_t>(y) + x0;
      for (int k = 0; k < n; ++k) {
        sum_f += f[k];
        sum_ff += static_cast<std::int64_t>(f[k]) * f[k];
        f16[static_cast<std::size_t>(k)] = f[k];
      }
      for (int dy = w.y_lo; dy <= w.y_hi; ++dy) {
        score_row(f16.data(), golden.ptr<std::uint8_t>(y - dy), width, x0, n, w.x_lo, w.x_hi,
                  g16.data(), &sums[static_cast<std::size_t>(dy - w.y_lo) * nx]);
      }
    }
  });
  if (status == Status::canceled) return status;

  const double count = static_cast<double>(scored) * n;
  const auto sf = static_cast<double>(sum_f);
  const double var_f = static_cast<double>(sum_ff) - sf * sf / count;
  for (std::size_t i = 0; i < sums.size(); ++i) {
    const ShiftSums& acc = sums[i];
    const auto sg = static_cast<double>(acc.g);
    const double var_g = static_cast<double>(acc.gg) - sg * sg / count;
    const double cov = static_cast<double>(acc.fg) - sf * sg / count;
    // Below a quarter grey level of variance per pixel there is nothing to align on.
    w.ncc[i] =
        (var_f > 0.25 * count && var_g > 0.25 * count) ? cov / std::sqrt(var_f * var_g) : 0.0;
  }
  return Status::ok;
}

struct Peak {
  int dx = 0;
  int dy = 0;
  double ncc = -2.0;
};

// The best shift of a window; ties go to the smaller |dx| + |dy|.
Peak peak_of(const ShiftWindow& w) {
  Peak best;
  for (int dy = w.y_lo; dy <= w.y_hi; ++dy) {
    for (int dx = w.x_lo; dx <= w.x_hi; ++dx) {
      const double v = w.at(dx, dy);
      const bool closer = std::abs(dx) + std::abs(dy) < std::abs(best.dx) + std::abs(best.dy);
      if (v > best.ncc || (v == best.ncc && closer)) best = {dx, dy, v};
    }
  }
  return best;
}

// Vertex of the parabola through (-1, a), (0, b), (1, c), in [-0.5, 0.5]; 0 if b is no peak.
double parabolic_offset(double a, double b, double c) {
  const double curvature = a - 2.0 * b + c;
  if (!(curvature < 0.0)) return 0.0;
  return std::clamp(0.5 * (a - c) / curvature, -0.5, 0.5);
}

// A window of radius r around (cx, cy), inside the allowed shifts [-lx, lx] x [-ly, ly].
ShiftWindow window_around(int cx, int cy, int r, int lx, int ly) {
  ShiftWindow w;
  w.x_lo = std::clamp(cx - r, -lx, lx);
  w.x_hi = std::clamp(cx + r, -lx, lx);
  w.y_lo = std::clamp(cy - r, -ly, ly);
  w.y_hi = std::clamp(cy + r, -ly, ly);
  return w;
}
}  // namespace

int pyramid_levels(cv::Size size, int max_shift_px) {
  int levels = 0;
  while ((max_shift_px >> levels) > kTopRadius &&
         std::min(size.width, size.height) >> (levels + 1) >= kMinTopSide) {
    ++levels;
  }
  return levels;
}

GoldenPyramid golden_pyramid(const cv::Mat& golden, int band_rows) {
  require_band_rows(band_rows, "golden_pyramid");
  if (golden.type() != CV_8UC1)
    throw std::invalid_argument("golden_pyramid: golden must be CV_8UC1");
  GoldenPyramid pyramid{golden, {}};
  const int levels = golden.empty() ? 0 : pyramid_levels(golden.size(), INT_MAX);
  const Checkpoint never;
  for (int l = 1; l <= levels; ++l) {
    // In frame_buffers() like every level: held for the run, given back when the run ends.
    cv::Mat half;
    (void)downsample2(pyramid.halves.empty() ? golden : pyramid.halves.back(), band_rows, never,
                      half);
    pyramid.halves.push_back(half);
  }
  return pyramid;
}

AlignResult align(const cv::Mat& frame, const cv::Mat& golden, int max_shift_px, int band_rows,
                  const Checkpoint& cp, const GoldenPyramid* pyramid) {
  validate(frame, golden, max_shift_px, band_rows);
  if (pyramid != nullptr &&
      (pyramid->golden.data != golden.data || pyramid->golden.size() != golden.size() ||
       pyramid->golden.step != golden.step)) {
    throw std::invalid_argument("align: the pyramid was made from another golden image");
  }
  AlignResult result;
  const auto canceled = [&result] {
    result.status = Status::canceled;
    return result;
  };
  if (frame.empty()) return result;
  const int levels = pyramid_levels(frame.size(), max_shift_px);
  result.levels = levels + 1;
  std::vector<cv::Mat> frames{frame};
  std::vector<cv::Mat> goldens{golden};
  for (int l = 1; l <= levels; ++l) {
    cv::Mat f;
    cv::Mat g;
    const bool built = pyramid != nullptr && pyramid->halves.size() >= static_cast<std::size_t>(l);
    if (built) g = pyramid->halves[static_cast<std::size_t>(l - 1)];
    if (downsample2(frames.back(), band_rows, cp, f) == Status::canceled ||
        (!built && downsample2(goldens.back(), band_rows, cp, g) == Status::canceled)) {
      return canceled();
    }
    frames.push_back(f);
    goldens.push_back(g);
  }

  // Coarsest level: every shift within the (scaled) radius; each finer level: a small window
  // around twice the coarser peak. Each level's radius is clamped so at least one column and row
  // stays inside for every shift.
  Peak peak;
  for (int l = levels; l >= 0; --l) {
    const cv::Mat& f = frames[static_cast<std::size_t>(l)];
    const int scale = 1 << l;
    const int lx = std::min((max_shift_px + scale - 1) / scale, (f.cols - 1) / 2);
    const int ly = std::min((max_shift_px + scale - 1) / scale, (f.rows - 1) / 2);
    ShiftWindow w = l == levels ? window_around(0, 0, std::max(lx, ly), lx, ly)
                                : window_around(2 * peak.dx, 2 * peak.dy, kRefineRadius, lx, ly);
    for (int tries = 0;; ++tries) {
      if (score_window(f, goldens[static_cast<std::size_t>(l)], band_rows, cp, w) ==
          Status::canceled) {
        return canceled();
      }
      peak = peak_of(w);
      // A peak on the window's edge (not the search limit's) may have a better neighbour outside:
      // move the window there, at every level, so a coarse peak off by more than a pixel is
      // followed rather than carried down.
      const bool on_edge =
          (peak.dx == w.x_lo && w.x_lo > -lx) || (peak.dx == w.x_hi && w.x_hi < lx) ||
          (peak.dy == w.y_lo && w.y_lo > -ly) || (peak.dy == w.y_hi && w.y_hi < ly);
      if (!on_edge || tries == kMaxRecentre || peak.ncc <= 0.0) break;
      w = window_around(peak.dx, peak.dy, kRefineRadius, lx, ly);
    }
    if (l == 0) {
      if (peak.ncc <= 0.0) return result;  // nothing correlates: shift 0, confidence 0
      result.dx = peak.dx;
      result.dy = peak.dy;
      result.confidence = std::clamp(peak.ncc, 0.0, 1.0);
      if (w.contains(peak.dx - 1, peak.dy) && w.contains(peak.dx + 1, peak.dy)) {
        result.subpixel_dx =
            parabolic_offset(w.at(peak.dx - 1, peak.dy), peak.ncc, w.at(peak.dx + 1, peak.dy));
      }
      if (w.contains(peak.dx, peak.dy - 1) && w.contains(peak.dx, peak.dy + 1)) {
        result.subpixel_dy =
            parabolic_offset(w.at(peak.dx, peak.dy - 1), peak.ncc, w.at(peak.dx, peak.dy + 1));
      }
    }
  }
  return result;
}

}  // namespace ws::kernels
