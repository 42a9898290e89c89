#include "kernels/blob_context.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <numeric>
#include <stdexcept>

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

}  // namespace

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
  std::vector<std::size_t> parent(n);
  std::iota(parent.begin(), parent.end(), std::size_t{0});
  const auto find = [&parent](std::size_t i) {
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
  };
  const auto grown = [distance_px](const cv::Rect& r) {
    return cv::Rect(r.x - distance_px, r.y - distance_px, r.width + 2 * distance_px,
                    r.height + 2 * distance_px);
  };
  // Quadratic in the blob count: frames carry a handful of defects, not thousands.
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      if ((grown(blobs[i].bbox) & blobs[j].bbox).empty()) continue;
      const std::size_t a = find(i);
      const std::size_t c = find(j);
      if (a != c) parent[std::max(a, c)] = std::min(a, c);
    }
  }
  std::vector<BlobFeatures> out;
  std::vector<int> slot(n, -1);
  std::vector<int> largest;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t root = find(i);
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
