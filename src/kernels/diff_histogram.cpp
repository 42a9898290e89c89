#include "kernels/diff_histogram.hpp"

#include "kernels/absdiff_shifted.hpp"
#include "kernels/band.hpp"

#include <cstdint>
#include <stdexcept>
#include <vector>

namespace ws::kernels {

Status diff_histogram(const cv::Mat& frame, const cv::Mat& golden, int dx, int dy, int band_rows,
                      const Checkpoint& cp, Histogram& out) {
  require_band_rows(band_rows, "diff_histogram");
  if (frame.type() != CV_8UC1 || golden.type() != CV_8UC1 || frame.size() != golden.size()) {
    throw std::invalid_argument("diff_histogram: frame and golden must be CV_8UC1 of one size");
  }
  const cv::Rect valid = valid_region(frame.size(), dx, dy);
  std::vector<Histogram> per_band(static_cast<std::size_t>(band_count(valid.height, band_rows)));
  const Status status = parallel_bands(valid.height, band_rows, cp, [&](int begin, int end) {
    const int n = valid.width;  // a local: byte stores cannot alias it, so the loop vectorises
    HistogramAccumulator acc;
    // A row of differences stays in L1 between being computed and being counted.
    std::vector<std::uint8_t> d(static_cast<std::size_t>(n));
    for (int i = begin; i < end; ++i) {
      const int y = valid.y + i;
      const auto* f = frame.ptr<std::uint8_t>(y) + valid.x;
      const auto* g = golden.ptr<std::uint8_t>(y - dy) + valid.x - dx;
      for (int x = 0; x < n; ++x) {
        d[x] = static_cast<std::uint8_t>(f[x] > g[x] ? f[x] - g[x] : g[x] - f[x]);
      }
      acc.add(d.data(), n);
    }
    acc.add_to(per_band[static_cast<std::size_t>(begin / band_rows)]);
  });
  if (status == Status::canceled) return status;
  out.fill(0);
  for (const Histogram& h : per_band) {
    for (std::size_t k = 0; k < out.size(); ++k) out[k] += h[k];
  }
  return Status::ok;
}

}  // namespace ws::kernels
