#include "kernels/blob_context.hpp"

#include "kernels/blob_features.hpp"
#include "kernels/union_find.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <tuple>
#include <utility>

namespace ws::kernels {

namespace {

// Holes of at least `min_px` pixels: 4-connected background components that do not touch the
// window border. Labelling the background with the border painted as background joins every
// border-touching region into one.
int count_holes(const cv::Mat& fg, int min_px) {
  cv::Mat bg;
  cv::copyMakeBorder(fg == 0, bg, 1, 1, 1, 1, cv::BORDER_CONSTANT, cv::Scalar(255));
  cv::Mat labels;
  cv::Mat stats;
  cv::Mat centroids;
  const int n = cv::connectedComponentsWithStats(bg, labels, stats, centroids, 4, CV_32S);
  int holes = 0;
  const int outer = labels.at<std::int32_t>(0, 0);  // the border, painted background
  for (int k = 1; k < n; ++k) {
    holes += k != outer && stats.at<std::int32_t>(k, cv::CC_STAT_AREA) >= min_px ? 1 : 0;
  }
  return holes;
}

// Foreground components of `fg` (8-connected) of at least `min_px` pixels, and how many of them
// have a pixel in `near`.
std::pair<int, int> components_and_touched(const cv::Mat& fg, const cv::Mat& near, int min_px) {
  cv::Mat labels;
  cv::Mat stats;
  cv::Mat centroids;
  const int n = cv::connectedComponentsWithStats(fg, labels, stats, centroids, 8, CV_32S);
  std::vector<std::uint8_t> seen(static_cast<std::size_t>(n), 0);
  for (int y = 0; y < labels.rows; ++y) {
    const auto* l = labels.ptr<std::int32_t>(y);
    const auto* m = near.ptr<std::uint8_t>(y);
    for (int x = 0; x < labels.cols; ++x) {
      if (m[x] != 0) seen[static_cast<std::size_t>(l[x])] = 1;
    }
  }
  int components = 0;
  int touched = 0;
  for (int k = 1; k < n; ++k) {
    if (stats.at<std::int32_t>(k, cv::CC_STAT_AREA) < min_px) continue;
    ++components;
    touched += seen[static_cast<std::size_t>(k)];
  }
  return {components, touched};
}

// The changed pixels of a window pair binarised at their common mid-grey; false when the windows
// have no pattern contrast.
bool binarise(const cv::Mat& f, const cv::Mat& g, int min_contrast, cv::Mat& ff, cv::Mat& gf,
              cv::Mat& changed) {
  // Both windows: a speck of copper on bare board, or a hole in a plane, has a flat reference.
  double lo = 0;
  double hi = 0;
  double flo = 0;
  double fhi = 0;
  cv::minMaxLoc(g, &lo, &hi);
  cv::minMaxLoc(f, &flo, &fhi);
  lo = std::min(lo, flo);
  hi = std::max(hi, fhi);
  if (hi - lo < min_contrast) return false;
  const double level = (lo + hi) / 2;
  ff = f > level;
  gf = g > level;
  changed = ff != gf;
  return true;
}

double core_of(const cv::Mat& changed, int n_changed) {
  cv::Mat core;
  cv::erode(changed, core, cv::Mat(), cv::Point(-1, -1), 1, cv::BORDER_CONSTANT, cv::Scalar(0));
  return static_cast<double>(cv::countNonZero(core)) / n_changed;
}

// Settings of one blob_context() pass.
struct ContextSpec {
  int margin_px = 6;
  int min_contrast = 32;
  int min_component_px = 0;
  bool core_only = false;
};

void context_of(const cv::Mat& f, const cv::Mat& g, const ContextSpec& spec, BlobFeatures& b) {
  cv::Mat ff;
  cv::Mat gf;
  cv::Mat changed;
  if (!binarise(f, g, spec.min_contrast, ff, gf, changed)) return;
  const int n_changed = cv::countNonZero(changed);
  if (n_changed == 0) return;
  b.core_fraction = core_of(changed, n_changed);
  if (spec.core_only) return;
  cv::Mat near;
  cv::dilate(changed, near, cv::Mat(), cv::Point(-1, -1), 2);
  const auto [frame_components, frame_touched] =
      components_and_touched(ff, near, spec.min_component_px);
  const auto [ref_components, ref_touched] =
      components_and_touched(gf, near, spec.min_component_px);
  b.components_delta = frame_components - ref_components;
  b.touched_frame = frame_touched;
  b.touched_ref = ref_touched;
  b.holes_delta = count_holes(ff, spec.min_component_px) - count_holes(gf, spec.min_component_px);
  b.added_fraction = static_cast<double>(cv::countNonZero(changed & ff)) / n_changed;
  cv::Mat ring;
  cv::dilate(changed, ring, cv::Mat());
  ring &= ~changed;
  const int n_ring = cv::countNonZero(ring);
  if (n_ring > 0) b.ring_fg_ref = static_cast<double>(cv::countNonZero(ring & gf)) / n_ring;
}

void for_each_window(const cv::Mat& frame, const cv::Mat& golden, int dx, int dy,
                     const ContextSpec& spec, std::vector<BlobFeatures>& blobs) {
  if (frame.type() != CV_8UC1 || golden.type() != CV_8UC1 || frame.size() != golden.size()) {
    throw std::invalid_argument("blob_context: frame and golden must be CV_8UC1 of one size");
  }
  if (spec.margin_px < 1) throw std::invalid_argument("blob_context: margin_px must be >= 1");
  // Frame pixels whose reference pixel exists.
  const cv::Rect overlap =
      cv::Rect(0, 0, frame.cols, frame.rows) & cv::Rect(dx, dy, golden.cols, golden.rows);
  for (BlobFeatures& b : blobs) {
    b.components_delta = b.holes_delta = b.touched_ref = b.touched_frame = 0;
    b.added_fraction = b.ring_fg_ref = b.core_fraction = 0;
    const int m = spec.margin_px;
    const cv::Rect grown(b.bbox.x - m, b.bbox.y - m, b.bbox.width + 2 * m, b.bbox.height + 2 * m);
    const cv::Rect w = grown & overlap;
    if (w.empty()) continue;
    context_of(frame(w), golden(w - cv::Point(dx, dy)), spec, b);
  }
}

cv::Rect grown_by(const cv::Rect& r, int px) {
  return {r.x - px, r.y - px, r.width + 2 * px, r.height + 2 * px};
}

// Group of each blob (the smallest index in it): blobs whose boxes, grown by distance_px,
// overlap, transitively. Quadratic in the blob count: frames carry tens of blobs, not thousands.
std::vector<std::size_t> box_groups(const std::vector<BlobFeatures>& blobs, int distance_px) {
  const auto n = static_cast<std::int32_t>(blobs.size());
  UnionFind sets(n);
  for (std::int32_t i = 0; i < n; ++i) {
    const cv::Rect gi = grown_by(blobs[static_cast<std::size_t>(i)].bbox, distance_px);
    for (std::int32_t j = i + 1; j < n; ++j) {
      if (!(gi & blobs[static_cast<std::size_t>(j)].bbox).empty()) sets.unite(i, j);
    }
  }
  std::vector<std::size_t> group(blobs.size());
  for (std::int32_t i = 0; i < n; ++i) group[static_cast<std::size_t>(i)] = sets.find(i);
  return group;
}

// The tolerant blobs inside frame window `w` (inside the overlap), appended to `out`. Only pixels
// of the plain difference can pass, so the neighbourhood is read for those alone; the few that
// pass are flood-filled (8-connected) from a window-sized mask, first pixels in raster order.
void tolerant_window(const cv::Mat& frame, const cv::Mat& golden, cv::Point shift,
                     const cv::Rect& w, int threshold, int radius_px, int min_area_px,
                     std::vector<BlobFeatures>& out) {
  const int width = w.width;
  std::vector<std::uint8_t> mask(static_cast<std::size_t>(width) * w.height, 0);
  for (int y = 0; y < w.height; ++y) {
    const int gy = w.y + y - shift.y;
    const auto* fr = frame.ptr<std::uint8_t>(w.y + y) + w.x;
    const auto* gr = golden.ptr<std::uint8_t>(gy) + (w.x - shift.x);
    const int y_lo = std::max(0, gy - radius_px);
    const int y_hi = std::min(golden.rows - 1, gy + radius_px);
    for (int x = 0; x < width; ++x) {
      const int f = fr[x];
      if (std::abs(f - gr[x]) <= threshold) continue;
      const int gx = w.x + x - shift.x;
      const int x_lo = std::max(0, gx - radius_px);
      const int x_hi = std::min(golden.cols - 1, gx + radius_px);
      int lo = 255;
      int hi = 0;
      for (int yy = y_lo; yy <= y_hi; ++yy) {
        const auto* row = golden.ptr<std::uint8_t>(yy);
        for (int xx = x_lo; xx <= x_hi; ++xx) {
          lo = std::min<int>(lo, row[xx]);
          hi = std::max<int>(hi, row[xx]);
        }
      }
      if (f - hi > threshold || lo - f > threshold)
        mask[static_cast<std::size_t>(y) * width + x] = 1;
    }
  }
  std::vector<BlobFeatures> found;
  std::vector<cv::Point> pixels;
  std::vector<cv::Point> stack;
  for (int y0 = 0; y0 < w.height; ++y0) {
    for (int x0 = 0; x0 < width; ++x0) {
      if (mask[static_cast<std::size_t>(y0) * width + x0] == 0) continue;
      pixels.clear();
      stack.assign(1, {x0, y0});
      mask[static_cast<std::size_t>(y0) * width + x0] = 0;
      cv::Point lo(x0, y0);
      cv::Point hi(x0, y0);
      while (!stack.empty()) {
        const cv::Point p = stack.back();
        stack.pop_back();
        pixels.push_back(p);
        lo = {std::min(lo.x, p.x), std::min(lo.y, p.y)};
        hi = {std::max(hi.x, p.x), std::max(hi.y, p.y)};
        for (int ny = std::max(0, p.y - 1); ny <= std::min(w.height - 1, p.y + 1); ++ny) {
          for (int nx = std::max(0, p.x - 1); nx <= std::min(width - 1, p.x + 1); ++nx) {
            std::uint8_t& m = mask[static_cast<std::size_t>(ny) * width + nx];
            if (m == 0) continue;
            m = 0;
            stack.emplace_back(nx, ny);
          }
        }
      }
      if (static_cast<int>(pixels.size()) < min_area_px) continue;
      // Integer sums: exact in double whatever the order, so equal to fused_blobs' moments.
      Component c{cv::Rect(lo.x, lo.y, hi.x - lo.x + 1, hi.y - lo.y + 1) + w.tl(),
                  static_cast<int>(pixels.size())};
      BlobMoments m;
      for (const cv::Point& p : pixels) {
        const int d = frame.at<std::uint8_t>(w.y + p.y, w.x + p.x) -
                      golden.at<std::uint8_t>(w.y + p.y - shift.y, w.x + p.x - shift.x);
        m.add(p.x - lo.x, p.y - lo.y, std::abs(d), d);
      }
      found.push_back(blob_from_moments(c, m));
    }
  }
  std::sort(found.begin(), found.end(), [](const BlobFeatures& a, const BlobFeatures& b) {
    return std::tie(a.bbox.y, a.bbox.x, a.area_px) < std::tie(b.bbox.y, b.bbox.x, b.area_px);
  });
  out.insert(out.end(), found.begin(), found.end());
}

}  // namespace

void tolerant_blobs(const cv::Mat& frame, const cv::Mat& golden, int dx, int dy, int threshold,
                    int radius_px, int min_area_px, std::vector<BlobFeatures>& blobs) {
  if (frame.type() != CV_8UC1 || golden.type() != CV_8UC1 || frame.size() != golden.size()) {
    throw std::invalid_argument("tolerant_blobs: frame and golden must be CV_8UC1 of one size");
  }
  if (threshold < 0 || threshold > 254 || radius_px < 0) {
    throw std::invalid_argument("tolerant_blobs: threshold must be 0..254 and radius_px >= 0");
  }
  const cv::Rect overlap =
      cv::Rect(0, 0, frame.cols, frame.rows) & cv::Rect(dx, dy, golden.cols, golden.rows);
  const std::vector<std::size_t> group = box_groups(blobs, 0);
  std::vector<cv::Rect> windows;
  std::vector<int> slot(blobs.size(), -1);
  for (std::size_t i = 0; i < blobs.size(); ++i) {
    const cv::Rect r = blobs[i].bbox & overlap;
    int& s = slot[group[i]];
    if (s < 0) {
      s = static_cast<int>(windows.size());
      windows.push_back(r);
    } else if (!r.empty()) {
      cv::Rect& u = windows[static_cast<std::size_t>(s)];
      u = u.empty() ? r : (u | r);
    }
  }
  std::vector<BlobFeatures> out;
  for (const cv::Rect& w : windows) {
    if (w.empty()) continue;
    tolerant_window(frame, golden, cv::Point(dx, dy), w, threshold, radius_px, min_area_px, out);
  }
  blobs = std::move(out);
}

void blob_context(const cv::Mat& frame, const cv::Mat& golden, int dx, int dy, int margin_px,
                  int min_contrast, std::vector<BlobFeatures>& blobs, int min_component_px) {
  for_each_window(frame, golden, dx, dy, {margin_px, min_contrast, min_component_px, false}, blobs);
}

void blob_core(const cv::Mat& frame, const cv::Mat& golden, int dx, int dy, int margin_px,
               int min_contrast, std::vector<BlobFeatures>& blobs) {
  for_each_window(frame, golden, dx, dy, {margin_px, min_contrast, 0, true}, blobs);
}

void merge_blobs(int distance_px, std::vector<BlobFeatures>& blobs) {
  if (distance_px < 0 || blobs.size() < 2) return;
  const std::size_t n = blobs.size();
  const std::vector<std::size_t> group = box_groups(blobs, distance_px);
  std::vector<BlobFeatures> out;
  std::vector<int> slot(n, -1);
  std::vector<int> largest;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t root = group[i];
    const BlobFeatures& b = blobs[i];
    if (slot[root] < 0) {
      slot[root] = static_cast<int>(out.size());
      out.push_back(b);
      out.back().centroid *= b.area_px;
      out.back().contrast *= b.area_px;
      largest.push_back(b.area_px);
      continue;
    }
    BlobFeatures& m = out[static_cast<std::size_t>(slot[root])];
    int& big = largest[static_cast<std::size_t>(slot[root])];
    m.bbox |= b.bbox;
    m.area_px += b.area_px;
    m.centroid += b.centroid * b.area_px;
    m.contrast += b.contrast * b.area_px;
    m.max_contrast = std::max(m.max_contrast, b.max_contrast);
    if (b.area_px > big) {
      big = b.area_px;
      m.polarity = b.polarity;
      m.elongation = b.elongation;
    }
  }
  for (BlobFeatures& m : out) {
    m.centroid /= std::max(m.area_px, 1);
    m.contrast /= std::max(m.area_px, 1);
    m.fill = static_cast<double>(m.area_px) / std::max(m.bbox.area(), 1);
  }
  blobs = std::move(out);
}

void grow_boxes(int margin_px, const cv::Rect& bounds, std::vector<BlobFeatures>& blobs) {
  for (BlobFeatures& b : blobs) {
    b.bbox = cv::Rect(b.bbox.x - margin_px, b.bbox.y - margin_px, b.bbox.width + 2 * margin_px,
                      b.bbox.height + 2 * margin_px) &
             bounds;
  }
}

}  // namespace ws::kernels
