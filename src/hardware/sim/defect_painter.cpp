#include "hardware/sim/defect_painter.hpp"

#include "hardware/sim/die_pattern.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>

namespace ws::sim {

namespace {

constexpr int max_attempts = 40;
constexpr int min_changed_px = 10;

/// A candidate's box size, and how much of the box must change for the placement to count.
struct Shape {
  cv::Size size;
  double min_changed_fraction = 0.0;  ///< of the box area (pattern defects only)
};

void add_clamped(cv::Mat& values, const cv::Mat& mask, double delta) {
  cv::Mat shifted;
  cv::add(values, cv::Scalar(delta), shifted);
  cv::min(shifted, 255.0, shifted);
  cv::max(shifted, 0.0, shifted);
  shifted.copyTo(values, mask);
}

/// One defect's random shape: chosen on construction (so the box size is known before placing it),
/// drawn into (values, mask) once placed.
class Painter {
 public:
  Painter(DefectClass cls, Rng& rng, cv::Size region) : cls_(cls), rng_(rng) { choose(region); }

  [[nodiscard]] const Shape& shape() const { return shape_; }

  void draw(cv::Mat& values, cv::Mat& mask) {
    switch (cls_) {
      case DefectClass::particle:
        draw_particle(values, mask);
        break;
      case DefectClass::scratch:
        draw_scratch(values, mask);
        break;
      case DefectClass::residue:
        draw_residue(values, mask);
        break;
      case DefectClass::pattern:
        draw_pattern(values, mask);
        break;
    }
  }

 private:
  void choose(cv::Size region) {
    switch (cls_) {
      case DefectClass::particle: {
        diameter_ = rng_.uniform_int(4, 12);
        shape_.size = {diameter_, diameter_};
        break;
      }
      case DefectClass::scratch: {
        width_ = rng_.uniform_int(2, 3);
        pad_ = width_ / 2 + 1;
        const int longest = std::min(region.width, region.height) - 2 * pad_ - 2;
        const int length = std::min(rng_.uniform_int(40, 200), longest);
        const double angle = rng_.uniform(0.0, std::numbers::pi);
        dx_ = length * std::cos(angle);
        dy_ = length * std::sin(angle);  // >= 0
        shape_.size = {static_cast<int>(std::ceil(std::abs(dx_))) + 2 * pad_ + 1,
                       static_cast<int>(std::ceil(dy_)) + 2 * pad_ + 1};
        break;
      }
      case DefectClass::residue: {
        const int side = rng_.uniform_int(20, 60);
        shape_.size = {side, side};
        break;
      }
      case DefectClass::pattern: {
        missing_ = rng_.chance(0.5);
        if (missing_) {
          shape_.size = {rng_.uniform_int(8, 24), rng_.uniform_int(8, 24)};
          shape_.min_changed_fraction = 0.3;
        } else {
          const int along = rng_.uniform_int(10, 30);
          const int across = rng_.uniform_int(3, 10);
          shape_.size = rng_.chance(0.5) ? cv::Size(along, across) : cv::Size(across, along);
          shape_.min_changed_fraction = 0.5;
        }
        break;
      }
    }
  }

  void draw_particle(cv::Mat& values, cv::Mat& mask) {
    const float lvl = rng_.chance(0.5) ? static_cast<float>(rng_.uniform(225.0, 245.0))
                                       : static_cast<float>(rng_.uniform(5.0, 20.0));
    const double r = diameter_ / 2.0;
    for (int y = 0; y < diameter_; ++y) {
      for (int x = 0; x < diameter_; ++x) {
        const double ux = x + 0.5 - r;
        const double uy = y + 0.5 - r;
        if (ux * ux + uy * uy <= r * r) {
          mask.at<std::uint8_t>(y, x) = 255;
          values.at<float>(y, x) = lvl;
        }
      }
    }
  }

  void draw_scratch(cv::Mat& values, cv::Mat& mask) {
    const double x0 = dx_ >= 0 ? pad_ : pad_ - dx_;
    const cv::Point a(static_cast<int>(std::lround(x0)), pad_);
    const cv::Point b(static_cast<int>(std::lround(x0 + dx_)),
                      static_cast<int>(std::lround(pad_ + dy_)));
    cv::line(mask, a, b, cv::Scalar(255), width_, cv::LINE_8);
    const double amount = rng_.uniform(50.0, 70.0);
    add_clamped(values, mask, rng_.chance(0.7) ? -amount : amount);
  }

