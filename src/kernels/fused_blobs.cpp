#include "kernels/fused_blobs.hpp"

#include "kernels/absdiff_shifted.hpp"
#include "kernels/band.hpp"
#include "kernels/blob_features.hpp"
#include "kernels/union_find.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <vector>

namespace ws::kernels {

namespace {
void validate(const cv::Mat& frame, const cv::Mat& golden, int level, int band_rows) {
  require_band_rows(band_rows, "fused_blobs");
  if (frame.type() != CV_8UC1 || golden.type() != CV_8UC1 || frame.size() != golden.size()) {
    throw std::invalid_argument("fused_blobs: frame and golden must be CV_8UC1 of one size");
  }
  if (level < 0 || level > 255) throw std::invalid_argument("fused_blobs: level must be 0..255");
}

// A run of set pixels [x0, x1) in one row, frame columns, and its component.
struct Run {
  int x0 = 0;
  int x1 = 0;
  std::int32_t label = 0;
};

// Exact integer sums over a component in frame coordinates; converted to bbox-relative moments
// at the end, so the doubles handed to blob_from_moments() equal blob_features()' sums exactly.
struct Acc {
  std::int64_t n = 0;
  std::int64_t sx = 0;
  std::int64_t sy = 0;
  std::int64_t sxx = 0;
  std::int64_t sxy = 0;
  std::int64_t syy = 0;
  std::int64_t abs_sum = 0;
  std::int64_t signed_sum = 0;
  int abs_max = 0;
  int x_min = std::numeric_limits<int>::max();
  int x_max = -1;
  int y_min = std::numeric_limits<int>::max();
  int y_max = -1;
  int first_y = std::numeric_limits<int>::max();  // first pixel in raster order
  int first_x = std::numeric_limits<int>::max();

  void add(const Acc& o) {
    n += o.n;
    sx += o.sx;
    sy += o.sy;
    sxx += o.sxx;
    sxy += o.sxy;
    syy += o.syy;
    abs_sum += o.abs_sum;
    signed_sum += o.signed_sum;
    abs_max = std::max(abs_max, o.abs_max);
    x_min = std::min(x_min, o.x_min);
    x_max = std::max(x_max, o.x_max);
    y_min = std::min(y_min, o.y_min);
    y_max = std::max(y_max, o.y_max);
    if (o.first_y < first_y || (o.first_y == first_y && o.first_x < first_x)) {
      first_y = o.first_y;
      first_x = o.first_x;
    }
  }
};

// sum of k^2 for k = 0..m
std::int64_t sum_squares(std::int64_t m) {
  return m < 0 ? 0 : m * (m + 1) * (2 * m + 1) / 6;
}

// Calls unite(a.label, b.label) for every pair of runs of two adjacent rows that touch under
// 8-connectivity (b's pixels reach a's columns widened by one). Both lists sorted by x0.
template <typename Unite>
void join_rows(const std::vector<Run>& above, const std::vector<Run>& below, Unite&& unite) {
  std::size_t j = 0;
  for (const Run& b : below) {
    while (j < above.size() && above[j].x1 < b.x0) ++j;
    for (std::size_t k = j; k < above.size() && above[k].x0 <= b.x1; ++k) unite(above[k], b);
  }
}

// What one band hands to the merge: its components and its first and last rows' runs, labelled
// with indices into `comps`.
struct BandResult {
  std::vector<Acc> comps;
  std::vector<Run> first;
  std::vector<Run> last;
};

class BandLabeller {
 public:
  BandLabeller(const cv::Mat& frame, const cv::Mat& golden, int dx, int dy, cv::Rect valid,
               int level, int min_area_px)
      : frame_(frame),
        golden_(golden),
        dx_(dx),
        dy_(dy),
        valid_(valid),
        level_(static_cast<std::uint8_t>(level)),
        min_area_px_(min_area_px) {}

