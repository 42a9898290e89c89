// `waferscan import pairs`, `train`, `score` and `crossval`: classification on labelled image sets.
#include "app/commands.hpp"
#include "app/run_wiring.hpp"
#include "base/json_text.hpp"
#include "classify/features.hpp"
#include "inspect/evaluation.hpp"
#include "io/import_pairs.hpp"
#include "store/run_owner.hpp"
#include "waferscan/error.hpp"
#include "waferscan/recorded_set.hpp"
#include "waferscan/store.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

namespace ws::app {

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

/// The DeepPCB layout's class numbers 1..6. Only the default of `import pairs --classes`: the names
/// are written into the set's manifest, and everything after import reads them from there.
constexpr const char* kDeepPcbClasses = "open,short,mousebite,spur,copper,pin-hole";

std::vector<std::string> split_names(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream in(list);
  for (std::string name; std::getline(in, name, ',');) out.push_back(name);
  return out;
}

int cmd_import_pairs(const std::string& dir, const std::string& out, const std::string& classes) {
  io::check_import_target(out);
  // Built beside its place and renamed into it at the end: a failed import leaves nothing.
  io::StagedFolder staging(out);
  Manifest m = io::import_pairs(dir, staging.path(), split_names(classes));
  io::record_frame_sizes(m, dir);
  m.lot_id = fs::path(dir).filename().string();
  int labelled = 0;
  int defects = 0;
  for (const FrameEntry& f : m.frames) {
    if (!f.truth) continue;
    ++labelled;
    defects += static_cast<int>(f.truth->size());
  }
  save_manifest(m);
  staging.commit();
  m.path = fs::absolute(out) / "manifest.yaml";
  std::printf("imported %zu pairs (%d labelled, %d defects) into %s\n", m.frames.size(), labelled,
              defects, m.path.string().c_str());
  return 0;
}

/// Detection settings for `train`: the defaults suit binarised pairs (DeepPCB): the difference of
/// two binary images is ~0 or ~255, so a fixed level well above JPEG noise; every step documented
/// in docs/classification.md.
struct ProfileArgs {
  DetectionProfile p = [] {
    DetectionProfile d;
    d.spec.threshold_sigma = 0;
    d.spec.min_threshold = 100;
    d.spec.min_area_px = 12;
    d.spec.max_shift_px = 12;
    d.merge_px = 4;
    d.context_margin_px = 6;
    d.context_min_contrast = 64;
    d.context_min_component_px = 20;
    d.box_margin_px = 8;
    d.tolerance_px = 1;
    d.min_core_fraction = 0.1;
    d.register_tile_px = 64;
    return d;
  }();
  void add(CLI::App* sub) {
    sub->add_option("--min-threshold", p.spec.min_threshold, "Difference level, grey levels")
        ->capture_default_str();
    sub->add_option("--max-shift", p.spec.max_shift_px, "Alignment search radius, pixels")
        ->capture_default_str()
        ->check(CLI::Range(0, 256));
    sub->add_option("--min-area", p.spec.min_area_px, "Smallest blob, pixels")
        ->capture_default_str();
    sub->add_option("--tolerance", p.tolerance_px,
                    "Misregistration the difference tolerates, pixels (0: plain difference)")
        ->capture_default_str()
        ->check(CLI::Range(0, 16));
    sub->add_option("--min-core", p.min_core_fraction,
                    "Drop blobs with less of their change surviving a 3x3 erosion (edge lines)")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 1.0));
    sub->add_option("--merge-px", p.merge_px, "Merge blobs closer than this (-1: never)")
        ->capture_default_str();
    sub->add_option("--box-margin", p.box_margin_px, "Reported box = blob box grown by this")
        ->capture_default_str();
    sub->add_option("--min-component", p.context_min_component_px,
                    "Context features: components and holes under this many pixels are specks, "
                    "not pattern")
        ->capture_default_str()
        ->check(CLI::Range(0, 1 << 20));
    sub->add_option("--register-tile", p.register_tile_px,
                    "Local registration: a shift per tile of this side, and a verdict on every "
                    "frame (0: one global shift, no verdict)")
        ->capture_default_str()
        ->check(CLI::Range(0, 4096));
  }
};

