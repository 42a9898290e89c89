#include "publish/wafer_map.hpp"

#include "waferscan/error.hpp"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>

namespace ws::publish {

namespace {

constexpr int kTitleH = 50;
constexpr int kLegendW = 260;
constexpr int kMargin = 16;
const cv::Scalar kBackground(255, 255, 255);
const cv::Scalar kWafer(225, 225, 225);
const cv::Scalar kGrid(160, 160, 160);
const cv::Scalar kInk(20, 20, 20);
const cv::Scalar kDone(170, 230, 170);
const cv::Scalar kNotInspected(120, 190, 250);
const cv::Scalar kError(150, 150, 240);
const cv::Scalar kUnreliable(220, 140, 200);  // violet: acquired but not comparable, never clean

// Distinct, saturated BGR colours for class numbers 0, 1, 2, ... (cycled past the end).
cv::Scalar class_colour(int number) {
  static const cv::Scalar palette[] = {{128, 128, 128}, {200, 60, 20}, {20, 20, 210}, {30, 150, 30},
                                       {180, 30, 180},  {0, 140, 255}, {140, 110, 0}, {90, 20, 120},
                                       {0, 200, 200},   {60, 60, 60}};
  constexpr int n = sizeof palette / sizeof palette[0];
  return palette[((number % n) + n) % n];
}

// Stage um -> picture pixels: wafer centre (stage 0, 0) at `centre`, +y up.
struct Mapper {
  cv::Point2d centre;
  double px_per_um;
  [[nodiscard]] cv::Point at(double x_um, double y_um) const {
    return {static_cast<int>(std::lround(centre.x + x_um * px_per_um)),
            static_cast<int>(std::lround(centre.y - y_um * px_per_um))};
  }
};

void text(cv::Mat& img, const std::string& s, cv::Point at, double scale, int thickness = 1) {
  cv::putText(img, s, at, cv::FONT_HERSHEY_SIMPLEX, scale, kInk, thickness, cv::LINE_AA);
}

std::string title_of(const RunRecord& run, const std::vector<SiteResult>& sites) {
  int defects = 0;
  for (const auto& s : sites) defects += static_cast<int>(s.defects.size());
  std::string outcome(to_string(run.state));
  if (run.stop_reason != StopReason::none)
    outcome += " (" + std::string(to_string(run.stop_reason)) + ")";
  return "Run " + std::to_string(run.id) + "  " + run.recipe_name + "  " + outcome + "  " +
         std::to_string(inspected_sites(sites)) + "/" + std::to_string(sites.size()) + " sites, " +
         std::to_string(defects) + " defects";
}

}  // namespace

cv::Mat draw_wafer_map(const RunRecord& run, const std::vector<SiteResult>& sites,
                       const RunGeometry& g, const WaferMapOptions& options) {
  if (options.width < 400 || options.height < 300) {
    throw std::invalid_argument("wafer map: picture must be at least 400 x 300 pixels");
  }
  cv::Mat img(options.height, options.width, CV_8UC3, kBackground);
  const int side = std::min(options.height - kTitleH - kMargin, options.width - kLegendW - kMargin);
  const double radius_um = g.wafer_diameter_mm * 500.0;
  const Mapper m{{kMargin + side / 2.0, kTitleH + side / 2.0}, (side / 2.0 - 4) / radius_um};
  const int radius_px = static_cast<int>(std::lround(radius_um * m.px_per_um));

  // Wafer, die shading and grid are drawn on a layer that is copied inside the wafer outline
  // only, so dies on the edge are clipped to the wafer and nothing spills into the title.
  cv::Mat layer(img.size(), img.type(), kWafer);

  // Shade the dies of the run by their sites' outcome: done beats unreliable beats error beats
  // not inspected when a die was visited more than once.
  std::map<std::pair<int, int>, SiteStatus> die_status;
  const auto rank = [](SiteStatus s) {
    switch (s) {
      case SiteStatus::done:
        return 4;
      case SiteStatus::unreliable:
        return 3;
      case SiteStatus::error:
        return 2;
      default:
        return 1;
    }
  };
  for (const auto& s : sites) {
    const std::pair<int, int> die{s.site.die_i, s.site.die_j};
    const auto it = die_status.find(die);
    if (it == die_status.end() || rank(s.status) > rank(it->second)) die_status[die] = s.status;
  }
  for (const auto& [die, status] : die_status) {
    const cv::Point2d c = die_corner_um(g, die.first, die.second);
    const cv::Scalar fill = status == SiteStatus::done         ? kDone
                            : status == SiteStatus::unreliable ? kUnreliable
                            : status == SiteStatus::error      ? kError
                                                               : kNotInspected;
    cv::rectangle(layer, m.at(c.x, c.y + g.die_pitch_y_um), m.at(c.x + g.die_pitch_x_um, c.y), fill,
                  cv::FILLED);
  }

  // The die grid: every die with a corner on the wafer.
  const auto first = [](double origin, double pitch, double r) {
    return static_cast<int>(std::floor((-r - origin) / pitch));
  };
  const auto last = [](double origin, double pitch, double r) {
    return static_cast<int>(std::ceil((r - origin) / pitch));
  };
  const double r2 = radius_um * radius_um;
  for (int i = first(g.die_origin_x_um, g.die_pitch_x_um, radius_um);
       i <= last(g.die_origin_x_um, g.die_pitch_x_um, radius_um); ++i) {
    for (int j = first(g.die_origin_y_um, g.die_pitch_y_um, radius_um);
         j <= last(g.die_origin_y_um, g.die_pitch_y_um, radius_um); ++j) {
      const cv::Point2d c = die_corner_um(g, i, j);
      bool on_wafer = false;
      for (double dx : {0.0, g.die_pitch_x_um}) {
        for (double dy : {0.0, g.die_pitch_y_um}) {
          on_wafer |= (c.x + dx) * (c.x + dx) + (c.y + dy) * (c.y + dy) <= r2;
        }
      }
      if (!on_wafer) continue;
      cv::rectangle(layer, m.at(c.x, c.y + g.die_pitch_y_um), m.at(c.x + g.die_pitch_x_um, c.y),
                    kGrid, 1);
    }
  }
  cv::Mat inside(img.size(), CV_8UC1, cv::Scalar(0));
  cv::circle(inside, m.at(0, 0), radius_px, cv::Scalar(255), cv::FILLED);
  layer.copyTo(img, inside);
  cv::circle(img, m.at(0, 0), radius_px, kInk, 2, cv::LINE_AA);
  // The notch (OrientationMarkLocation DOWN, as in the KLARF export).
  cv::circle(img, m.at(0, -radius_um), 6, kBackground, cv::FILLED, cv::LINE_AA);

  const ClassTable classes(g, sites);
  std::map<int, int> per_class;
  for (const auto& s : sites) {
    for (const auto& d : s.defects) {
      const int k = classes.number(d.class_name);
      ++per_class[k];
      const cv::Point2d p = defect_position_um(g, s, d);
      cv::circle(img, m.at(p.x, p.y), 4, class_colour(k), cv::FILLED, cv::LINE_AA);
      cv::circle(img, m.at(p.x, p.y), 4, kInk, 1, cv::LINE_AA);
    }
  }

  text(img, title_of(run, sites), {kMargin, 32}, 0.7, 2);

  // Legend: die shading, then one line per class in ClassTable order with its count.
  int y = kTitleH + 20;
  const int x = options.width - kLegendW + 10;
  const auto swatch = [&](const cv::Scalar& fill, const std::string& label, bool dot) {
    if (dot) {
      cv::circle(img, {x + 8, y - 5}, 6, fill, cv::FILLED, cv::LINE_AA);
      cv::circle(img, {x + 8, y - 5}, 6, kInk, 1, cv::LINE_AA);
    } else {
      cv::rectangle(img, {x, y - 13}, {x + 16, y + 3}, fill, cv::FILLED);
      cv::rectangle(img, {x, y - 13}, {x + 16, y + 3}, kGrid, 1);
    }
    text(img, label, {x + 26, y}, 0.5);
    y += 24;
  };
  text(img, "Dies", {x, y}, 0.55, 2);
  y += 24;
  swatch(kDone, "inspected", false);
  swatch(kNotInspected, "not inspected", false);
  swatch(kError, "error", false);
  swatch(kUnreliable, "unreliable (not clean)", false);
  swatch(kWafer, "not in recipe", false);
  y += 10;
  text(img, "Defects by class", {x, y}, 0.55, 2);
  y += 24;
  for (std::size_t k = 0; k < classes.names().size() && y < options.height - 10; ++k) {
    const auto it = per_class.find(static_cast<int>(k));
    const int n = it == per_class.end() ? 0 : it->second;
    if (k == 0 && n == 0) continue;  // "unclassified" only when some defect is
    swatch(class_colour(static_cast<int>(k)), classes.names()[k] + " (" + std::to_string(n) + ")",
           true);
  }
  return img;
}

void write_wafer_map_png(const std::filesystem::path& path, const RunRecord& run,
                         const std::vector<SiteResult>& sites, const RunGeometry& geometry,
                         const WaferMapOptions& options) {
  const cv::Mat img = draw_wafer_map(run, sites, geometry, options);
  bool ok = false;
  try {
    ok = cv::imwrite(path.string(), img, {cv::IMWRITE_PNG_COMPRESSION, 6});
  } catch (const cv::Exception& e) {
    throw ConfigError(path.string(), 0, "--out", std::string("cannot write PNG: ") + e.what());
  }
  if (!ok) throw ConfigError(path.string(), 0, "--out", "cannot write PNG");
}

}  // namespace ws::publish
