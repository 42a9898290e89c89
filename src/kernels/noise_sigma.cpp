#include "kernels/noise_sigma.hpp"

#include "kernels/band.hpp"

#include <array>
#include <cstdint>
#include <stdexcept>

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
  std::array<std::int64_t, 256> histogram{};
  result.status = for_each_band(region.height, band_rows, cp, [&](int begin, int end) {
    for (int i = begin; i < end; ++i) {
      const std::uint8_t* d = absdiff.ptr<std::uint8_t>(region.y + i) + region.x;
      for (int x = 0; x < region.width; ++x) ++histogram[d[x]];
    }
  });
  if (result.status == Status::canceled) return result;

  const double half = static_cast<double>(region.area()) / 2.0;
  double below = 0;
  for (int k = 0; k < 256; ++k) {
    const auto count = static_cast<double>(histogram[static_cast<std::size_t>(k)]);
    if (below + count >= half && count > 0) {
      const double lo = k == 0 ? 0.0 : k - 0.5;
      const double hi = k + 0.5;
      const double median = lo + (hi - lo) * (half - below) / count;
      result.sigma = kMadToSigma * median;
      return result;
    }
    below += count;
  }
  return result;
}

}  // namespace ws::kernels
