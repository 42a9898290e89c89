#include "kernels/blob_context.hpp"

#include "kernels/blob_features.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <tuple>

namespace ws::kernels {

namespace {

// Holes: 4-connected background components that do not touch the window border. Labelling the
// background with the border painted as background joins every border-touching region into one.
int count_holes(const cv::Mat& fg) {
  cv::Mat bg;
  cv::copyMakeBorder(fg == 0, bg, 1, 1, 1, 1, cv::BORDER_CONSTANT, cv::Scalar(255));
  cv::Mat labels;
  const int n = cv::connectedComponents(bg, labels, 4, CV_32S);
  return std::max(0, n - 2);  // minus the zero label and the outer background
}

int count_components(const cv::Mat& fg) {
  cv::Mat labels;
  return cv::connectedComponents(fg, labels, 8, CV_32S) - 1;
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

void context_of(const cv::Mat& f, const cv::Mat& g, int min_contrast, bool core_only,
                BlobFeatures& b) {
  cv::Mat ff;
  cv::Mat gf;
  cv::Mat changed;
  if (!binarise(f, g, min_contrast, ff, gf, changed)) return;
  const int n_changed = cv::countNonZero(changed);
  if (n_changed == 0) return;
  b.core_fraction = core_of(changed, n_changed);
  if (core_only) return;
  b.components_delta = count_components(ff) - count_components(gf);
  b.holes_delta = count_holes(ff) - count_holes(gf);
  b.added_fraction = static_cast<double>(cv::countNonZero(changed & ff)) / n_changed;
  cv::Mat ring;
  cv::dilate(changed, ring, cv::Mat());
  ring &= ~changed;
  const int n_ring = cv::countNonZero(ring);
  if (n_ring > 0) b.ring_fg_ref = static_cast<double>(cv::countNonZero(ring & gf)) / n_ring;
}

void for_each_window(const cv::Mat& frame, const cv::Mat& golden, int dx, int dy, int margin_px,
                     int min_contrast, bool core_only, std::vector<BlobFeatures>& blobs) {
  if (frame.type() != CV_8UC1 || golden.type() != CV_8UC1 || frame.size() != golden.size()) {
    throw std::invalid_argument("blob_context: frame and golden must be CV_8UC1 of one size");
  }
  if (margin_px < 1) throw std::invalid_argument("blob_context: margin_px must be >= 1");
  // Frame pixels whose reference pixel exists.
  const cv::Rect overlap =
      cv::Rect(0, 0, frame.cols, frame.rows) & cv::Rect(dx, dy, golden.cols, golden.rows);
  for (BlobFeatures& b : blobs) {
    b.components_delta = b.holes_delta = 0;
    b.added_fraction = b.ring_fg_ref = b.core_fraction = 0;
    const cv::Rect grown(b.bbox.x - margin_px, b.bbox.y - margin_px, b.bbox.width + 2 * margin_px,
                         b.bbox.height + 2 * margin_px);
    const cv::Rect w = grown & overlap;
    if (w.empty()) continue;
    context_of(frame(w), golden(w - cv::Point(dx, dy)), min_contrast, core_only, b);
  }
}

cv::Rect grown_by(const cv::Rect& r, int px) {
  return {r.x - px, r.y - px, r.width + 2 * px, r.height + 2 * px};
}

// Group of each blob (the smallest index in it): blobs whose boxes, grown by distance_px,
// overlap, transitively. Quadratic in the blob count: frames carry tens of blobs, not thousands.
std::vector<std::size_t> box_groups(const std::vector<BlobFeatures>& blobs, int distance_px) {
  const std::size_t n = blobs.size();
  std::vector<std::size_t> parent(n);
  std::iota(parent.begin(), parent.end(), std::size_t{0});
  const auto find = [&parent](std::size_t i) {
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
  };
  for (std::size_t i = 0; i < n; ++i) {
    const cv::Rect gi = grown_by(blobs[i].bbox, distance_px);
    for (std::size_t j = i + 1; j < n; ++j) {
      if ((gi & blobs[j].bbox).empty()) continue;
      const std::size_t a = find(i);
      const std::size_t c = find(j);
      if (a != c) parent[std::max(a, c)] = std::min(a, c);
    }
  }
  for (std::size_t i = 0; i < n; ++i) parent[i] = find(i);
  return parent;
}

// The tolerant blobs inside frame window `w` (inside the overlap), appended to `out`.
void tolerant_window(const cv::Mat& frame, const cv::Mat& golden, cv::Point shift,
                     const cv::Rect& w, int threshold, int radius_px, int min_area_px,
                     std::vector<BlobFeatures>& out) {
  const cv::Mat f = frame(w);
  const cv::Mat g = golden(w - shift);
  cv::Mat changed;
  if (radius_px == 0) {
    cv::Mat d;
    cv::absdiff(f, g, d);
    changed = d > threshold;
  } else {
    // Neighbourhood extremes over the reference pixels that exist (dilate/erode ignore the
    // outside of the grown, clipped window).
    const cv::Rect gw = grown_by(w - shift, radius_px) & cv::Rect(0, 0, golden.cols, golden.rows);
    const cv::Mat kernel =
        cv::getStructuringElement(cv::MORPH_RECT, cv::Size(2 * radius_px + 1, 2 * radius_px + 1));
    cv::Mat hi;
    cv::Mat lo;
    cv::dilate(golden(gw), hi, kernel);
    cv::erode(golden(gw), lo, kernel);
    const cv::Rect inner = (w - shift) - gw.tl();
    cv::Mat above;
    cv::Mat below;
    cv::subtract(f, hi(inner), above);  // saturates at 0
    cv::subtract(lo(inner), f, below);
    changed = (above > threshold) | (below > threshold);
  }
  cv::Mat labels;
  cv::Mat stats;
  cv::Mat centroids;
  const int n = cv::connectedComponentsWithStats(changed, labels, stats, centroids, 8, CV_32S);
  std::vector<Component> comps(static_cast<std::size_t>(n));
  std::vector<BlobMoments> moments(static_cast<std::size_t>(n));
  for (int l = 1; l < n; ++l) {
    comps[l].bbox = {stats.at<int>(l, cv::CC_STAT_LEFT), stats.at<int>(l, cv::CC_STAT_TOP),
                     stats.at<int>(l, cv::CC_STAT_WIDTH), stats.at<int>(l, cv::CC_STAT_HEIGHT)};
    comps[l].area = stats.at<int>(l, cv::CC_STAT_AREA);
  }
  for (int y = 0; y < w.height; ++y) {
    const auto* lab = labels.ptr<std::int32_t>(y);
    const auto* fr = f.ptr<std::uint8_t>(y);
    const auto* gr = g.ptr<std::uint8_t>(y);
    for (int x = 0; x < w.width; ++x) {
      const int l = lab[x];
      if (l == 0 || comps[l].area < min_area_px) continue;
      BlobMoments& m = moments[l];
      const double u = x - comps[l].bbox.x;
      const double v = y - comps[l].bbox.y;
      const int d = fr[x] - gr[x];
      m.n += 1;
      m.sx += u;
      m.sy += v;
      m.sxx += u * u;
      m.sxy += u * v;
      m.syy += v * v;
      m.abs_sum += std::abs(d);
      m.signed_sum += d;
      m.abs_max = std::max(m.abs_max, std::abs(d));
    }
  }
  std::vector<BlobFeatures> found;
  for (int l = 1; l < n; ++l) {
    if (comps[l].area < min_area_px || moments[l].n == 0) continue;
    comps[l].bbox += w.tl();
    found.push_back(blob_from_moments(comps[l], moments[l]));
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
                  int min_contrast, std::vector<BlobFeatures>& blobs) {
  for_each_window(frame, golden, dx, dy, margin_px, min_contrast, false, blobs);
}

void blob_core(const cv::Mat& frame, const cv::Mat& golden, int dx, int dy, int margin_px,
               int min_contrast, std::vector<BlobFeatures>& blobs) {
  for_each_window(frame, golden, dx, dy, margin_px, min_contrast, true, blobs);
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