  // Labels rows valid.y + [begin, end).
  void run(int begin, int end, BandResult& out) {
    const int n = valid_.width;
    // Zero padding after the row ends every run and lets the scan read 8 bytes at a time.
    std::vector<std::uint8_t> mask(static_cast<std::size_t>(n) + 16, 0);
    std::vector<Run> prev;
    std::vector<Run> cur;
    UnionFind uf;
    std::vector<Acc> accs;
    for (int i = begin; i < end; ++i) {
      const int y = valid_.y + i;
      const auto* f = frame_.ptr<std::uint8_t>(y) + valid_.x;
      const auto* g = golden_.ptr<std::uint8_t>(y - dy_) + valid_.x - dx_;
      const std::uint8_t lv = level_;
      std::uint8_t* m = mask.data();
      for (int x = 0; x < n; ++x) {
        const auto d = static_cast<std::uint8_t>(f[x] > g[x] ? f[x] - g[x] : g[x] - f[x]);
        m[x] = d > lv ? 1 : 0;
      }
      cur.clear();
      int x = 0;
      while (x < n) {
        std::uint64_t word;
        std::memcpy(&word, m + x, sizeof word);
        if (word == 0) {
          x += 8;
          continue;
        }
        if (m[x] == 0) {
          ++x;
          continue;
        }
        const int a = x;
        while (m[x] != 0) ++x;  // the padding stops it
        const std::int32_t label = uf.make();
        accs.emplace_back();
        accumulate(accs.back(), f, g, a, x, y);
        cur.push_back({valid_.x + a, valid_.x + x, label});
      }
      join_rows(prev, cur, [&](const Run& p, const Run& c) { uf.unite(p.label, c.label); });
      if (i == begin) out.first = cur;
      std::swap(prev, cur);
    }

    // Fold every provisional label into its root, then number the roots kept 0..k-1. A component
    // on neither edge row of the band is complete here: if it is below the minimum area it can
    // only be filtered out later, so it is dropped now. On noisy frames that is nearly all of
    // them (118 000 of 4096^2 measured), and the serial merge after the bands, which no
    // checkpoint interrupts, shrinks with it (10-12 ms -> well under 1 ms).
    std::vector<std::int32_t> index(accs.size(), -1);
    for (std::int32_t p = 0; p < uf.size(); ++p) {
      const std::int32_t r = uf.find(p);
      if (r != p) accs[static_cast<std::size_t>(r)].add(accs[static_cast<std::size_t>(p)]);
    }
    std::vector<bool> on_edge(accs.size(), false);
    for (const std::vector<Run>* edge : {&out.first, &prev}) {
      for (const Run& r : *edge) on_edge[static_cast<std::size_t>(uf.find(r.label))] = true;
    }
    for (std::int32_t p = 0; p < uf.size(); ++p) {
      if (uf.find(p) != p) continue;
      const Acc& acc = accs[static_cast<std::size_t>(p)];
      if (acc.n < min_area_px_ && !on_edge[static_cast<std::size_t>(p)]) continue;
      index[static_cast<std::size_t>(p)] = static_cast<std::int32_t>(out.comps.size());
      out.comps.push_back(acc);
    }
    const auto relabel = [&](std::vector<Run>& runs) {
      for (Run& r : runs) r.label = index[static_cast<std::size_t>(uf.find(r.label))];
    };
    out.last = std::move(prev);
    relabel(out.first);
    relabel(out.last);
  }

 private:
  // Sums of one run [a, b) (valid-region columns) of frame row y into acc.
  void accumulate(Acc& acc, const std::uint8_t* f, const std::uint8_t* g, int a, int b,
                  int y) const {
    const std::int64_t x0 = valid_.x + a;
    const std::int64_t x1 = valid_.x + b;  // exclusive
    const std::int64_t len = x1 - x0;
    const std::int64_t sum_x = (x0 + x1 - 1) * len / 2;
    acc.n = len;
    acc.sx = sum_x;
    acc.sy = len * y;
    acc.sxx = sum_squares(x1 - 1) - sum_squares(x0 - 1);
    acc.sxy = sum_x * y;
    acc.syy = len * y * y;
    std::int64_t abs_sum = 0;
    std::int64_t signed_sum = 0;
    int abs_max = 0;
    for (int x = a; x < b; ++x) {
      const int d = static_cast<int>(f[x]) - static_cast<int>(g[x]);
      const int ad = d < 0 ? -d : d;
      abs_sum += ad;
      signed_sum += d;
      abs_max = std::max(abs_max, ad);
    }
    acc.abs_sum = abs_sum;
    acc.signed_sum = signed_sum;
    acc.abs_max = abs_max;
    acc.x_min = static_cast<int>(x0);
    acc.x_max = static_cast<int>(x1 - 1);
    acc.y_min = acc.y_max = acc.first_y = y;
    acc.first_x = static_cast<int>(x0);
  }

