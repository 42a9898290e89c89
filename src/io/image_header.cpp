#include "io/image_header.hpp"

#include <cctype>
#include <cstdlib>
#include <limits>

namespace ws::io {

namespace {

using Bytes = std::span<const std::uint8_t>;

std::uint32_t be(Bytes b, std::size_t at, int n) {
  std::uint32_t v = 0;
  for (int k = 0; k < n; ++k) v = (v << 8) | b[at + static_cast<std::size_t>(k)];
  return v;
}

std::uint32_t le(Bytes b, std::size_t at, int n) {
  std::uint32_t v = 0;
  for (int k = n - 1; k >= 0; --k) v = (v << 8) | b[at + static_cast<std::size_t>(k)];
  return v;
}

std::optional<cv::Size> size_of(std::uint64_t w, std::uint64_t h) {
  constexpr std::uint64_t kMax = std::numeric_limits<int>::max();
  if (w == 0 || h == 0 || w > kMax || h > kMax) return cv::Size(0, 0);  // declared, unusable
  return cv::Size(static_cast<int>(w), static_cast<int>(h));
}

std::optional<cv::Size> png(Bytes b) {
  static constexpr std::uint8_t kSig[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (b.size() < 24 || !std::equal(std::begin(kSig), std::end(kSig), b.begin())) return {};
  if (b[12] != 'I' || b[13] != 'H' || b[14] != 'D' || b[15] != 'R') return {};
  return size_of(be(b, 16, 4), be(b, 20, 4));
}

bool start_of_frame(std::uint8_t marker) {
  return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

std::optional<cv::Size> jpeg(Bytes b) {
  if (b.size() < 4 || b[0] != 0xFF || b[1] != 0xD8) return {};
  std::size_t at = 2;
  while (at + 4 <= b.size()) {
    if (b[at] != 0xFF) return {};
    const std::uint8_t marker = b[at + 1];
    if (marker == 0xFF) {  // fill byte
      ++at;
      continue;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // no length
      at += 2;
      continue;
    }
    if (marker == 0xDA || marker == 0xD9) return {};  // scan data before any frame header
    const std::size_t length = be(b, at + 2, 2);
    if (start_of_frame(marker)) {
      if (at + 9 > b.size()) return {};
      return size_of(be(b, at + 7, 2), be(b, at + 5, 2));
    }
    at += 2 + length;
  }
  return {};
}

std::optional<cv::Size> bmp(Bytes b) {
  if (b.size() < 26 || b[0] != 'B' || b[1] != 'M') return {};
  const auto height = static_cast<std::int32_t>(le(b, 22, 4));  // negative: top-down rows
  return size_of(le(b, 18, 4), static_cast<std::uint64_t>(std::abs(std::int64_t{height})));
}

std::optional<cv::Size> tiff(Bytes b) {
  if (b.size() < 8) return {};
  const bool little = b[0] == 'I' && b[1] == 'I' && b[2] == 42 && b[3] == 0;
  const bool big = b[0] == 'M' && b[1] == 'M' && b[2] == 0 && b[3] == 42;
  if (!little && !big) return {};
  const auto get = [&](std::size_t at, int n) { return little ? le(b, at, n) : be(b, at, n); };
  const std::size_t ifd = get(4, 4);
  if (ifd + 2 > b.size()) return {};
  const std::size_t count = get(ifd, 2);
  std::uint64_t width = 0;
  std::uint64_t height = 0;
  for (std::size_t k = 0; k < count && ifd + 2 + 12 * (k + 1) <= b.size(); ++k) {
    const std::size_t entry = ifd + 2 + 12 * k;
    const std::uint32_t tag = get(entry, 2);
    const std::uint32_t type = get(entry + 2, 2);
    const std::uint32_t value = type == 3 ? get(entry + 8, 2) : get(entry + 8, 4);
    if (tag == 256) width = value;
    if (tag == 257) height = value;
  }
  if (width == 0 && height == 0) return {};
  return size_of(width, height);
}

// "P1".."P7" then width and height as decimal text, with # comments between tokens.
std::optional<cv::Size> pnm(Bytes b) {
  if (b.size() < 3 || b[0] != 'P' || b[1] < '1' || b[1] > '6') return {};
  std::size_t at = 2;
  std::uint64_t v[2] = {0, 0};
  for (std::uint64_t& out : v) {
    while (at < b.size() && (std::isspace(b[at]) || b[at] == '#')) {
      if (b[at] == '#') {
        while (at < b.size() && b[at] != '\n') ++at;
      } else {
        ++at;
      }
    }
    const std::size_t first = at;
    while (at < b.size() && std::isdigit(b[at]) && at - first < 12)
      out = out * 10 + (b[at++] - '0');
    if (at == first) return {};
  }
  return size_of(v[0], v[1]);
}

}  // namespace

std::optional<cv::Size> header_size(Bytes bytes) {
  for (const auto reader : {png, jpeg, tiff, bmp, pnm}) {
    if (const auto size = reader(bytes)) return size;
  }
  return std::nullopt;
}

}  // namespace ws::io
