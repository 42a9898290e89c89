// Synthetic images shared by the kernel tests: random, constant and patterned frames.
#pragma once

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cstdint>
#include <ostream>
#include <string>
#include <utility>

namespace ws::kernels::test {

enum class Fill { random, zero, full, sparse };

inline std::string to_string(Fill f) {
  switch (f) {
    case Fill::random:
      return "random";
    case Fill::zero:
      return "zero";
    case Fill::full:
      return "full";
    case Fill::sparse:
      return "sparse";
  }
  return "?";
}

/// A CV_8UC1 image: uniform random, all 0, all 255, or ~30% random pixels set to 255.
inline cv::Mat make_image(cv::Size size, Fill fill, std::uint64_t seed) {
  cv::Mat img(size, CV_8UC1);
  cv::RNG rng(seed);
  switch (fill) {
    case Fill::random:
      rng.fill(img, cv::RNG::UNIFORM, 0, 256);
      break;
    case Fill::zero:
      img.setTo(0);
      break;
    case Fill::full:
      img.setTo(255);
      break;
    case Fill::sparse: {
      cv::Mat u(size, CV_32FC1);
      rng.fill(u, cv::RNG::UNIFORM, 0.0, 1.0);
      img = cv::Mat(u < 0.3f);
      break;
    }
  }
  return img;
}

/// A die-like pattern: a grid of rectangles of several grey levels with sharp edges, no period
/// shorter than the alignment search radius, plus Gaussian noise.
inline cv::Mat make_pattern(cv::Size size, double noise_sigma, std::uint64_t seed) {
  cv::Mat img(size, CV_8UC1, cv::Scalar(60));
  cv::RNG rng(seed);
  for (int i = 0; i < size.area() / 400 + 4; ++i) {
    const int w = rng.uniform(4, std::max(5, size.width / 6));
    const int h = rng.uniform(4, std::max(5, size.height / 6));
    const cv::Rect r(rng.uniform(0, size.width), rng.uniform(0, size.height), w, h);
    img(r & cv::Rect({}, size)).setTo(rng.uniform(90, 200));
  }
  if (noise_sigma > 0) {
    cv::Mat noise(size, CV_16SC1);
    rng.fill(noise, cv::RNG::NORMAL, 0, noise_sigma);
    cv::Mat sum;
    cv::add(img, noise, sum, cv::noArray(), CV_16S);
    sum.convertTo(img, CV_8U);
  }
  return img;
}

/// frame(x, y) = src(x - dx, y - dy); uncovered pixels get `fill`.
inline cv::Mat shifted(const cv::Mat& src, int dx, int dy, std::uint8_t fill = 60) {
  cv::Mat out(src.size(), src.type(), cv::Scalar(fill));
  const cv::Rect all({}, src.size());
  const cv::Rect dst_rect = cv::Rect(dx, dy, src.cols, src.rows) & all;
  if (dst_rect.empty()) return out;
  src(cv::Rect(dst_rect.x - dx, dst_rect.y - dy, dst_rect.width, dst_rect.height))
      .copyTo(out(dst_rect));
  return out;
}

/// One of the real DeepPCB pairs copied into data/deeppcb/ (template, tested image), grey.
struct RealPair {
  std::string id;
  cv::Mat temp;
  cv::Mat test;
};
inline RealPair load_deeppcb(const std::string& id) {
  const std::string dir = std::string(WS_SOURCE_DIR) + "/data/deeppcb/";
  return {id, cv::imread(dir + id + "_temp.jpg", cv::IMREAD_GRAYSCALE),
          cv::imread(dir + id + "_test.jpg", cv::IMREAD_GRAYSCALE)};
}

inline int count_differences(const cv::Mat& a, const cv::Mat& b) {
  if (a.size() != b.size() || a.type() != b.type()) return -1;
  if (a.empty()) return 0;
  cv::Mat ne = a != b;
  return cv::countNonZero(ne.reshape(1));
}

/// What the margins around a guarded output keep, unless a kernel writes outside its output.
inline constexpr std::uint8_t kGuard = 0xA5;

/// A guard-filled buffer and an output view of `size` inside it at column `offset`, row 1, with
/// margins on every side (19 columns on the right). Its rows are not continuous, and since the
/// stride is not a multiple of 64, consecutive rows sit differently in their cache lines.
inline std::pair<cv::Mat, cv::Mat> guarded_view(cv::Size size, int offset) {
  cv::Mat big(size.height + 2, size.width + offset + 19, CV_8UC1, cv::Scalar(kGuard));
  return {big, big(cv::Rect({offset, 1}, size))};
}

/// Bytes of `big` outside `inner` (a view into it) that are no longer kGuard; overwrites inner.
inline int guard_damage(const cv::Mat& big, cv::Mat& inner) {
  inner.setTo(kGuard);
  return static_cast<int>(big.total()) - cv::countNonZero(big == kGuard);
}

}  // namespace ws::kernels::test
