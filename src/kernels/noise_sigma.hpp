// Robust noise level of a difference image: the scaled median absolute difference.
#pragma once

#include "kernels/status.hpp"
#include "waferscan/cancel.hpp"

#include <opencv2/core.hpp>

#include <array>
#include <cstdint>

namespace ws::kernels {

struct NoiseEstimate {
  Status status = Status::ok;
  double sigma = 0;  ///< grey levels
};

/// sigma = 1.4826 * median(|d|) over `region` of an absolute-difference image: the MAD estimate of
/// a zero-median difference's standard deviation, which a few defect pixels do not move. The
/// median is read from a 256-bin histogram and interpolated within its bin (bin k covers
/// [k - 0.5, k + 0.5), bin 0 covers [0, 0.5)), so integer data still gives a smooth estimate.
///
/// @param absdiff    CV_8UC1.
/// @param region     the pixels to use (clipped to the image); empty gives sigma 0.
/// @param band_rows  rows between cancellation checkpoints, >= 1.
/// @param cp         polled once per band.
/// @throws std::invalid_argument for a wrong type or band_rows. Thread safety: pure.
/// 256 bins of grey-level counts.
using Histogram = std::array<std::int64_t, 256>;

NoiseEstimate noise_sigma(const cv::Mat& absdiff, cv::Rect region, int band_rows,
                          const Checkpoint& cp);

/// Counts grey levels fast: four interleaved sub-histograms break the store-to-load dependency
/// of runs of equal values. One per band; not thread-safe.
class HistogramAccumulator {
 public:
  void add(const std::uint8_t* d, int n) noexcept;
  void add_to(Histogram& h) const noexcept;

 private:
  std::array<std::array<std::int64_t, 256>, 4> sub_{};
};

/// noise_sigma()'s estimate from a histogram of |d| (0 for an empty histogram).
double sigma_from_histogram(const Histogram& histogram);

}  // namespace ws::kernels