/// CLI11 check of --features: every name one of feature_names(), none twice ("" when valid).
std::string known_features(const std::string& list) {
  const auto& all = classify::feature_names();
  std::set<std::string> seen;
  std::string unknown;
  std::string repeated;
  for (const std::string& name : split_names(list)) {
    if (std::find(all.begin(), all.end(), name) == all.end()) {
      unknown = name;
      break;
    }
    if (!seen.insert(name).second) {
      repeated = name;
      break;
    }
  }
  if (!repeated.empty()) return "feature '" + repeated + "' named twice";
  if (unknown.empty()) return {};
  std::string known;
  for (const std::string& n : all) {
    if (!known.empty()) known += ", ";
    known += n;
  }
  return "unknown feature '" + unknown + "' (expected some of: " + known + ")";
}

/// The classifier `train` and `crossval` build: a random forest of 64 trees of depth 10 (splits
/// leaving 3 examples a side) by default, chosen by leave-one-group-out over the DeepPCB pairs
/// (docs/classification.md), the detection settings of ProfileArgs stored with it.
struct TrainArgs {
  ProfileArgs profile;
  std::string method = "forest";
  classify::TrainOptions options = [] {
    classify::TrainOptions o;
    o.reject_label = "no-defect";
    o.tree_max_depth = 10;
    return o;
  }();
  void add(CLI::App* sub) {
    profile.add(sub);
    sub->add_option("--method", method,
                    "Classifier: tree (CART), forest (random forest of CART trees) or lda (linear)")
        ->check(CLI::IsMember({"tree", "forest", "lda"}))
        ->capture_default_str();
    sub->add_option("--trees", options.forest_trees, "Forest: trees")
        ->capture_default_str()
        ->check(CLI::Range(1, 4096));
    sub->add_option("--max-features", options.forest_max_features,
                    "Forest: features tried at each split (0: the square root of their number)")
        ->capture_default_str()
        ->check(CLI::Range(0, 1024));
    sub->add_option("--max-depth", options.tree_max_depth, "Tree: deepest split (root 0)")
        ->capture_default_str()
        ->check(CLI::Range(0, 64));
    sub->add_option("--min-leaf", options.tree_min_leaf,
                    "Tree: fewest training examples on each side of a split")
        ->capture_default_str()
        ->check(CLI::Range(1, 100000));
    sub->add_option("--reject-label", options.reject_label,
                    "Class for blobs on no true box, learnt and then dropped (\"\": not learnt)")
        ->capture_default_str();
    sub->add_option("--features", features,
                    "Comma-separated features the model uses (default: all of them)")
        ->check(known_features);
  }
  std::string features;
  /// The options with the parsed detection settings.
  [[nodiscard]] classify::TrainOptions get() const {
    classify::TrainOptions o = options;
    o.method = classify::method_from_string(method).value_or(classify::Method::tree);
    o.detection = profile.p;
    if (!features.empty()) o.features = split_names(features);
    return o;
  }
};

/// A reject label must not be one of the set's own classes.
void check_reject_label(const Manifest& m, const classify::TrainOptions& o) {
  if (std::find(m.classes.begin(), m.classes.end(), o.reject_label) != m.classes.end()) {
    throw ConfigError(m.path.string(), 0, "classes",
                      "the reject label \"" + o.reject_label + "\" is one of the set's classes");
  }
}

void print_scores(const classify::Scorer& s, bool json, const Json& extra = {}) {
  if (json) {
    Json j = extra.is_object() ? extra : Json::object();
    const auto row = [](const classify::ClassScore& c) {
      return Json{
          {"class", c.name},       {"truths", c.truths},         {"detections", c.detections},
          {"correct", c.correct},  {"precision", c.precision()}, {"recall", c.recall()},
          {"f_score", c.f_score()}};
    };
    j["frames"] = s.frames();
    j["classes"] = Json::array();
    for (const auto& c : s.per_class()) j["classes"].push_back(row(c));
    j["overall"] = row(s.overall());
    std::cout << json_text(j, 2) << std::endl;
    return;
  }
  std::printf("%-12s %7s %10s %8s %9s %7s %7s\n", "class", "truths", "detections", "correct",
              "precision", "recall", "F");
  const auto line = [](const classify::ClassScore& c) {
    std::printf("%-12s %7d %10d %8d %9.4f %7.4f %7.4f\n", c.name.c_str(), c.truths, c.detections,
                c.correct, c.precision(), c.recall(), c.f_score());
  };
  for (const auto& c : s.per_class()) line(c);
  line(s.overall());
  std::printf("(%d frames; correct = IoU > 0.33 with a true box of the same class)\n", s.frames());
}

