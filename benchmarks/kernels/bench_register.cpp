// Registration benchmark: waferscan's align() and register_local() beside OpenCV's phaseCorrelate
// and findTransformECC on the same real DeepPCB pairs, single thread: time per pair, and the
// residual each method's model leaves (REGISTER.md says how to run it and what it found).
#include "kernels/align.hpp"
#include "kernels/register_local.hpp"

#include <benchmark/benchmark.h>
#include <oneapi/tbb/global_control.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/video/tracking.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace kn = ws::kernels;
using ws::Checkpoint;

constexpr int kMaxShift = 12;  // DetectionSpec's defaults, which the DeepPCB model keeps
constexpr int kBand = 64;
constexpr int kLevel = 100;  // the model's level and tolerance, for the residual too
constexpr int kBorder = 8;   // the residual ignores this margin of the frame
constexpr double kMinConfidence = 0.2;
constexpr std::size_t kFirst = 40;  // the sample: the first 40 pairs in name order, ...
constexpr std::size_t kEvery = 25;  // ... and every 25th, which spreads over the board groups
constexpr int kEccIterations = 50;
constexpr double kEccEps = 1e-4;
constexpr int kEccGauss = 5;

struct Pair {
  std::string name;
  cv::Mat test;  // the frame
  cv::Mat temp;  // its template (the golden reference)
};

struct Sample {
  fs::path dir;
  std::vector<Pair> pairs;
  std::string error;
};

// WS_BENCH_PAIRS, else the shared copy of DeepPCB, else the repository's three pairs.
fs::path pairs_dir() {
  if (const char* env = std::getenv("WS_BENCH_PAIRS"); env != nullptr && *env != '\0') return env;
  const fs::path shared = "/work/shared/data/deeppcb/pairs";
  std::error_code ec;
  if (fs::is_directory(shared, ec)) return shared;
  return fs::path(WS_SOURCE_DIR) / "data" / "deeppcb";
}

// Names NAME with both NAME_test.jpg and NAME_temp.jpg in `dir`, sorted.
std::vector<std::string> pair_names(const fs::path& dir) {
  const std::string suffix = "_test.jpg";
  std::vector<std::string> names;
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
    const std::string file = e.path().filename().string();
    if (file.size() <= suffix.size() || !file.ends_with(suffix)) continue;
    const std::string stem = file.substr(0, file.size() - suffix.size());
    if (fs::exists(dir / (stem + "_temp.jpg"))) names.push_back(stem);
  }
  std::sort(names.begin(), names.end());
  return names;
}

Sample load_sample() {
  Sample s;
  s.dir = pairs_dir();
  std::error_code ec;
  if (!fs::is_directory(s.dir, ec)) {
    s.error = "no pairs folder " + s.dir.string() + " (set WS_BENCH_PAIRS)";
    return s;
  }
  const std::vector<std::string> names = pair_names(s.dir);
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i >= kFirst && i % kEvery != 0) continue;
    Pair p{names[i], cv::imread((s.dir / (names[i] + "_test.jpg")).string(), cv::IMREAD_GRAYSCALE),
           cv::imread((s.dir / (names[i] + "_temp.jpg")).string(), cv::IMREAD_GRAYSCALE)};
    if (p.test.empty() || p.temp.empty() || p.test.size() != p.temp.size()) {
      s.error = "cannot use pair " + names[i] + " in " + s.dir.string();
      return s;
    }
    s.pairs.push_back(std::move(p));
  }
  if (s.pairs.empty()) s.error = "no NAME_test.jpg + NAME_temp.jpg pairs in " + s.dir.string();
  return s;
}

// Decoded once, before any case times anything.
const Sample& sample() {
  static const Sample s = load_sample();
  return s;
}

// Limits TBB (and OpenCV, whose parallel backend here is TBB) to one thread for one case.
struct SingleThread {
  SingleThread() : control(tbb::global_control::max_allowed_parallelism, 1) {
    cv::setNumThreads(1);
  }
  ~SingleThread() { cv::setNumThreads(-1); }
  SingleThread(const SingleThread&) = delete;
  SingleThread& operator=(const SingleThread&) = delete;
  tbb::global_control control;
};

