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

}  // namespace ws::kernels
