#include "kernels/register_local.hpp"

#include "kernels/align.hpp"
#include "kernels/band.hpp"

#include <Eigen/Dense>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <vector>

namespace ws::kernels {

namespace {

void validate(const cv::Mat& frame, const cv::Mat& golden, const LocalRegisterSpec& s) {
  if (frame.type() != CV_8UC1 || golden.type() != CV_8UC1 || frame.size() != golden.size()) {
    throw std::invalid_argument("register_local: frame and golden must be CV_8UC1 of one size");
  }
  if (s.tile_px < 8 || s.search_px < 1 || s.search_px > 64 || s.min_edges < 1 || s.level < 0 ||
      s.level > 254 || s.tolerance_px < 0 || !(s.max_step_px > 0) || s.max_bad_tiles < 0) {
    throw std::invalid_argument("register_local: bad settings");
  }
}

// One tile's measurement. Axis values are NaN when not measured.
struct Tile {
  cv::Rect rect;    // in frame pixels
  int edges_x = 0;  // reference pixels with a horizontal neighbour across `level` (x texture)
  int edges_y = 0;  // the same vertically (y texture)
  int frame_edges = 0;
  float sx = NAN;
  float sy = NAN;
  std::vector<std::int64_t> cost;  // SAD per integer shift of the window, row-major
  cv::Point origin;                // the window's first shift
  int side = 0;                    // the window's side
  // The SAD at integer shift (x, y), or -1 outside the window (or not measured).
  [[nodiscard]] std::int64_t cost_at(int x, int y) const {
    const int i = x - origin.x;
    const int j = y - origin.y;
    if (cost.empty() || i < 0 || j < 0 || i >= side || j >= side) return -1;
    return cost[static_cast<std::size_t>(j) * side + i];
  }
};

struct Grid {
  int nx = 0;
  int ny = 0;
  std::vector<Tile> tiles;  // row-major
  Tile& at(int i, int j) { return tiles[static_cast<std::size_t>(j) * nx + i]; }
};

Grid make_grid(cv::Size size, int tile) {
  Grid g;
  g.nx = (size.width + tile - 1) / tile;
  g.ny = (size.height + tile - 1) / tile;
  g.tiles.resize(static_cast<std::size_t>(g.nx) * g.ny);
  for (int j = 0; j < g.ny; ++j) {
    for (int i = 0; i < g.nx; ++i) {
      g.at(i, j).rect = cv::Rect(i * tile, j * tile, tile, tile) & cv::Rect(cv::Point(), size);
    }
  }
  return g;
}

// An image's edge pixels: (x, y) is an x edge when the pixel 2 to the right differs from it by
// more than `level`, a y edge when the pixel 2 below does (2: an edge spread over two pixels by
// the optics still counts). Both maps are (rows - 2) x (cols - 2), 255 on an edge, else 0; built
// once per image with OpenCV's vector code, in bands that poll the checkpoint, and counted per
// tile (count_edges).
struct EdgeMaps {
  cv::Mat x;
  cv::Mat y;
};

Status edge_maps(const cv::Mat& img, int level, const Checkpoint& cp, EdgeMaps& m) {
  const cv::Size core(std::max(0, img.cols - 2), std::max(0, img.rows - 2));
  m.x.create(core, CV_8UC1);
  m.y.create(core, CV_8UC1);
  if (core.empty()) return Status::ok;
  return parallel_bands(core.height, 64, cp, [&](int begin, int end) {
    const cv::Rect rows(0, begin, core.width, end - begin);
    cv::Mat ox = m.x(rows);
    cv::Mat oy = m.y(rows);
    cv::absdiff(img(rows + cv::Point(2, 0)), img(rows), ox);
    cv::absdiff(img(rows + cv::Point(0, 2)), img(rows), oy);
    cv::threshold(ox, ox, level, 255, cv::THRESH_BINARY);  // > level
    cv::threshold(oy, oy, level, 255, cv::THRESH_BINARY);
  });
}

// The x and y edges of `m` inside `r`.
void count_edges(const EdgeMaps& m, const cv::Rect& r, int& ex, int& ey) {
  const cv::Rect a = r & cv::Rect(0, 0, m.x.cols, m.x.rows);
  ex = a.empty() ? 0 : cv::countNonZero(m.x(a));
  ey = a.empty() ? 0 : cv::countNonZero(m.y(a));
}

// Sum of |frame - golden shifted by (sx, sy)| over r (r shifted stays inside golden).
std::int64_t sad(const cv::Mat& f, const cv::Mat& g, const cv::Rect& r, int sx, int sy) {
  std::int64_t sum = 0;
  const int n = r.width;
  for (int y = r.y; y < r.y + r.height; ++y) {
    const auto* a = f.ptr<std::uint8_t>(y) + r.x;
    const auto* b = g.ptr<std::uint8_t>(y - sy) + (r.x - sx);
    int row = 0;
    for (int x = 0; x < n; ++x) row += std::abs(a[x] - b[x]);
    sum += row;
  }
  return sum;
}

// Equiangular (V-shaped) sub-pixel offset of a minimum at 0 from its neighbours' costs: binarised
// patterns' costs grow linearly with the shift, so a parabola would be biased.
double equiangular(double left, double centre, double right) {
  const double rise = std::max(left, right) - centre;
  if (rise <= 0) return 0;
  return std::clamp((left - right) / (2 * rise), -0.5, 0.5);
}

// The tile's shift around `global`: the SAD minimum over the search window, sub-pixel on each
// axis that has texture across it and a minimum inside the window.
void measure_tile(const cv::Mat& f, const cv::Mat& g, const EdgeMaps& fe, const EdgeMaps& ge,
                  cv::Point global, const LocalRegisterSpec& s, Tile& t) {
  count_edges(ge, t.rect, t.edges_x, t.edges_y);
  int fx = 0;
  int fy = 0;
  count_edges(fe, t.rect, fx, fy);
  t.frame_edges = fx + fy;
  const int r = s.search_px;
  // Frame pixels whose reference exists under every shift of the window.
  const cv::Rect inside(
      cv::Point(std::abs(global.x) + r, std::abs(global.y) + r),
      cv::Point(f.cols - std::abs(global.x) - r, f.rows - std::abs(global.y) - r));
  const cv::Rect area = t.rect & inside;
  const bool tx = t.edges_x >= s.min_edges;
  const bool ty = t.edges_y >= s.min_edges;
  if ((!tx && !ty) || area.width < t.rect.width / 2 || area.height < t.rect.height / 2) return;
  const int side = 2 * r + 1;
  std::vector<std::int64_t>& cost = t.cost;
  cost.resize(static_cast<std::size_t>(side) * side);
  t.side = side;
  t.origin = global - cv::Point(r, r);
  int best = 0;
  for (int k = 0; k < side * side; ++k) {
    cost[k] = sad(f, g, area, global.x + k % side - r, global.y + k / side - r);
    if (cost[k] < cost[best]) best = k;
  }
  const int bx = best % side;
  const int by = best / side;
  const auto c = [&](int x, int y) { return static_cast<double>(cost[y * side + x]); };
  if (tx && bx > 0 && bx < side - 1) {
    t.sx = static_cast<float>(global.x + bx - r +
                              equiangular(c(bx - 1, by), c(bx, by), c(bx + 1, by)));
  }
  if (ty && by > 0 && by < side - 1) {
    t.sy = static_cast<float>(global.y + by - r +
                              equiangular(c(bx, by - 1), c(bx, by), c(bx, by + 1)));
  }
}

Status measure_tiles(const cv::Mat& f, const cv::Mat& g, cv::Point global,
                     const LocalRegisterSpec& s, const Checkpoint& cp, Grid& grid) {
  EdgeMaps fe;
  EdgeMaps ge;
  if (edge_maps(f, s.level, cp, fe) == Status::canceled ||
      edge_maps(g, s.level, cp, ge) == Status::canceled) {
    return Status::canceled;
  }
  return parallel_bands(grid.ny, 1, cp, [&](int begin, int end) {
    for (int j = begin; j < end; ++j) {
      for (int i = 0; i < grid.nx; ++i) measure_tile(f, g, fe, ge, global, s, grid.at(i, j));
    }
  });
}

// The measured values of one axis (NaN: not measured), row-major over the grid.
std::vector<float> axis_values(const Grid& grid, bool x) {
  std::vector<float> v(grid.tiles.size());
  for (std::size_t k = 0; k < v.size(); ++k) v[k] = x ? grid.tiles[k].sx : grid.tiles[k].sy;
  return v;
}

// Drops values more than max_step off the median of their measured 8-neighbours (3 or more).
void drop_outliers(int nx, int ny, double max_step, std::vector<float>& v) {
  const std::vector<float> in = v;
  std::vector<float> near;
  for (int j = 0; j < ny; ++j) {
    for (int i = 0; i < nx; ++i) {
      const float here = in[static_cast<std::size_t>(j) * nx + i];
      if (std::isnan(here)) continue;
      near.clear();
      for (int jj = std::max(0, j - 1); jj <= std::min(ny - 1, j + 1); ++jj) {
        for (int ii = std::max(0, i - 1); ii <= std::min(nx - 1, i + 1); ++ii) {
          const float n = in[static_cast<std::size_t>(jj) * nx + ii];
          if ((ii != i || jj != j) && !std::isnan(n)) near.push_back(n);
        }
      }
      if (near.size() < 3) continue;
      std::nth_element(near.begin(), near.begin() + static_cast<std::ptrdiff_t>(near.size() / 2),
                       near.end());
      if (std::abs(here - near[near.size() / 2]) > max_step) {
        v[static_cast<std::size_t>(j) * nx + i] = NAN;
      }
    }
  }
}

// A plane v = a + b x + c y over the tile centres (x, y in tiles), fitted robustly: iteratively
// reweighted least squares with Tukey's biweight, starting from the median; a constant (the
// median) with fewer than 6 values, `fallback` with none.
struct Plane {
  double a = 0;
  double b = 0;
  double c = 0;
  [[nodiscard]] double at(int i, int j) const { return a + b * i + c * j; }
};

Plane fit_plane(int nx, int ny, const std::vector<float>& v, float fallback) {
  std::vector<float> known;
  for (const float x : v) {
    if (!std::isnan(x)) known.push_back(x);
  }
  if (known.empty()) return {fallback, 0, 0};
  std::nth_element(known.begin(), known.begin() + static_cast<std::ptrdiff_t>(known.size() / 2),
                   known.end());
  Plane p{known[known.size() / 2], 0, 0};
  if (known.size() < 6) return p;
  for (int iter = 0; iter < 6; ++iter) {
    const double c = iter == 0 ? 3.0 : 1.0;  // px: wide first, while the model is the median
    Eigen::Matrix3d ata = Eigen::Matrix3d::Zero();
    Eigen::Vector3d atb = Eigen::Vector3d::Zero();
    for (int j = 0; j < ny; ++j) {
      for (int i = 0; i < nx; ++i) {
        const float x = v[static_cast<std::size_t>(j) * nx + i];
        if (std::isnan(x)) continue;
        const double r = (x - p.at(i, j)) / c;
        const double w = std::abs(r) < 1 ? (1 - r * r) * (1 - r * r) : 0;
        const Eigen::Vector3d row(1, i, j);
        ata += w * row * row.transpose();
        atb += w * x * row;
      }
    }
    if (std::abs(ata.determinant()) < 1e-6) break;
    const Eigen::Vector3d sol = ata.ldlt().solve(atb);
    p = {sol(0), sol(1), sol(2)};
  }
  return p;
}

// Where a tile's measured shift is more than max_dev off the planes (or not measured), the planes'
// shift takes its place unless the tile's own costs reject it: a measurement that is no better
// than the plane's shift was ambiguous (a periodic or one-directional pattern), one that is
// clearly better is a real local deviation and stays.
void settle_on_planes(Grid& grid, const Plane& px, const Plane& py, double max_dev,
                      std::vector<float>& vx, std::vector<float>& vy) {
  for (int j = 0; j < grid.ny; ++j) {
    for (int i = 0; i < grid.nx; ++i) {
      const std::size_t k = static_cast<std::size_t>(j) * grid.nx + i;
      const double mx = px.at(i, j);
      const double my = py.at(i, j);
      const bool off_x = std::isnan(vx[k]) || std::abs(vx[k] - mx) > max_dev;
      const bool off_y = std::isnan(vy[k]) || std::abs(vy[k] - my) > max_dev;
      if (!off_x && !off_y) continue;
      const Tile& t = grid.tiles[k];
      const float sx = off_x ? static_cast<float>(mx) : vx[k];
      const float sy = off_y ? static_cast<float>(my) : vy[k];
      const std::int64_t at_plane =
          t.cost_at(static_cast<int>(std::lround(sx)), static_cast<int>(std::lround(sy)));
      const std::int64_t best =
          t.cost.empty() ? 0 : *std::min_element(t.cost.begin(), t.cost.end());
      const bool measured = !std::isnan(vx[k]) || !std::isnan(vy[k]);
      const double slack = 1.25 * static_cast<double>(best) + 4.0 * t.rect.area();
      if (measured && at_plane >= 0 && static_cast<double>(at_plane) > slack) continue;
      if (measured && at_plane < 0) continue;  // the plane is outside the searched window
      vx[k] = std::isnan(vx[k]) || off_x ? sx : vx[k];
      vy[k] = std::isnan(vy[k]) || off_y ? sy : vy[k];
    }
  }
}

// Bilinear interpolation between tile centres along one axis: for each pixel, the lower tile and
// the weight of the upper one (clamped outside the first and last centres).
struct Lerp {
  std::vector<int> lo;
  std::vector<float> w;
};

Lerp lerp_axis(int pixels, int tiles, int tile_px) {
  Lerp l{std::vector<int>(static_cast<std::size_t>(pixels)),
         std::vector<float>(static_cast<std::size_t>(pixels))};
  for (int p = 0; p < pixels; ++p) {
    const double t = std::clamp((p + 0.5) / tile_px - 0.5, 0.0, static_cast<double>(tiles - 1));
    const int lo = std::min(static_cast<int>(t), std::max(tiles - 2, 0));
    l.lo[p] = lo;
    l.w[p] = tiles > 1 ? static_cast<float>(t - lo) : 0.0f;
  }
  return l;
}

struct Field {
  int nx = 0;
  int ny = 0;
  std::vector<float> sx;  // per tile, row-major
  std::vector<float> sy;
  Lerp cols;
  Lerp rows;
  // One pixel row of a map: x - sx(x, y) (or y - sy(x, y)), bilinear between tile centres.
  void map_row(const std::vector<float>& v, int y, bool x_axis, float* out) const {
    const std::size_t j = static_cast<std::size_t>(rows.lo[y]);
    const std::size_t j1 = std::min<std::size_t>(j + 1, static_cast<std::size_t>(ny - 1));
    const float wy = rows.w[y];
    const std::size_t n = static_cast<std::size_t>(nx);
    std::vector<float> row(n);
    for (std::size_t i = 0; i < n; ++i) row[i] = v[j * n + i] * (1 - wy) + v[j1 * n + i] * wy;
    for (std::size_t x = 0; x < cols.lo.size(); ++x) {
      const std::size_t i = static_cast<std::size_t>(cols.lo[x]);
      const std::size_t i1 = std::min(i + 1, n - 1);
      const float shift = row[i] * (1 - cols.w[x]) + row[i1] * cols.w[x];
      out[x] = static_cast<float>(x_axis ? static_cast<int>(x) : y) - shift;
    }
  }
};

// warped = golden resampled through the field, the frame's own value where no reference exists.
Status warp(const cv::Mat& f, const cv::Mat& g, const Field& field, int band, const Checkpoint& cp,
            cv::Mat& warped) {
  warped.create(f.size(), CV_8UC1);
  return parallel_bands(f.rows, band, cp, [&](int begin, int end) {
    cv::Mat mx(end - begin, f.cols, CV_32F);
    cv::Mat my(end - begin, f.cols, CV_32F);
    for (int y = begin; y < end; ++y) {
      field.map_row(field.sx, y, true, mx.ptr<float>(y - begin));
      field.map_row(field.sy, y, false, my.ptr<float>(y - begin));
    }
    cv::Mat out = warped.rowRange(begin, end);
    f.rowRange(begin, end).copyTo(out);
    cv::remap(g, out, mx, my, cv::INTER_LINEAR, cv::BORDER_TRANSPARENT);
  });
}

// Share of r's pixels that differ by more than `level` from every warped pixel within `tol`. Most
// tiles of a registered frame have no pixel off its own warped value by that much: one vector
// pass (cv::norm, the largest difference) settles those before the neighbourhood test.
float tile_residual(const cv::Mat& f, const cv::Mat& w, const cv::Rect& r, int level, int tol) {
  if (cv::norm(f(r), w(r), cv::NORM_INF) <= level) return 0.f;
  int changed = 0;
  for (int y = r.y; y < r.y + r.height; ++y) {
    const auto* fr = f.ptr<std::uint8_t>(y);
    const auto* wr = w.ptr<std::uint8_t>(y);
    for (int x = r.x; x < r.x + r.width; ++x) {
      if (std::abs(fr[x] - wr[x]) <= level) continue;
      int lo = 255;
      int hi = 0;
      for (int yy = std::max(0, y - tol); yy <= std::min(w.rows - 1, y + tol); ++yy) {
        const auto* row = w.ptr<std::uint8_t>(yy);
        for (int xx = std::max(0, x - tol); xx <= std::min(w.cols - 1, x + tol); ++xx) {
          lo = std::min<int>(lo, row[xx]);
          hi = std::max<int>(hi, row[xx]);
        }
      }
      changed += (fr[x] - hi > level || lo - fr[x] > level) ? 1 : 0;
    }
  }
  return static_cast<float>(changed) / static_cast<float>(std::max(r.area(), 1));
}

Status residuals(const cv::Mat& f, const LocalRegisterSpec& s, const Checkpoint& cp, Grid& grid,
                 LocalRegistration& reg) {
  reg.residual.create(grid.ny, grid.nx, CV_32F);
  return parallel_bands(grid.ny, 1, cp, [&](int begin, int end) {
    for (int j = begin; j < end; ++j) {
      for (int i = 0; i < grid.nx; ++i) {
        reg.residual.at<float>(j, i) =
            tile_residual(f, reg.warped, grid.at(i, j).rect, s.level, s.tolerance_px);
      }
    }
  });
}

// The fitted field: measured values, outliers dropped, then settled on the robust planes.
void fit_field(Grid& grid, const LocalRegisterSpec& s, cv::Point global, std::vector<float>& vx,
               std::vector<float>& vy) {
  vx = axis_values(grid, true);
  vy = axis_values(grid, false);
  drop_outliers(grid.nx, grid.ny, s.max_step_px, vx);
  drop_outliers(grid.nx, grid.ny, s.max_step_px, vy);
  const Plane px = fit_plane(grid.nx, grid.ny, vx, static_cast<float>(global.x));
  const Plane py = fit_plane(grid.nx, grid.ny, vy, static_cast<float>(global.y));
  settle_on_planes(grid, px, py, s.max_plane_dev_px, vx, vy);
  for (std::size_t k = 0; k < vx.size(); ++k) {  // kept measurements of one axis only
    if (std::isnan(vx[k]))
      vx[k] =
          static_cast<float>(px.at(static_cast<int>(k) % grid.nx, static_cast<int>(k) / grid.nx));
    if (std::isnan(vy[k]))
      vy[k] =
          static_cast<float>(py.at(static_cast<int>(k) % grid.nx, static_cast<int>(k) / grid.nx));
  }
}

// Counts of textured and measured tiles (before outliers are dropped, which only repairs them).
void count_tiles(const Grid& grid, const LocalRegisterSpec& s, LocalRegistration& reg) {
  for (const Tile& t : grid.tiles) {
    const bool tx = t.edges_x >= s.min_edges;
    const bool ty = t.edges_y >= s.min_edges;
    if (!tx && !ty) continue;
    ++reg.textured_tiles;
    if ((!tx || !std::isnan(t.sx)) && (!ty || !std::isnan(t.sy))) ++reg.registered_tiles;
  }
}

void verdict(const Grid& grid, const LocalRegisterSpec& s, double confidence,
             LocalRegistration& reg) {
  long frame_edges = 0;
  long golden_edges = 0;
  for (const Tile& t : grid.tiles) {
    frame_edges += t.frame_edges;
    golden_edges += t.edges_x + t.edges_y;
  }
  cv::Point max_at;
  cv::minMaxLoc(reg.residual, nullptr, &reg.max_residual, nullptr, &max_at);
  reg.bad_tiles = cv::countNonZero(reg.residual > s.max_tile_residual);
  const auto fail = [&reg](std::string why) {
    reg.reliable = false;
    reg.reason = std::move(why);
  };
  if (reg.textured_tiles == 0) {
    // Nothing in the reference to register against: any shift compares the same (a defect on a
    // bare board stays a difference; a blank reference is no misregistration).
  } else if (confidence < s.min_confidence) {
    fail("alignment confidence " + std::to_string(confidence) + " below " +
         std::to_string(s.min_confidence));
  } else if (golden_edges > 0 && frame_edges * 10 < golden_edges) {
    fail("blank frame: " + std::to_string(frame_edges) + " edge pixels, the reference has " +
         std::to_string(golden_edges));
  } else if (reg.textured_tiles >= s.min_textured &&
             reg.registered_tiles < s.min_registered * reg.textured_tiles) {
    fail("registration: " + std::to_string(reg.registered_tiles) + " of " +
         std::to_string(reg.textured_tiles) + " textured tiles measured");
  } else if (reg.bad_tiles > s.max_bad_tiles) {
    fail("registration residual: " + std::to_string(reg.bad_tiles) + " tiles above " +
         std::to_string(s.max_tile_residual) + " (worst " + std::to_string(reg.max_residual) +
         " at tile " + std::to_string(max_at.x) + "," + std::to_string(max_at.y) + ")");
  }
}

}  // namespace

LocalRegistration register_local(const cv::Mat& frame, const cv::Mat& golden, cv::Point global,
                                 double confidence, const LocalRegisterSpec& spec,
                                 const Checkpoint& cp) {
  validate(frame, golden, spec);
  LocalRegistration reg;
  reg.global = global;
  Grid grid = make_grid(frame.size(), spec.tile_px);
  if (measure_tiles(frame, golden, global, spec, cp, grid) == Status::canceled) {
    reg.status = Status::canceled;
    return reg;
  }
  count_tiles(grid, spec, reg);
  Field field{grid.nx,
              grid.ny,
              {},
              {},
              lerp_axis(frame.cols, grid.nx, spec.tile_px),
              lerp_axis(frame.rows, grid.ny, spec.tile_px)};
  fit_field(grid, spec, global, field.sx, field.sy);
  reg.shift_x = cv::Mat(grid.ny, grid.nx, CV_32F, field.sx.data()).clone();
  reg.shift_y = cv::Mat(grid.ny, grid.nx, CV_32F, field.sy.data()).clone();
  reg.mean_shift = {cv::mean(reg.shift_x)[0], cv::mean(reg.shift_y)[0]};
  if (warp(frame, golden, field, spec.tile_px, cp, reg.warped) == Status::canceled ||
      residuals(frame, spec, cp, grid, reg) == Status::canceled) {
    reg.status = Status::canceled;
    return reg;
  }
  verdict(grid, spec, confidence, reg);
  return reg;
}

DetectOutput detect_registered(const cv::Mat& frame, const cv::Mat& golden,
                               const DetectionSpec& spec, const LocalRegisterSpec& rs,
                               const Checkpoint& cp, LocalRegistration& reg,
                               const GoldenPyramid* pyramid) {
  DetectOutput out;
  const AlignResult a = align(frame, golden, spec.max_shift_px, spec.band_rows, cp, pyramid);
  if (a.status == Status::canceled) {
    out.status = Status::canceled;
    return out;
  }
  reg = register_local(frame, golden, {a.dx, a.dy}, a.confidence, rs, cp);
  if (reg.status == Status::canceled) {
    out.status = Status::canceled;
    return out;
  }
  DetectionSpec local = spec;
  local.max_shift_px = 0;  // the warped reference is registered already
  out = detect(frame, reg.warped, local, cp);
  out.align_confidence = a.confidence;
  out.subpixel_dx = a.subpixel_dx;
  out.subpixel_dy = a.subpixel_dy;
  out.reliable = reg.reliable;
  out.unreliable_reason = reg.reason;
  return out;
}

}  // namespace ws::kernels
