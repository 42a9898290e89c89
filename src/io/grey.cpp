#include "io/grey.hpp"

#include <opencv2/imgproc.hpp>

#include <vector>

namespace ws::io {

namespace {
// 8-bit of any channel count, by the depth rule of as_grey8.
cv::Mat as_depth8(const cv::Mat& decoded) {
  if (decoded.depth() == CV_8U) return decoded;
  cv::Mat out;
  decoded.convertTo(out, CV_MAKETYPE(CV_8U, decoded.channels()), 255.0 / 65535.0);
  return out;
}
}  // namespace

bool as_grey8(const cv::Mat& decoded, cv::Mat& grey) {
  grey.release();
  if (decoded.empty() || (decoded.depth() != CV_8U && decoded.depth() != CV_16U)) return false;
  const int channels = decoded.channels();
  if (channels < 1 || channels > 4) return false;
  const cv::Mat eight = as_depth8(decoded);
  switch (channels) {
    case 1:
      grey = eight;
      break;
    case 2:
      cv::extractChannel(eight, grey, 0);
      break;
    case 3:
      cv::cvtColor(eight, grey, cv::COLOR_BGR2GRAY);
      break;
    default:
      cv::cvtColor(eight, grey, cv::COLOR_BGRA2GRAY);
      break;
  }
  return true;
}

}  // namespace ws::io