int cmd_train(const std::string& set, const std::string& out, const classify::TrainOptions& o,
              Overwrite overwrite) {
  const DetectionProfile& p = *o.detection;
  const Manifest m = load_manifest(set);
  ProtectedFiles inputs;  // checked before the training, not after it
  protect_set(inputs, m);
  inputs.check(out, "--out");
  check_output_target(out, "--out", overwrite);
  const auto frames = inspect::load_labelled_frames(m);
  if (frames.empty()) throw ConfigError(m.path.string(), 0, "frames", "no labelled frames");
  const inspect::FrameInspector inspector(p, p.spec);
  const auto detections = inspect::detect_frames(frames, inspector);
  const auto blobs = inspect::blobs_of(detections);
  std::vector<std::size_t> all(frames.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  check_reject_label(m, o);
  const auto ex = inspect::collect_examples(frames, blobs, all, 0.3, o.reject_label);
  const std::size_t rejects = o.reject_label.empty() ? 0 : ex.unlabelled;
  if (ex.features.size() == rejects) {
    throw ConfigError(m.path.string(), 0, "frames", "no blob on a true box");
  }
  const auto model = classify::Classifier::train(ex.features, ex.labels, o);
  model.save(out);
  std::map<std::string, int> per_class;
  for (const auto& l : ex.labels) ++per_class[l];
  std::printf("trained %s on %zu frames: %zu blobs (", out.c_str(), frames.size(),
              ex.features.size());
  bool first = true;
  for (const auto& [name, n] : per_class) {
    std::printf("%s%s %d", first ? "" : ", ", name.c_str(), n);
    first = false;
  }
  std::printf("); %d on no true box (%s)\n", ex.unlabelled,
              o.reject_label.empty() ? "not trained" : ("trained as " + o.reject_label).c_str());
  for (std::size_t i = 0; i < frames.size(); ++i) {  // a frame registered unreliably trains nothing
    if (detections[i].step.ok()) continue;
    std::printf("unreliable %s (trained nothing): %s\n", frames[i].name.c_str(),
                detections[i].step.reason.c_str());
  }
  return 0;
}

int cmd_score(RunId run, const std::string& truth_set, const std::string& db, bool json) {
  const Manifest m = load_manifest(truth_set);
  std::map<int, const FrameEntry*> by_site;
  for (const FrameEntry& f : m.frames) by_site[f.site_index] = &f;
  Store store = open_store_for_reading(db, std::cerr);
  if (!store.run(run)) throw ConfigError(db, 0, "RUN_ID", "no run " + std::to_string(run));
  classify::Scorer scorer;
  int skipped = 0;
  for (const SiteResult& s : store.sites(run)) {
    const auto it = by_site.find(s.site.index);
    if (it == by_site.end() || !it->second->truth) {
      ++skipped;
      continue;
    }
    if (s.status != SiteStatus::done) ++skipped;  // still scored: its true boxes count as missed
    scorer.add(s.defects, *it->second->truth);
  }
  print_scores(scorer, json, Json{{"run", run}, {"truth", m.path.string()}});
  if (!json && skipped > 0) std::printf("%d sites not done or without truth\n", skipped);
  return 0;
}

Json score_json(const classify::ClassScore& c) {
  return Json{{"class", c.name},       {"truths", c.truths},         {"detections", c.detections},
              {"correct", c.correct},  {"precision", c.precision()}, {"recall", c.recall()},
              {"f_score", c.f_score()}};
}

/// One line per fold (group), then the pooled per-class table and the location-only score.
void print_crossval(const inspect::CrossvalResult& cv, const std::string& kind) {
  std::printf("%s\n%-12s %7s %7s %10s %8s %9s %7s %7s %10s\n", kind.c_str(), "fold", "frames",
              "truths", "detections", "correct", "precision", "recall", "F", "F(location)");
  for (std::size_t k = 0; k < cv.fold_scores.size(); ++k) {
    const classify::ClassScore c = cv.fold_scores[k].overall();
    std::printf("%-12s %7d %7d %10d %8d %9.4f %7.4f %7.4f %10.4f\n", cv.fold_names[k].c_str(),
                cv.fold_scores[k].frames(), c.truths, c.detections, c.correct, c.precision(),
                c.recall(), c.f_score(), cv.fold_agnostic[k].f_score());
  }
  std::printf("\npooled over the folds:\n");
  print_scores(cv.pooled, false);
  const classify::ClassScore a = cv.agnostic.overall();
  std::printf(
      "class-agnostic (location only): %d truths, %d detections, %d correct, P %.4f R %.4f "
      "F %.4f\n",
      a.truths, a.detections, a.correct, a.precision(), a.recall(), a.f_score());
}

struct CrossvalArgs {
  std::string set;
  int folds = 5;
  std::string group_by;
  int threads = 2;
  int repeat = 5;
  bool json = false;
};

/// The group of each frame under `rule` (empty rule: no groups); a rule that does not fit the
/// names, or finds one group only, is a usage error.
std::vector<std::string> frame_groups(const std::vector<inspect::LabelledFrame>& frames,
                                      const std::string& rule) {
  if (rule.empty()) return {};
  std::vector<std::string> names;
  names.reserve(frames.size());
  for (const auto& f : frames) names.push_back(f.name);
  std::vector<std::string> groups;
  try {
    groups = inspect::group_names(names, rule);
  } catch (const std::invalid_argument& e) {
    throw ConfigError("--group-by", 0, "", e.what());
  }
  if (std::set<std::string>(groups.begin(), groups.end()).size() < 2) {
    throw ConfigError("--group-by", 0, "", "\"" + rule + "\" finds fewer than 2 groups");
  }
  return groups;
}

/// The JSON fields of a cross-validation besides the pooled scores.
Json crossval_json(const inspect::CrossvalResult& cv, bool by_group) {
  Json extra{{"validation", by_group ? "leave-one-group-out" : "random-folds"},
             {"folds", cv.fold_names.size()}};
  extra["per_fold"] = Json::array();
  for (std::size_t k = 0; k < cv.fold_scores.size(); ++k) {
    Json f = score_json(cv.fold_scores[k].overall());
    f["class"] = cv.fold_names[k];
    f["frames"] = cv.fold_scores[k].frames();
    f["location_f_score"] = cv.fold_agnostic[k].f_score();
    extra["per_fold"].push_back(f);
  }
  extra["class_agnostic"] = score_json(cv.agnostic.overall());
  return extra;
}

int cmd_crossval(const CrossvalArgs& a, const classify::TrainOptions& o) {
  const DetectionProfile& p = *o.detection;
  const Manifest m = load_manifest(a.set);
  const auto frames = inspect::load_labelled_frames(m);
  check_reject_label(m, o);
  const std::vector<std::string> groups = frame_groups(frames, a.group_by);
  const inspect::FrameInspector inspector(p, p.spec);
  const auto detections = inspect::detect_frames(frames, inspector);
  const auto blobs = inspect::blobs_of(detections);
  const auto cv = groups.empty() ? inspect::crossval(frames, blobs, o, a.folds)
                                 : inspect::crossval_groups(frames, blobs, o, groups);
  const std::string kind = groups.empty()
                               ? "random folds: frame i in fold i mod " + std::to_string(a.folds) +
                                     " (boards of one group on both sides: optimistic)"
                               : "leave one group out (--group-by \"" + a.group_by + "\")";
  Json extra = crossval_json(cv, !groups.empty());
  extra["unreliable"] = Json::array();
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const inspect::StepResult& step = detections[i].step;
    if (step.ok()) continue;
    extra["unreliable"].push_back(Json{{"frame", frames[i].name}, {"reason", step.reason}});
    if (!a.json) std::printf("unreliable %s: %s\n", frames[i].name.c_str(), step.reason.c_str());
  }
  if (a.repeat > 0) {
    std::vector<std::size_t> all(frames.size());
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
    const auto ex = inspect::collect_examples(frames, blobs, all, 0.3, o.reject_label);
    const auto model = classify::Classifier::train(ex.features, ex.labels, o);
    const auto t = inspect::measure_fps(frames, model, inspector, a.threads, a.repeat);
    extra["threads"] = a.threads;
    extra["fps"] = t.fps;
    extra["cpu_ms_per_frame"] = t.cpu_ms_per_frame;
    if (!a.json) {
      std::printf(
          "throughput: %.0f frames/s with %d threads, %.2f ms CPU per frame (median of "
          "%d; decoded frames, preprocess+detect+context+classify)\n",
          t.fps, a.threads, t.cpu_ms_per_frame, a.repeat);
    }
  }
  if (a.json) {
    print_scores(cv.pooled, true, extra);
  } else {
    print_crossval(cv, kind);
    std::printf("%zu frames registered unreliably (no detections; their true boxes missed)\n",
                extra["unreliable"].size());
  }
  return 0;
}

}  // namespace