// One method's model of one pair. Either `affine`, 2x3 CV_32F with frame(x, y) ~ golden(affine *
// (x, y, 1)) (OpenCV's convention for WARP_INVERSE_MAP), or `warped`, the golden image already
// resampled onto the frame (register_local).
struct Model {
  cv::Mat affine;
  cv::Mat warped;
  bool failed = false;      // ECC threw; `affine` is then its initial value (phaseCorrelate's)
  bool unreliable = false;  // waferscan's own verdict on the pair
};

cv::Mat translation(double tx, double ty) {
  return (cv::Mat_<float>(2, 3) << 1.f, 0.f, static_cast<float>(tx), 0.f, 1.f,
          static_cast<float>(ty));
}

kn::LocalRegisterSpec local_spec() {
  kn::LocalRegisterSpec s;  // the shipped DeepPCB model's settings (frame_inspector.cpp)
  s.tile_px = 64;
  s.level = kLevel;
  s.tolerance_px = 1;
  s.min_confidence = kMinConfidence;
  return s;
}

Model waferscan_global(const Pair& p) {
  const kn::AlignResult a = kn::align(p.test, p.temp, kMaxShift, kBand, Checkpoint{});
  Model m;
  m.affine = translation(-a.dx, -a.dy);
  m.unreliable = a.confidence < kMinConfidence;
  return m;
}

Model waferscan_local(const Pair& p) {
  const kn::AlignResult a = kn::align(p.test, p.temp, kMaxShift, kBand, Checkpoint{});
  kn::LocalRegistration reg =
      kn::register_local(p.test, p.temp, {a.dx, a.dy}, a.confidence, local_spec(), Checkpoint{});
  Model m;
  m.warped = std::move(reg.warped);
  m.unreliable = !reg.reliable;
  return m;
}

const cv::Mat& hanning(cv::Size size) {
  static std::map<std::pair<int, int>, cv::Mat> cache;  // single thread; made before timing
  cv::Mat& w = cache[{size.width, size.height}];
  if (w.empty()) cv::createHanningWindow(w, size, CV_32F);
  return w;
}

// The shift s with test(x) ~ temp(x - s); the CV_32F copies are part of the cost.
cv::Point2d phase_shift(const Pair& p) {
  cv::Mat test32;
  cv::Mat temp32;
  p.test.convertTo(test32, CV_32F);
  p.temp.convertTo(temp32, CV_32F);
  return cv::phaseCorrelate(temp32, test32, hanning(p.test.size()));
}

Model opencv_phase(const Pair& p) {
  const cv::Point2d s = phase_shift(p);
  Model m;
  m.affine = translation(-s.x, -s.y);
  return m;
}

// ECC with the frame as its template, so the model warps the golden image onto the frame.
Model opencv_ecc(const Pair& p, int motion) {
  Model m = opencv_phase(p);
  cv::Mat w = m.affine.clone();
  const cv::TermCriteria stop(cv::TermCriteria::COUNT + cv::TermCriteria::EPS, kEccIterations,
                              kEccEps);
  try {
    cv::findTransformECC(p.test, p.temp, w, motion, stop, cv::noArray(), kEccGauss);
    m.affine = w;
  } catch (const cv::Exception&) {
    m.failed = true;  // did not converge
  }
  return m;
}

enum class Method { waferscan_global, waferscan_local, opencv_phase, ecc_translation, ecc_affine };

Model estimate(Method method, const Pair& p) {
  switch (method) {
    case Method::waferscan_global:
      return waferscan_global(p);
    case Method::waferscan_local:
      return waferscan_local(p);
    case Method::opencv_phase:
      return opencv_phase(p);
    case Method::ecc_translation:
      return opencv_ecc(p, cv::MOTION_TRANSLATION);
    case Method::ecc_affine:
      return opencv_ecc(p, cv::MOTION_AFFINE);
  }
  return {};
}

