#include "publish/wafer_map.hpp"

#include "base/output_file.hpp"

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

namespace {

// How a die is shaded by the outcome of its sites, and which outcome wins when a die was visited
// more than once: done, then unreliable, then error, then anything else (not inspected).
struct DieShade {
  int rank;
  cv::Scalar fill;
};

DieShade shade_of(SiteStatus s) {
  switch (s) {
    case SiteStatus::done:
      return {4, kDone};
    case SiteStatus::unreliable:
      return {3, kUnreliable};
    case SiteStatus::error:
      return {2, kError};
    default:
      return {1, kNotInspected};
  }
}

// The dies of the run, shaded by their sites' outcome.
void shade_dies(cv::Mat& layer, const std::vector<SiteResult>& sites, const RunGeometry& g,
                const Mapper& m) {
  std::map<std::pair<int, int>, DieShade> dies;
  for (const auto& s : sites) {
    const DieShade here = shade_of(s.status);
    const auto [it, added] = dies.try_emplace({s.site.die_i, s.site.die_j}, here);
    if (!added && here.rank > it->second.rank) it->second = here;
  }
  for (const auto& [die, shade] : dies) {
    const cv::Point2d c = die_corner_um(g, die.first, die.second);
    cv::rectangle(layer, m.at(c.x, c.y + g.die_pitch_y_um), m.at(c.x + g.die_pitch_x_um, c.y),
                  shade.fill, cv::FILLED);
  }
}

// The die grid: every die with a corner on the wafer.
void draw_grid(cv::Mat& layer, const RunGeometry& g, const Mapper& m, double radius_um) {
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
}

// The wafer: shaded dies and grid on a layer copied inside the outline only (dies on the edge
// are clipped to the wafer and nothing spills into the title), the outline, the notch.
void draw_wafer(cv::Mat& img, const std::vector<SiteResult>& sites, const RunGeometry& g,
                const Mapper& m, double radius_um) {
  const int radius_px = static_cast<int>(std::lround(radius_um * m.px_per_um));
  cv::Mat layer(img.size(), img.type(), kWafer);
  shade_dies(layer, sites, g, m);
  draw_grid(layer, g, m, radius_um);
  cv::Mat inside(img.size(), CV_8UC1, cv::Scalar(0));
  cv::circle(inside, m.at(0, 0), radius_px, cv::Scalar(255), cv::FILLED);
  layer.copyTo(img, inside);
  cv::circle(img, m.at(0, 0), radius_px, kInk, 2, cv::LINE_AA);
  // The notch (OrientationMarkLocation DOWN, as in the KLARF export).
  cv::circle(img, m.at(0, -radius_um), 6, kBackground, cv::FILLED, cv::LINE_AA);
}

// Every defect as a dot in its class's colour; returns the count per class number.
std::map<int, int> draw_defects(cv::Mat& img, const std::vector<SiteResult>& sites,
                                const RunGeometry& g, const Mapper& m, const ClassTable& classes) {
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
  return per_class;
}

// The legend at column `x`: die shading, then one line per class in ClassTable order with its
// count ("unclassified" only when some defect is).
void draw_legend(cv::Mat& img, int x, const ClassTable& classes,
                 const std::map<int, int>& per_class) {
  int y = kTitleH + 20;
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
  for (std::size_t k = 0; k < classes.names().size() && y < img.rows - 10; ++k) {
    const auto it = per_class.find(static_cast<int>(k));
    const int n = it == per_class.end() ? 0 : it->second;
    if (k == 0 && n == 0) continue;
    swatch(class_colour(static_cast<int>(k)), classes.names()[k] + " (" + std::to_string(n) + ")",
           true);
  }
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
  draw_wafer(img, sites, g, m, radius_um);
  const ClassTable classes(g, sites);
  const std::map<int, int> per_class = draw_defects(img, sites, g, m, classes);
  text(img, title_of(run, sites), {kMargin, 32}, 0.7, 2);
  draw_legend(img, options.width - kLegendW + 10, classes, per_class);
  return img;
}

void write_wafer_map_png(const std::filesystem::path& path, const RunRecord& run,
                         const std::vector<SiteResult>& sites, const RunGeometry& geometry,
                         const WaferMapOptions& options) {
  const cv::Mat img = draw_wafer_map(run, sites, geometry, options);
  std::vector<uchar> png;
  bool ok = false;
  try {
    ok = cv::imencode(".png", img, png, {cv::IMWRITE_PNG_COMPRESSION, 6});
  } catch (const cv::Exception& e) {
    throw ConfigError(path.string(), 0, "--out", std::string("cannot encode PNG: ") + e.what());
  }
  if (!ok) throw ConfigError(path.string(), 0, "--out", "cannot encode PNG");
  write_file_atomically(path, "--out", std::string(png.begin(), png.end()), Overwrite::replace);
}

}  // namespace ws::publish