Command add_import_command(CLI::App& app) {
  struct Args {
    std::string dir;
    std::string out;
    std::string classes = kDeepPcbClasses;
  };
  auto a = std::make_shared<Args>();
  auto* sub = app.add_subcommand("import", "Import recorded data as a recorded set");
  sub->require_subcommand(1);
  auto* pairs = sub->add_subcommand("pairs", "A folder of NAME_test.*/NAME_temp.*[/NAME.txt]");
  pairs->add_option("DIR", a->dir, "Folder of pairs")->required();
  pairs->add_option("--out", a->out, "The set folder to create")->required();
  pairs->add_option("--classes", a->classes, "Class names for label numbers 1, 2, ... (comma list)")
      ->capture_default_str();
  return {sub, [a] { return cmd_import_pairs(a->dir, a->out, a->classes); }};
}

Command add_train_command(CLI::App& app) {
  struct Args {
    std::string set;
    std::string out;
    TrainArgs train;
    bool force = false;
  };
  auto a = std::make_shared<Args>();
  auto* sub = app.add_subcommand("train", "Train a classifier model from a labelled set");
  sub->add_option("SET", a->set, "Recorded set (folder or manifest.yaml)")->required();
  sub->add_option("--out", a->out, "Model file to write (JSON), atomically")->required();
  sub->add_flag("--force", a->force, "Replace a model file already at --out");
  a->train.add(sub);
  return {sub, [a] {
            return cmd_train(a->set, a->out, a->train.get(),
                             a->force ? Overwrite::replace : Overwrite::refuse);
          }};
}

