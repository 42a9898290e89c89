#include "inspect/evaluation.hpp"

#include "waferscan/error.hpp"

#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <regex>
#include <stdexcept>

namespace ws::inspect {

using classify::label_blobs;

namespace {
// The set's golden reference for frame `f`, which has none of its own. An image that cannot be
// read refuses the set, as in reprocess.
cv::Mat golden_for(const Manifest& m, const FrameEntry& f) {
  if (m.golden.empty()) {
    throw ConfigError(m.path.string(), f.line, "reference",
                      "this frame has no reference and the set has no golden reference");
  }
  SetImage golden = read_golden(m);
  if (!golden.ok()) throw ConfigError(m.path.string(), 0, "golden", golden.error);
  return golden.image;
}
}  // namespace

std::vector<LabelledFrame> load_labelled_frames(const Manifest& m) {
  std::vector<LabelledFrame> out;
  cv::Mat golden;
  for (const FrameEntry& f : m.frames) {
    if (!f.truth) continue;
    FrameImages images = read_frame_images(m, f);
    if (!images.ok()) throw ConfigError(m.path.string(), f.line, "", images.error);
    LabelledFrame lf;
    lf.name = f.name;
    lf.site_index = f.site_index;
    lf.frame = std::move(images.frame);
    if (!images.reference.empty()) {
      lf.reference = std::move(images.reference);
    } else {
      if (golden.empty()) golden = golden_for(m, f);
      lf.reference = golden;
    }
    lf.truth = *f.truth;
    out.push_back(std::move(lf));
  }
  return out;
}

std::vector<FrameDetection> detect_frames(const std::vector<LabelledFrame>& frames,
                                          const FrameInspector& inspector) {
  std::vector<FrameDetection> out(frames.size());
  tbb::parallel_for(std::size_t{0}, frames.size(), [&](std::size_t i) {
    const LabelledFrame& f = frames[i];
    cv::Mat pre;
    out[i].step = inspector.preprocess(f.frame, cv::Mat(), f.reference.size(), Checkpoint{}, pre);
    if (out[i].step.ok()) out[i] = inspector.detect(pre, f.reference, Checkpoint{});
  });
  return out;
}

std::vector<std::vector<BlobFeatures>> blobs_of(const std::vector<FrameDetection>& detections) {
  std::vector<std::vector<BlobFeatures>> out;
  out.reserve(detections.size());
  for (const FrameDetection& d : detections) out.push_back(d.blobs);
  return out;
}

Examples collect_examples(const std::vector<LabelledFrame>& frames,
                          const std::vector<std::vector<BlobFeatures>>& blobs,
                          const std::vector<std::size_t>& which, double min_cover,
                          const std::string& reject_label) {
  Examples ex;
  for (const std::size_t i : which) {
    const auto labels = label_blobs(blobs[i], frames[i].truth, min_cover);
    for (std::size_t b = 0; b < labels.size(); ++b) {
      if (!labels[b]) {
        ++ex.unlabelled;
        if (!reject_label.empty()) {
          ex.features.push_back(blobs[i][b]);
          ex.labels.push_back(reject_label);
        }
        continue;
      }
      ex.features.push_back(blobs[i][b]);
      ex.labels.push_back(*labels[b]);
    }
  }
  return ex;
}

void score_frames(const Classifier& model, const std::vector<LabelledFrame>& frames,
                  const std::vector<std::vector<BlobFeatures>>& blobs,
                  const std::vector<std::size_t>& which, Scorer& scorer) {
  for (const std::size_t i : which) {
    std::vector<Defect> defects = as_defects(blobs[i]);
    model.classify(defects);
    scorer.add(defects, frames[i].truth);
  }
}

namespace {
// Adds fold `fold_of[i] == k` of the frames to `result`, scored by a model trained on the others.
void score_fold(const std::vector<LabelledFrame>& frames,
                const std::vector<std::vector<BlobFeatures>>& blobs, const TrainOptions& options,
                const std::vector<int>& fold_of, int k, double min_iou, CrossvalResult& result) {
  std::vector<std::size_t> train;
  std::vector<std::size_t> test;
  for (std::size_t i = 0; i < frames.size(); ++i) (fold_of[i] == k ? test : train).push_back(i);
  const Examples ex = collect_examples(frames, blobs, train, 0.3, options.reject_label);
  const Classifier model = Classifier::train(ex.features, ex.labels, options);
  Scorer fold(min_iou);
  Scorer located(min_iou);
  for (const std::size_t i : test) {
    std::vector<Defect> defects = as_defects(blobs[i]);
    model.classify(defects);
    fold.add(defects, frames[i].truth);
    result.pooled.add(defects, frames[i].truth);
    std::vector<LabelledDefect> truth = frames[i].truth;
    for (auto& d : defects) d.class_name = "defect";
    for (auto& t : truth) t.class_name = "defect";
    result.agnostic.add(defects, truth);
    located.add(defects, truth);
  }
  result.fold_agnostic.push_back(located.overall());
  result.per_fold.push_back(fold.overall());
  result.fold_scores.push_back(std::move(fold));
}
}  // namespace

CrossvalResult crossval(const std::vector<LabelledFrame>& frames,
                        const std::vector<std::vector<BlobFeatures>>& blobs,
                        const TrainOptions& options, int folds, double min_iou) {
  if (folds < 2 || static_cast<std::size_t>(folds) > frames.size()) {
    throw std::invalid_argument("crossval: need 2 <= folds <= frames");
  }
  std::vector<int> fold_of(frames.size());
  for (std::size_t i = 0; i < frames.size(); ++i) {
    fold_of[i] = static_cast<int>(i % static_cast<std::size_t>(folds));
  }
  CrossvalResult result{Scorer(min_iou), Scorer(min_iou), {}, {}, {}, {}};
  for (int k = 0; k < folds; ++k) {
    result.fold_names.push_back(std::to_string(k + 1));
    score_fold(frames, blobs, options, fold_of, k, min_iou, result);
  }
  return result;
}

std::vector<std::string> group_names(const std::vector<std::string>& names,
                                     const std::string& rule) {
  static const std::regex first_digits(R"(^\s*first\s+(\d+)\s+digits?\s*$)");
  std::smatch m;
  std::string pattern = rule;
  if (std::regex_match(rule, m, first_digits)) {
    const int n = std::stoi(m[1].str());
    if (n < 1) throw std::invalid_argument("group rule: \"" + rule + "\": N must be >= 1");
    pattern = "^(\\d{" + std::to_string(n) + "})";
  }
  std::regex re;
  try {
    re = std::regex(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    throw std::invalid_argument("group rule: \"" + rule + "\" is no regex: " + e.what());
  }
  std::vector<std::string> out;
  out.reserve(names.size());
  for (const std::string& name : names) {
    std::smatch g;
    if (!std::regex_search(name, g, re)) {
      std::string what = "group rule \"";
      what += rule;
      what += "\" does not match frame ";
      what += name;
      throw std::invalid_argument(what);
    }
    out.push_back(g.size() > 1 ? g[1].str() : g[0].str());
  }
  return out;
}

CrossvalResult crossval_groups(const std::vector<LabelledFrame>& frames,
                               const std::vector<std::vector<BlobFeatures>>& blobs,
                               const TrainOptions& options, const std::vector<std::string>& groups,
                               double min_iou) {
  if (groups.size() != frames.size() || blobs.size() != frames.size()) {
    throw std::invalid_argument("crossval_groups: one group and one blob list per frame");
  }
  std::vector<std::string> names = groups;
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  if (names.size() < 2) throw std::invalid_argument("crossval_groups: need two groups or more");
  std::vector<int> fold_of(frames.size());
  for (std::size_t i = 0; i < frames.size(); ++i) {
    fold_of[i] =
        static_cast<int>(std::lower_bound(names.begin(), names.end(), groups[i]) - names.begin());
  }
  CrossvalResult result{Scorer(min_iou), Scorer(min_iou), {}, names, {}, {}};
  for (int k = 0; k < static_cast<int>(names.size()); ++k) {
    score_fold(frames, blobs, options, fold_of, k, min_iou, result);
  }
  return result;
}

Throughput measure_fps(const std::vector<LabelledFrame>& frames, const Classifier& model,
                       const FrameInspector& inspector, int threads, int repeat) {
  const auto cpu_seconds = [] {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
  };
  tbb::task_arena arena(std::max(threads, 1));
  std::vector<double> rates;
  std::vector<double> cpu;
  const auto n = static_cast<double>(frames.size());
  for (int r = 0; r < std::max(repeat, 1); ++r) {
    const double cpu0 = cpu_seconds();
    const auto start = std::chrono::steady_clock::now();
    arena.execute([&] {
      tbb::parallel_for(std::size_t{0}, frames.size(), [&](std::size_t i) {
        const auto d =
            inspector.inspect(frames[i].frame, frames[i].reference, cv::Mat(), model, Checkpoint{});
        (void)d;
      });
    });
    const std::chrono::duration<double> s = std::chrono::steady_clock::now() - start;
    rates.push_back(n / s.count());
    cpu.push_back((cpu_seconds() - cpu0) * 1000.0 / n);
  }
  std::sort(rates.begin(), rates.end());
  std::sort(cpu.begin(), cpu.end());
  return {rates[rates.size() / 2], cpu[cpu.size() / 2]};
}

}  // namespace ws::inspect
