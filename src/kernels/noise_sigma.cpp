#include "kernels/noise_sigma.hpp"

#include "kernels/band.hpp"

#include <array>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace ws::kernels {

namespace {
constexpr double kMadToSigma = 1.4826;  // 1 / Phi^-1(3/4): MAD of a Gaussian in sigmas

void validate(const cv::Mat& absdiff, int band_rows) {
  require_band_rows(band_rows, "noise_sigma");
  if (absdiff.type() != CV_8UC1) throw std::invalid_argument("noise_sigma: need CV_8UC1");
}
}  // namespace

NoiseEstimate noise_sigma(const cv::Mat& absdiff, cv::Rect region, int band_rows,
                          const Checkpoint& cp) {
  validate(absdiff, band_rows);
  NoiseEstimate result;
  region &= cv::Rect(0, 0, absdiff.cols, absdiff.rows);
  if (region.empty()) return result;
  // One histogram per band, so bands can run concurrently; summed afterwards.
  std::vector<Histogram> per_band(static_cast<std::size_t>(band_count(region.height, band_rows)));
  result.status = parallel_bands(region.height, band_rows, cp, [&](int begin, int end) {
    HistogramAccumulator acc;
    for (int i = begin; i < end; ++i) {
      acc.add(absdiff.ptr<std::uint8_t>(region.y + i) + region.x, region.width);
    }
    acc.add_to(per_band[static_cast<std::size_t>(begin / band_rows)]);
  });
  if (result.status == Status::canceled) return result;
  Histogram histogram{};
  for (const Histogram& h : per_band) {
    for (std::size_t k = 0; k < histogram.size(); ++k) histogram[k] += h[k];
  }
  result.sigma = sigma_from_histogram(histogram);
  return result;
}

double sigma_from_histogram(const Histogram& histogram) {
  std::int64_t total = 0;
  for (const std::int64_t c : histogram) total += c;
  if (total == 0) return 0.0;

  const double half = static_cast<double>(total) / 2.0;
  double below = 0;
  for (int k = 0; k < 256; ++k) {
    const auto count = static_cast<double>(histogram[static_cast<std::size_t>(k)]);
    if (below + count >= half && count > 0) {
      const double lo = k == 0 ? 0.0 : k - 0.5;
      const double hi = k + 0.5;
      const double median = lo + (hi - lo) * (half - below) / count;
      return kMadToSigma * median;
    }
    below += count;
  }
  return 0.0;
}

void HistogramAccumulator::add(const std::uint8_t* d, int n) noexcept {
  int x = 0;
  for (; x + 4 <= n; x += 4) {
    ++sub_[0][d[x]];
    ++sub_[1][d[x + 1]];
    ++sub_[2][d[x + 2]];
    ++sub_[3][d[x + 3]];
  }
  for (; x < n; ++x) ++sub_[0][d[x]];
}

void HistogramAccumulator::add_to(Histogram& h) const noexcept {
  for (std::size_t k = 0; k < h.size(); ++k)
    h[k] += sub_[0][k] + sub_[1][k] + sub_[2][k] + sub_[3][k];
}

}  // namespace ws::kernels