Command add_score_command(CLI::App& app) {
  struct Args {
    RunId run = 0;
    std::string truth;
    std::string db = "waferscan.db";
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  auto* sub = app.add_subcommand("score", "Score a run's defects against a set's labels");
  sub->add_option("RUN_ID", a->run, "Run id")->required();
  sub->add_option("--truth", a->truth, "Labelled recorded set")->required();
  add_db_option(sub, a->db);
  sub->add_flag("--json", a->json, "JSON output");
  return {sub, [a] { return cmd_score(a->run, a->truth, a->db, a->json); }};
}

Command add_crossval_command(CLI::App& app) {
  struct Args {
    CrossvalArgs cv;
    TrainArgs train;
  };
  auto a = std::make_shared<Args>();
  auto* sub = app.add_subcommand(
      "crossval", "Cross-validation (leave one group out, or random folds) and throughput");
  sub->add_option("SET", a->cv.set, "Labelled recorded set")->required();
  auto* groups = sub->add_option("--group-by", a->cv.group_by,
                                 "Leave one group out; groups from the frame names: 'first N "
                                 "digits' or a regex (its first capture group)");
  sub->add_option("--folds", a->cv.folds,
                  "Random folds instead (frame i in fold i mod k; optimistic: one board on both "
                  "sides)")
      ->capture_default_str()
      ->check(CLI::Range(2, 1000))
      ->excludes(groups);
  sub->add_option("--threads", a->cv.threads, "Threads for the throughput measurement")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  sub->add_option("--repeat", a->cv.repeat, "Throughput repetitions (median; 0: not measured)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000));
  sub->add_flag("--json", a->cv.json, "JSON output");
  a->train.add(sub);
  return {sub, [a] { return cmd_crossval(a->cv, a->train.get()); }};
}

}  // namespace ws::app
