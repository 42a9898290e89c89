#include "kernels/preprocess.hpp"

#include "kernels/flat_field.hpp"
#include "kernels/median3.hpp"

namespace ws::kernels {

Status preprocess(const cv::Mat& raw, const cv::Mat& flat, int band_rows, const Checkpoint& cp,
                  cv::Mat& out) {
  if (flat.empty()) return median3(raw, band_rows, cp, out);
  cv::Mat corrected;
  if (flat_field(raw, flat, band_rows, cp, corrected) == Status::canceled) {
    return Status::canceled;
  }
  return median3(corrected, band_rows, cp, out);
}

}  // namespace ws::kernels
