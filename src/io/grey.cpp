#include "io/grey.hpp"

namespace ws::io {

bool as_grey8(const cv::Mat& decoded, cv::Mat& grey) {
  grey.release();
  if (decoded.empty() || decoded.depth() != CV_8U) return false;
  if (decoded.channels() == 1) {
    grey = decoded;
    return true;
  }
  if (decoded.channels() != 3 && decoded.channels() != 4) return false;
  cv::Mat first(decoded.size(), CV_8UC1);
  const int channels = decoded.channels();
  for (int r = 0; r < decoded.rows; ++r) {
    const auto* in = decoded.ptr<std::uint8_t>(r);
    auto* out = first.ptr<std::uint8_t>(r);
    for (int c = 0; c < decoded.cols; ++c, in += channels) {
      if (in[1] != in[0] || in[2] != in[0]) return false;
      out[c] = in[0];
    }
  }
  grey = first;
  return true;
}

}  // namespace ws::io
