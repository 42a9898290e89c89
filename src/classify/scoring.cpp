#include "classify/scoring.hpp"

#include <algorithm>
#include <numeric>

namespace ws::classify {

double iou(const cv::Rect& a, const cv::Rect& b) {
  const double inter = (a & b).area();
  const double uni = static_cast<double>(a.area()) + b.area() - inter;
  return uni > 0 ? inter / uni : 0.0;
}

double ClassScore::precision() const {
  return detections > 0 ? static_cast<double>(correct) / detections : 1.0;
}

double ClassScore::recall() const {
  return truths > 0 ? static_cast<double>(correct) / truths : 1.0;
}

double ClassScore::f_score() const {
  const double p = precision();
  const double r = recall();
  return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
}

ClassScore& Scorer::entry(const std::string& name) {
  auto it = std::lower_bound(classes_.begin(), classes_.end(), name,
                             [](const ClassScore& c, const std::string& n) { return c.name < n; });
  if (it == classes_.end() || it->name != name) it = classes_.insert(it, ClassScore{name});
  return *it;
}

void Scorer::add(const std::vector<Defect>& detections, const std::vector<LabelledDefect>& truth) {
  ++frames_;
  for (const auto& t : truth) ++entry(t.class_name).truths;
  std::vector<std::size_t> order(detections.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return detections[a].confidence > detections[b].confidence;
  });
  std::vector<bool> taken(truth.size(), false);
  for (const std::size_t i : order) {
    const Defect& d = detections[i];
    ClassScore& c = entry(d.class_name);
    ++c.detections;
    double best = min_iou_;
    std::optional<std::size_t> match;
    for (std::size_t k = 0; k < truth.size(); ++k) {
      if (taken[k] || truth[k].class_name != d.class_name) continue;
      const double v = iou(d.features.bbox, truth[k].bbox);
      if (v > best) {
        best = v;
        match = k;
      }
    }
    if (match) {
      taken[*match] = true;
      ++c.correct;
    }
  }
}

std::vector<ClassScore> Scorer::per_class() const {
  return classes_;
}

ClassScore Scorer::overall() const {
  ClassScore all{"all"};
  for (const auto& c : classes_) {
    all.truths += c.truths;
    all.detections += c.detections;
    all.correct += c.correct;
  }
  return all;
}

std::vector<std::optional<std::string>> label_blobs(const std::vector<BlobFeatures>& blobs,
                                                    const std::vector<LabelledDefect>& truth,
                                                    double min_cover) {
  std::vector<std::optional<std::string>> out(blobs.size());
  for (std::size_t i = 0; i < blobs.size(); ++i) {
    const cv::Rect& b = blobs[i].bbox;
    const double area = std::max(b.area(), 1);
    double best = 0;
    for (const auto& t : truth) {
      const double cover = (b & t.bbox).area() / area;
      if (cover >= min_cover && cover > best) {
        best = cover;
        out[i] = t.class_name;
      }
    }
  }
  return out;
}

}  // namespace ws::classify
