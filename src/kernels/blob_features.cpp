#include "kernels/blob_features.hpp"

#include "kernels/absdiff_shifted.hpp"
#include "kernels/band.hpp"

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>

namespace ws::kernels {

namespace {
void validate(const BlobImages& im, int band_rows) {
  require_band_rows(band_rows, "blob_features");
  const cv::Size size = im.frame.size();
  if (im.frame.type() != CV_8UC1 || im.golden.type() != CV_8UC1 || im.absdiff.type() != CV_8UC1 ||
      im.labels.type() != CV_32SC1 || im.golden.size() != size || im.absdiff.size() != size ||
      im.labels.size() != size) {
    throw std::invalid_argument("blob_features: inconsistent image types or sizes");
  }
}

double elongation_of(const BlobMoments& m) {
  const double cx = m.sx / m.n;
  const double cy = m.sy / m.n;
  // A pixel is a unit square: its own second moment 1/12 keeps thin blobs' minor axis positive.
  constexpr double kPixel = 1.0 / 12.0;
  Eigen::Matrix2d cov;
  cov(0, 0) = m.sxx / m.n - cx * cx + kPixel;
  cov(1, 1) = m.syy / m.n - cy * cy + kPixel;
  cov(0, 1) = cov(1, 0) = m.sxy / m.n - cx * cy;
  const Eigen::SelfAdjointEigenSolver<Eigen::Matrix2d> eig(cov, Eigen::EigenvaluesOnly);
  const double minor = std::max(eig.eigenvalues()(0), kPixel);
  const double major = std::max(eig.eigenvalues()(1), minor);
  return std::sqrt(major / minor);
}
}  // namespace

BlobFeatures blob_from_moments(const Component& c, const BlobMoments& m) {
  BlobFeatures b;
  b.bbox = c.bbox;
  b.area_px = c.area;
  b.centroid = cv::Point2d(c.bbox.x + m.sx / m.n, c.bbox.y + m.sy / m.n);
  b.elongation = elongation_of(m);
  b.fill = static_cast<double>(c.area) / c.bbox.area();
  b.polarity = m.signed_sum >= 0 ? Polarity::bright : Polarity::dark;
  b.contrast = m.abs_sum / m.n;
  b.max_contrast = m.abs_max;
  return b;
}

Status blob_features(const BlobImages& images, const std::vector<Component>& components,
                     int min_area_px, int band_rows, const Checkpoint& cp,
                     std::vector<BlobFeatures>& out) {
  validate(images, band_rows);
  const cv::Rect valid = valid_region(images.frame.size(), images.dx, images.dy);
  std::vector<BlobMoments> moments(components.size());
  const auto ncomp = static_cast<std::int32_t>(components.size());
  // Blob pixels all have a reference (absdiff is 0 elsewhere), so only the valid region is read.
  const Status status = for_each_band(valid.height, band_rows, cp, [&](int begin, int end) {
    for (int i = begin; i < end; ++i) {
      const int y = valid.y + i;
      const auto* l = images.labels.ptr<std::int32_t>(y);
      const auto* f = images.frame.ptr<std::uint8_t>(y);
      const auto* g = images.golden.ptr<std::uint8_t>(y - images.dy) - images.dx;
      const auto* a = images.absdiff.ptr<std::uint8_t>(y);
      for (int x = valid.x; x < valid.x + valid.width; ++x) {
        const std::int32_t label = l[x];
        if (label <= 0 || label > ncomp) continue;
        const Component& c = components[static_cast<std::size_t>(label - 1)];
        if (c.area < min_area_px) continue;
        // Relative to the box corner: small numbers keep the moments free of cancellation.
        moments[static_cast<std::size_t>(label - 1)].add(
            x - c.bbox.x, y - c.bbox.y, a[x], static_cast<int>(f[x]) - static_cast<int>(g[x]));
      }
    }
  });
  if (status == Status::canceled) return status;

  std::vector<BlobFeatures> blobs;
  for (std::size_t i = 0; i < components.size(); ++i) {
    if (components[i].area < min_area_px || moments[i].n == 0) continue;
    blobs.push_back(blob_from_moments(components[i], moments[i]));
  }
  out = std::move(blobs);
  return Status::ok;
}

}  // namespace ws::kernels
