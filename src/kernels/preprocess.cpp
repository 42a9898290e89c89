#include "kernels/preprocess.hpp"

#include "kernels/median3.hpp"

namespace ws::kernels {

Status preprocess(const cv::Mat& raw, const cv::Mat& flat, int band_rows, const Checkpoint& cp,
                  cv::Mat& out) {
  if (flat.empty()) return median3(raw, band_rows, cp, out);
  // Fused: the flat-fielded frame is never materialised (same pixels as flat_field -> median3).
  return flat_field_median3(raw, flat, band_rows, cp, out);
}

}  // namespace ws::kernels