  void draw_residue(cv::Mat& values, cv::Mat& mask) {
    const double s = mask.cols;
    const int blobs = rng_.uniform_int(3, 6);
    for (int k = 0; k < blobs; ++k) {
      // The first ellipse spans most of the box so the smudge's size follows the chosen side.
      const bool first = k == 0;
      const cv::Point centre(static_cast<int>(first ? s / 2 : rng_.uniform(0.3 * s, 0.7 * s)),
                             static_cast<int>(first ? s / 2 : rng_.uniform(0.3 * s, 0.7 * s)));
      const cv::Size axes(
          static_cast<int>(rng_.uniform(first ? 0.35 * s : 0.12 * s, first ? 0.48 * s : 0.3 * s)),
          static_cast<int>(rng_.uniform(first ? 0.25 * s : 0.12 * s, first ? 0.4 * s : 0.3 * s)));
      cv::ellipse(mask, centre, axes, rng_.uniform(0.0, 180.0), 0.0, 360.0, cv::Scalar(255),
                  cv::FILLED, cv::LINE_8);
    }
    const double amount = rng_.uniform(35.0, 45.0);
    add_clamped(values, mask, rng_.chance(0.75) ? -amount : amount);
  }

  void draw_pattern(cv::Mat& values, cv::Mat& mask) {
    mask.setTo(255);
    values.setTo(missing_ ? level::background : level::pad);
  }

  DefectClass cls_;
  Rng& rng_;
  Shape shape_;
  int diameter_ = 0;
  int width_ = 1;
  int pad_ = 1;
  double dx_ = 0.0;
  double dy_ = 0.0;
  bool missing_ = false;
};

bool clear_of(cv::Rect box, const std::vector<cv::Rect>& taken) {
  const cv::Rect grown(box.x - defect_gap_px, box.y - defect_gap_px, box.width + 2 * defect_gap_px,
                       box.height + 2 * defect_gap_px);
  return std::none_of(taken.begin(), taken.end(),
                      [&](const cv::Rect& t) { return (grown & t).area() > 0; });
}

}  // namespace

std::optional<DefectClass> parse_defect_class(std::string_view name) noexcept {
  if (name == "particle") return DefectClass::particle;
  if (name == "scratch") return DefectClass::scratch;
  if (name == "residue") return DefectClass::residue;
  if (name == "pattern") return DefectClass::pattern;
  return std::nullopt;
}

std::optional<PaintedDefect> paint_defect(DefectClass cls, std::string_view class_name,
                                          const cv::Mat& die, cv::Rect region,
                                          const std::vector<cv::Rect>& taken, Rng& rng) {
  for (int attempt = 0; attempt < max_attempts; ++attempt) {
    Painter painter(cls, rng, region.size());
    const cv::Size size = painter.shape().size;
    if (size.width > region.width || size.height > region.height) continue;
    const cv::Rect box(region.x + rng.uniform_int(0, region.width - size.width),
                       region.y + rng.uniform_int(0, region.height - size.height), size.width,
                       size.height);
    cv::Mat values = die(box).clone();
    cv::Mat mask = cv::Mat::zeros(size, CV_8U);
    painter.draw(values, mask);

    // The truth is what changed, not what was drawn: a missing piece over background changes
    // nothing there, and a clamped spot may change less than asked.
    cv::Mat delta;
    cv::absdiff(values, die(box), delta);
    cv::Mat changed = (delta >= 1.0F) & mask;
    const int changed_px = cv::countNonZero(changed);
    if (changed_px < min_changed_px) continue;
    if (changed_px < painter.shape().min_changed_fraction * box.area()) continue;
    const cv::Rect tight = cv::boundingRect(changed);
    const cv::Rect bbox = tight + box.tl();
    if (!clear_of(bbox, taken)) continue;

    PaintedDefect out;
    out.class_name = std::string(class_name);
    out.bbox = bbox;
    out.values = values(tight).clone();
    out.mask = changed(tight).clone();
    return out;
  }
  return std::nullopt;
}

}  // namespace ws::sim
