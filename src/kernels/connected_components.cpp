#include "kernels/connected_components.hpp"

#include "kernels/band.hpp"
#include "kernels/union_find.hpp"

#include <algorithm>
#include <cstdint>
#include <stdexcept>

namespace ws::kernels {

namespace {
void validate(const cv::Mat& binary, int band_rows) {
  require_band_rows(band_rows, "connected_components");
  if (binary.type() != CV_8UC1) {
    throw std::invalid_argument("connected_components: binary must be CV_8UC1");
  }
}
}  // namespace

Status connected_components(const cv::Mat& binary, int band_rows, const Checkpoint& cp,
                            cv::Mat& labels, std::vector<Component>& components) {
  validate(binary, band_rows);
  const int width = binary.cols;
  const int height = binary.rows;
  cv::Mat lab(binary.size(), CV_32SC1);
  // Provisional labels; label 0 is the background, so a set's root (its smallest label) is the
  // label given to its first pixel in raster order.
  UnionFind eq(1);

  // Pass 1: provisional labels from the already-visited neighbours W, NW, N, NE.
  Status status = for_each_band(height, band_rows, cp, [&](int begin, int end) {
    for (int y = begin; y < end; ++y) {
      const auto* b = binary.ptr<std::uint8_t>(y);
      auto* l = lab.ptr<std::int32_t>(y);
      const std::int32_t* up = y > 0 ? lab.ptr<std::int32_t>(y - 1) : nullptr;
      for (int x = 0; x < width; ++x) {
        if (b[x] == 0) {
          l[x] = 0;
          continue;
        }
        std::int32_t m = 0;
        const auto join = [&](std::int32_t n) {
          if (n == 0) return;
          m = m == 0 ? n : eq.unite(m, n);
        };
        if (x > 0) join(l[x - 1]);
        if (up != nullptr) {
          if (x > 0) join(up[x - 1]);
          join(up[x]);
          if (x + 1 < width) join(up[x + 1]);
        }
        l[x] = m != 0 ? m : eq.make();
      }
    }
  });
  if (status == Status::canceled) return status;

  // Final numbering: roots in increasing order, so components follow raster order.
  std::vector<std::int32_t> final_label(static_cast<std::size_t>(eq.size()), 0);
  std::int32_t next = 0;
  for (std::int32_t p = 1; p < eq.size(); ++p) {
    const std::int32_t root = eq.find(p);
    final_label[p] = root == p ? ++next : final_label[root];
  }
  std::vector<Component> comps(static_cast<std::size_t>(next));
  std::vector<int> x_max(comps.size(), -1);
  std::vector<int> y_max(comps.size(), -1);
  for (auto& c : comps) c.bbox = cv::Rect(width, height, 0, 0);

  // Pass 2: relabel and gather boxes and areas.
  status = for_each_band(height, band_rows, cp, [&](int begin, int end) {
    for (int y = begin; y < end; ++y) {
      auto* l = lab.ptr<std::int32_t>(y);
      for (int x = 0; x < width; ++x) {
        if (l[x] == 0) continue;
        const std::int32_t f = final_label[l[x]];
        l[x] = f;
        const auto i = static_cast<std::size_t>(f - 1);
        Component& c = comps[i];
        ++c.area;
        c.bbox.x = std::min(c.bbox.x, x);
        c.bbox.y = std::min(c.bbox.y, y);
        x_max[i] = std::max(x_max[i], x);
        y_max[i] = std::max(y_max[i], y);
      }
    }
  });
  if (status == Status::canceled) return status;
  for (std::size_t i = 0; i < comps.size(); ++i) {
    comps[i].bbox.width = x_max[i] - comps[i].bbox.x + 1;
    comps[i].bbox.height = y_max[i] - comps[i].bbox.y + 1;
  }
  labels = lab;
  components = std::move(comps);
  return Status::ok;
}

}  // namespace ws::kernels
