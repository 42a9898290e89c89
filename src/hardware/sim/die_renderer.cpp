#include "hardware/sim/die_renderer.hpp"

#include "hardware/sim/die_pattern.hpp"
#include "waferscan/error.hpp"

#include <opencv2/imgproc.hpp>

#include <cmath>
#include <string>

namespace ws::sim {

namespace {

// Salts keep the die's random streams independent: changing the defect count does not move the
// shift or the noise.
constexpr std::uint64_t salt_shift = 1;
constexpr std::uint64_t salt_defects = 2;
constexpr std::uint64_t salt_noise = 3;

constexpr int max_defects_per_die = 64;

[[noreturn]] void reject(const Recipe& recipe, const std::string& key, const std::string& what) {
  throw ConfigError(recipe.path.string(), 0, key, what);
}

/// Linear ramp from one corner to the opposite one, mean 1, total change `strength`.
cv::Mat make_flat(cv::Size size, double strength) {
  cv::Mat flat(size, CV_32F);
  const double sx = size.width > 1 ? 1.0 / (size.width - 1) : 0.0;
  const double sy = size.height > 1 ? 1.0 / (size.height - 1) : 0.0;
  for (int y = 0; y < size.height; ++y) {
    auto* row = flat.ptr<float>(y);
    for (int x = 0; x < size.width; ++x) {
      const double t = 0.5 * (x * sx + y * sy);  // 0 at top-left, 1 at bottom-right
      row[x] = static_cast<float>(1.0 + strength * (t - 0.5));
    }
  }
  return flat;
}

}  // namespace

DieRenderer::DieRenderer(const Recipe& recipe)
    : seed_(recipe.seed),
      frame_(recipe.camera.width, recipe.camera.height),
      noise_sigma_(recipe.simulation.noise_sigma),
      defects_per_site_(recipe.simulation.defects_per_site) {
  const auto& cam = recipe.camera;
  const auto& sim = recipe.simulation;
  if (!(cam.pixel_size_um > 0.0)) reject(recipe, "camera.pixel_size_um", "must be > 0");
  if (!(recipe.stage.position_jitter_um >= 0.0))
    reject(recipe, "stage.position_jitter_um", "must be >= 0");
  if (!(sim.noise_sigma >= 0.0)) reject(recipe, "simulation.noise_sigma", "must be >= 0");
  if (!(sim.defects_per_site >= 0.0)) reject(recipe, "simulation.defects_per_site", "must be >= 0");
  if (!(sim.illumination_gradient >= 0.0 && sim.illumination_gradient < 1.0))
    reject(recipe, "simulation.illumination_gradient", "must be in [0, 1)");
  max_shift_ = static_cast<int>(std::lround(recipe.stage.position_jitter_um / cam.pixel_size_um));
  const int border = defect_border_px + max_shift_;
  const int min_side = 2 * border + 64;
  if (cam.width < min_side || cam.height < min_side)
    reject(recipe, "camera",
           "frame must be at least " + std::to_string(min_side) +
               " px a side for this jitter (got " + std::to_string(cam.width) + "x" +
               std::to_string(cam.height) + ")");
  for (const auto& name : sim.defect_classes) {
    const auto cls = parse_defect_class(name);
    if (!cls)
      reject(recipe, "simulation.defect_classes",
             "unknown defect class '" + name + "' (expected particle, scratch, residue, pattern)");
    classes_.emplace_back(*cls, name);
  }

  base_ = render_die_pattern(frame_.width, frame_.height, max_shift_);
  base_(cv::Rect(cv::Point(max_shift_, max_shift_), frame_)).convertTo(golden_, CV_8U);
  flat_ = make_flat(frame_, sim.illumination_gradient);
  dark_flat_ = flat_ * dark_gain;
}

DiePlan DieRenderer::plan(int die_i, int die_j) const {
  DiePlan plan;
  Rng shift_rng(die_seed(seed_, die_i, die_j, salt_shift));
  plan.shift.x = shift_rng.uniform_int(-max_shift_, max_shift_);
  plan.shift.y = shift_rng.uniform_int(-max_shift_, max_shift_);
  if (classes_.empty()) return plan;

  Rng rng(die_seed(seed_, die_i, die_j, salt_defects));
  const int count = rng.poisson(defects_per_site_, max_defects_per_die);
  const int border = defect_border_px + max_shift_;
  const cv::Rect region(border, border, frame_.width - 2 * border, frame_.height - 2 * border);
  const cv::Mat die = base_(cv::Rect(cv::Point(max_shift_, max_shift_), frame_));
  std::vector<cv::Rect> taken;
  for (int k = 0; k < count; ++k) {
    const auto& [cls, name] = classes_[static_cast<std::size_t>(
        rng.uniform_int(0, static_cast<int>(classes_.size()) - 1))];
    // A die too crowded for another defect simply gets fewer; the truth lists what was painted.
    auto painted = paint_defect(cls, name, die, region, taken, rng);
    if (!painted) continue;
    taken.push_back(painted->bbox);
    plan.defects.push_back(std::move(*painted));
  }
  return plan;
}

std::vector<TrueDefect> DieRenderer::truth(int die_i, int die_j) const {
  const DiePlan p = plan(die_i, die_j);
  std::vector<TrueDefect> out;
  out.reserve(p.defects.size());
  for (const auto& d : p.defects) out.push_back({d.bbox + p.shift, d.class_name});
  return out;
}

cv::Mat DieRenderer::render(int die_i, int die_j, bool light_on) const {
  const DiePlan p = plan(die_i, die_j);
  // Frame pixel q shows die pixel q - shift, which is base_ pixel q - shift + max_shift.
  const cv::Rect roi(cv::Point(max_shift_ - p.shift.x, max_shift_ - p.shift.y), frame_);
  cv::Mat ideal = base_(roi).clone();
  for (const auto& d : p.defects) d.values.copyTo(ideal(d.bbox + p.shift), d.mask);

  cv::multiply(ideal, light_on ? flat_ : dark_flat_, ideal);
  if (noise_sigma_ > 0.0) {
    cv::Mat noise(frame_, CV_32F);
    cv::RNG rng(die_seed(seed_, die_i, die_j, salt_noise));
    rng.fill(noise, cv::RNG::NORMAL, 0.0, noise_sigma_);
    ideal += noise;
  }
  cv::Mat frame;
  ideal.convertTo(frame, CV_8U);  // rounds and saturates
  return frame;
}

}  // namespace ws::sim
