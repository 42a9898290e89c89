#include "kernels/median3.hpp"

#include "kernels/band.hpp"
#include "kernels/output.hpp"

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

inline void sort2(std::uint8_t& a, std::uint8_t& b) {
  const std::uint8_t lo = std::min(a, b);
  b = std::max(a, b);
  a = lo;
}

// Median of 9 with the 19-exchange network (Paeth); branch-free so the x loop vectorises.
inline std::uint8_t median9(std::uint8_t p0, std::uint8_t p1, std::uint8_t p2, std::uint8_t p3,
                            std::uint8_t p4, std::uint8_t p5, std::uint8_t p6, std::uint8_t p7,
                            std::uint8_t p8) {
  sort2(p1, p2);
  sort2(p4, p5);
  sort2(p7, p8);
  sort2(p0, p1);
  sort2(p3, p4);
  sort2(p6, p7);
  sort2(p1, p2);
  sort2(p4, p5);
  sort2(p7, p8);
  sort2(p0, p3);
  sort2(p5, p8);
  sort2(p4, p7);
  sort2(p3, p6);
  sort2(p1, p4);
  sort2(p2, p5);
  sort2(p4, p7);
  sort2(p4, p2);
  sort2(p6, p4);
  sort2(p4, p2);
  return p4;
}

// Copies row `y` of src into a buffer with one replicated pixel on each side.
void padded_row(const cv::Mat& src, int y, std::uint8_t* buf) {
  const int width = src.cols;
  const auto* s = src.ptr<std::uint8_t>(y);
  std::copy(s, s + width, buf + 1);
  buf[0] = s[0];
  buf[width + 1] = s[width - 1];
}
// One output row from three padded rows; n by value, so byte stores cannot alias the bound and
// the loop vectorises.
void median_row(const std::uint8_t* a, const std::uint8_t* c, const std::uint8_t* b,
                std::uint8_t* d, int n) {
  for (int x = 0; x < n; ++x) {
    d[x] = median9(a[x], a[x + 1], a[x + 2], c[x], c[x + 1], c[x + 2], b[x], b[x + 1], b[x + 2]);
  }
}
}  // namespace

Status median3(const cv::Mat& src, int band_rows, const Checkpoint& cp, cv::Mat& out) {
  validate(src, band_rows);
  cv::Mat dst = output_for(out, src.size(), CV_8UC1, {&src});
  const int width = src.cols;
  const int height = src.rows;
  // Bands run concurrently, so each has its own padded row buffers.
  const Status status = parallel_bands(height, band_rows, cp, [&](int begin, int end) {
    // A rolling window of three padded rows: each source row is copied once per band.
    std::vector<std::uint8_t> rows(3 * (static_cast<std::size_t>(width) + 2));
    std::uint8_t* above = rows.data();
    std::uint8_t* centre = above + width + 2;
    std::uint8_t* below = centre + width + 2;
    padded_row(src, std::max(begin - 1, 0), above);
    padded_row(src, begin, centre);
    for (int y = begin; y < end; ++y) {
      padded_row(src, std::min(y + 1, height - 1), below);
      median_row(above, centre, below, dst.ptr<std::uint8_t>(y), width);
      std::uint8_t* free_row = above;
      above = centre;
      centre = below;
      below = free_row;
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
    const auto* r = raw.ptr<std::uint8_t>(y);
    const auto* g = flat.ptr<float>(y);
    std::uint8_t* d = buf + 1;
    for (int x = 0; x < n; ++x) {
      // cv::divide defines x / 0 as 0 for floating-point images; match it.
      d[x] = g[x] != 0.0f ? cv::saturate_cast<std::uint8_t>(static_cast<float>(r[x]) / g[x]) : 0;
    }
    buf[0] = d[0];
    buf[n + 1] = d[n - 1];
  };
  const Status status = parallel_bands(height, band_rows, cp, [&](int begin, int end) {
    std::vector<std::uint8_t> rows(3 * (static_cast<std::size_t>(width) + 2));
    std::uint8_t* above = rows.data();
    std::uint8_t* centre = above + width + 2;
    std::uint8_t* below = centre + width + 2;
    corrected_row(std::max(begin - 1, 0), above);
    corrected_row(begin, centre);
    for (int y = begin; y < end; ++y) {
      corrected_row(std::min(y + 1, height - 1), below);
      median_row(above, centre, below, dst.ptr<std::uint8_t>(y), width);
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
