// Where a kernel writes its output image: the caller's buffer when that is safe, else a new one.
#pragma once

#include <opencv2/core.hpp>

#include <initializer_list>

namespace ws::kernels {

/// `out` itself when it already has `size` and `type`, is continuous-or-not but owns memory that
/// overlaps none of `inputs`; otherwise a new image. Writing into the caller's buffer saves a
/// fresh allocation per frame, whose page faults (and the unmapping when a large image is freed)
/// cost more than a simple kernel itself on 8192^2 frames. An `out` that aliases an input (an
/// in-place call) gets a new image, so inputs are never overwritten while being read.
inline cv::Mat output_for(cv::Mat& out, cv::Size size, int type,
                          std::initializer_list<const cv::Mat*> inputs) {
  if (out.size() == size && out.type() == type && out.data != nullptr) {
    bool overlaps = false;
    for (const cv::Mat* in : inputs) {
      if (in->data != nullptr && out.datastart < in->dataend && in->datastart < out.dataend) {
        overlaps = true;
      }
    }
    if (!overlaps) return out;
  }
  return cv::Mat(size, type);
}

}  // namespace ws::kernels