  const cv::Mat& frame_;
  const cv::Mat& golden_;
  int dx_;
  int dy_;
  cv::Rect valid_;
  std::uint8_t level_;
  std::int64_t min_area_px_;
};

BlobFeatures to_blob(const Acc& a) {
  Component c;
  c.bbox = cv::Rect(a.x_min, a.y_min, a.x_max - a.x_min + 1, a.y_max - a.y_min + 1);
  c.area = static_cast<int>(a.n);
  // Moments about the bbox corner, exact in integers.
  const std::int64_t x0 = a.x_min;
  const std::int64_t y0 = a.y_min;
  BlobMoments m;
  m.n = static_cast<double>(a.n);
  m.sx = static_cast<double>(a.sx - x0 * a.n);
  m.sy = static_cast<double>(a.sy - y0 * a.n);
  m.sxx = static_cast<double>(a.sxx - 2 * x0 * a.sx + x0 * x0 * a.n);
  m.syy = static_cast<double>(a.syy - 2 * y0 * a.sy + y0 * y0 * a.n);
  m.sxy = static_cast<double>(a.sxy - x0 * a.sy - y0 * a.sx + x0 * y0 * a.n);
  m.abs_sum = static_cast<double>(a.abs_sum);
  m.signed_sum = static_cast<double>(a.signed_sum);
  m.abs_max = a.abs_max;
  return blob_from_moments(c, m);
}
}  // namespace

Status fused_blobs(const cv::Mat& frame, const cv::Mat& golden, int dx, int dy, int level,
                   int min_area_px, int band_rows, const Checkpoint& cp,
                   std::vector<BlobFeatures>& out) {
  validate(frame, golden, level, band_rows);
  const cv::Rect valid = valid_region(frame.size(), dx, dy);
  std::vector<BandResult> bands(static_cast<std::size_t>(band_count(valid.height, band_rows)));
  BandLabeller labeller(frame, golden, dx, dy, valid, level, min_area_px);
  const Status status = parallel_bands(valid.height, band_rows, cp, [&](int begin, int end) {
    labeller.run(begin, end, bands[static_cast<std::size_t>(begin / band_rows)]);
  });
  if (status == Status::canceled) return status;

  // Join components across band boundaries with one union-find over all bands' components.
  std::vector<std::int32_t> offset(bands.size() + 1, 0);
  for (std::size_t b = 0; b < bands.size(); ++b) {
    offset[b + 1] = offset[b] + static_cast<std::int32_t>(bands[b].comps.size());
  }
  UnionFind uf;
  uf.reserve(static_cast<std::size_t>(offset.back()));
  for (std::int32_t i = 0; i < offset.back(); ++i) uf.make();
  for (std::size_t b = 0; b + 1 < bands.size(); ++b) {
    join_rows(bands[b].last, bands[b + 1].first, [&](const Run& p, const Run& c) {
      uf.unite(offset[b] + p.label, offset[b + 1] + c.label);
    });
  }
  std::vector<Acc> all;
  all.reserve(static_cast<std::size_t>(offset.back()));
  for (BandResult& band : bands) {
    for (Acc& a : band.comps) all.push_back(a);
    band = BandResult{};  // free as we go
  }
  for (std::int32_t p = 0; p < uf.size(); ++p) {
    const std::int32_t r = uf.find(p);
    if (r != p) all[static_cast<std::size_t>(r)].add(all[static_cast<std::size_t>(p)]);
  }
  std::vector<const Acc*> roots;
  for (std::int32_t p = 0; p < uf.size(); ++p) {
    const Acc& a = all[static_cast<std::size_t>(p)];
    if (uf.find(p) == p && a.n >= min_area_px) roots.push_back(&a);
  }
  // Raster order of first pixels: the order connected_components() numbers components in.
  std::sort(roots.begin(), roots.end(), [](const Acc* a, const Acc* b) {
    return a->first_y != b->first_y ? a->first_y < b->first_y : a->first_x < b->first_x;
  });
  std::vector<BlobFeatures> blobs;
  blobs.reserve(roots.size());
  for (const Acc* a : roots) blobs.push_back(to_blob(*a));
  out = std::move(blobs);
  return Status::ok;
}

}  // namespace ws::kernels
