#include "kernels/flat_field.hpp"

#include "kernels/band.hpp"
#include "kernels/output.hpp"

#include <algorithm>
#include <cstdint>
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
}  // namespace

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
      const auto* g = flat.ptr<float>(y);
      for (int x = 0; x < n; ++x) {
        // cv::divide defines x / 0 as 0 for floating-point images; match it.
        d[x] = g[x] != 0.0f ? cv::saturate_cast<std::uint8_t>(static_cast<float>(r[x]) / g[x]) : 0;
      }
    }
  });
  if (status == Status::ok) out = dst;
  return status;
}

}  // namespace ws::kernels