// The golden image resampled onto the frame by the model; where the model maps outside the golden
// image, the frame's own value (as register_local fills its `warped`).
cv::Mat warped_golden(const Pair& p, const Model& m) {
  if (!m.warped.empty()) return m.warped;
  const int flags = cv::INTER_LINEAR | cv::WARP_INVERSE_MAP;
  cv::Mat out;
  cv::warpAffine(p.temp, out, m.affine, p.test.size(), flags, cv::BORDER_CONSTANT, 0);
  const cv::Mat full(p.temp.size(), CV_8UC1, cv::Scalar(255));
  cv::Mat cover;
  cv::warpAffine(full, cover, m.affine, p.test.size(), flags, cv::BORDER_CONSTANT, 0);
  p.test.copyTo(out, cover < 255);
  return out;
}

// Share of the pixels inside the border that differ by more than kLevel from every warped pixel
// within 1 px (Chebyshev): above the 3x3 maximum or below the 3x3 minimum by more than kLevel.
double residual(const cv::Mat& frame, const cv::Mat& warped) {
  cv::Mat hi;
  cv::Mat lo;
  cv::dilate(warped, hi, cv::Mat());
  cv::erode(warped, lo, cv::Mat());
  cv::Mat above;
  cv::Mat below;
  cv::subtract(frame, hi, above);  // saturating: 0 where the frame is not above
  cv::subtract(lo, frame, below);
  const cv::Mat bad = (above > kLevel) | (below > kLevel);
  const cv::Rect inner(kBorder, kBorder, frame.cols - 2 * kBorder, frame.rows - 2 * kBorder);
  return static_cast<double>(cv::countNonZero(bad(inner))) / inner.area();
}

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double at = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(at);
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (at - static_cast<double>(lo));
}

struct Quality {
  double median_pct = 0;
  double p90_pct = 0;
  int failed = 0;
  int unreliable = 0;
};

// The setup pass: every pair once, untimed.
Quality quality(Method method, const std::vector<Pair>& pairs) {
  Quality q;
  std::vector<double> shares;
  for (const Pair& p : pairs) {
    const Model m = estimate(method, p);
    q.failed += m.failed ? 1 : 0;
    q.unreliable += m.unreliable ? 1 : 0;
    shares.push_back(residual(p.test, warped_golden(p, m)));
  }
  q.median_pct = 100 * percentile(shares, 0.5);
  q.p90_pct = 100 * percentile(shares, 0.9);
  return q;
}

const Quality& cached_quality(Method method, const std::vector<Pair>& pairs) {
  static std::map<Method, Quality> cache;  // once per method, not once per repetition
  auto it = cache.find(method);
  if (it == cache.end()) it = cache.emplace(method, quality(method, pairs)).first;
  return it->second;
}

void bm_register(benchmark::State& state, Method method) {
  const Sample& s = sample();
  if (!s.error.empty()) {
    state.SkipWithError(s.error.c_str());
    return;
  }
  const SingleThread one;
  const Quality& q = cached_quality(method, s.pairs);
  int failed = 0;
  for (auto _ : state) {
    for (const Pair& p : s.pairs) {
      Model m = estimate(method, p);
      failed += m.failed ? 1 : 0;
      benchmark::DoNotOptimize(m);
    }
  }
  benchmark::DoNotOptimize(failed);
  const auto n = static_cast<double>(s.pairs.size());
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(s.pairs.size()));
  state.counters["pairs"] = n;
  state.counters["per_pair"] = benchmark::Counter(
      n, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["residual_median"] = q.median_pct;  // percent of the inner pixels
  state.counters["residual_p90"] = q.p90_pct;
  if (method == Method::ecc_translation || method == Method::ecc_affine) {
    state.counters["failures"] = q.failed;
  } else if (method == Method::waferscan_global || method == Method::waferscan_local) {
    state.counters["unreliable"] = q.unreliable;  // waferscan's own verdict; OpenCV gives none
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const std::pair<const char*, Method> cases[] = {
      {"register/waferscan_global", Method::waferscan_global},
      {"register/waferscan_local", Method::waferscan_local},
      {"register/opencv_phase_correlate", Method::opencv_phase},
      {"register/opencv_ecc_translation", Method::ecc_translation},
      {"register/opencv_ecc_affine", Method::ecc_affine},
  };
  for (const auto& [name, method] : cases) {
    benchmark::RegisterBenchmark(name, bm_register, method)->Unit(benchmark::kMillisecond);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
