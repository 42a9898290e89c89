#include "waferscan/classifier.hpp"

#include "base/content_hash.hpp"
#include "base/input_file.hpp"
#include "base/name_table.hpp"
#include "base/output_file.hpp"
#include "base/splitmix.hpp"
#include "classify/decision_tree.hpp"
#include "classify/features.hpp"
#include "waferscan/error.hpp"

#include <oneapi/tbb/parallel_for.h>
#include <Eigen/Dense>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

namespace ws::classify {

namespace {
using Json = nlohmann::json;
constexpr int kFormatVersion = 1;
// Shrinks the pooled covariance toward the identity (in standardised units) so small or
// degenerate training sets still give an invertible, well-behaved model.
constexpr double kShrinkage = 0.05;

[[noreturn]] void bad_model(const std::string& file, const std::string& key,
                            const std::string& message) {
  throw ConfigError(file, 0, key, message);
}
}  // namespace

namespace {
// Positions of `names` in feature_names(); nullopt if one is unknown or repeated.
std::optional<std::vector<Eigen::Index>> feature_positions(const std::vector<std::string>& names) {
  const auto& all = feature_names();
  std::vector<Eigen::Index> out;
  std::set<std::string> seen;
  for (const auto& n : names) {
    const auto it = std::find(all.begin(), all.end(), n);
    if (it == all.end() || !seen.insert(n).second) return std::nullopt;
    out.push_back(static_cast<Eigen::Index>(it - all.begin()));
  }
  return out;
}

Eigen::VectorXd selected(const std::vector<Eigen::Index>& index, const BlobFeatures& f) {
  const Eigen::VectorXd all = feature_vector(f);
  Eigen::VectorXd v(static_cast<Eigen::Index>(index.size()));
  for (std::size_t i = 0; i < index.size(); ++i) v(static_cast<Eigen::Index>(i)) = all(index[i]);
  return v;
}

Json profile_json(const DetectionProfile& p) {
  return Json{{"threshold_sigma", p.spec.threshold_sigma},
              {"min_threshold", p.spec.min_threshold},
              {"min_area_px", p.spec.min_area_px},
              {"max_shift_px", p.spec.max_shift_px},
              {"band_rows", p.spec.band_rows},
              {"preprocess", p.preprocess},
              {"tolerance_px", p.tolerance_px},
              {"min_core_fraction", p.min_core_fraction},
              {"merge_px", p.merge_px},
              {"context_margin_px", p.context_margin_px},
              {"context_min_contrast", p.context_min_contrast},
              {"context_min_component_px", p.context_min_component_px},
              {"box_margin_px", p.box_margin_px},
              {"register_tile_px", p.register_tile_px}};
}

DetectionProfile read_profile(const Json& j, const std::string& file) {
  if (!j.is_object()) bad_model(file, "detection", "expected an object");
  DetectionProfile p;
  for (const auto& item : j.items()) {
    // Named, not a structured binding: the lambdas below capture them (clang 14 cannot).
    const std::string& key = item.key();
    const Json& value = item.value();
    const std::string where = "detection." + key;
    const auto number = [&](double lo, double hi) {
      if (!value.is_number() || value.get<double>() < lo || value.get<double>() > hi) {
        bad_model(file, where,
                  "expected a number in " + std::to_string(lo) + ".." + std::to_string(hi));
      }
      return value.get<double>();
    };
    const auto integer = [&](int lo, int hi) {
      if (!value.is_number_integer()) bad_model(file, where, "expected an integer");
      return static_cast<int>(number(lo, hi));
    };
    if (key == "threshold_sigma") {
      p.spec.threshold_sigma = number(0, 1000);
    } else if (key == "min_threshold") {
      p.spec.min_threshold = integer(0, 255);
    } else if (key == "min_area_px") {
      p.spec.min_area_px = integer(0, 1 << 20);
    } else if (key == "max_shift_px") {
      p.spec.max_shift_px = integer(0, 1024);
    } else if (key == "band_rows") {
      p.spec.band_rows = integer(1, 1 << 16);
    } else if (key == "preprocess") {
      if (!value.is_boolean()) bad_model(file, where, "expected true or false");
      p.preprocess = value.get<bool>();
    } else if (key == "tolerance_px") {
      p.tolerance_px = integer(0, 16);
    } else if (key == "min_core_fraction") {
      p.min_core_fraction = number(0, 1);
    } else if (key == "merge_px") {
      p.merge_px = integer(-1, 1024);
    } else if (key == "context_margin_px") {
      p.context_margin_px = integer(1, 1024);
    } else if (key == "context_min_contrast") {
      p.context_min_contrast = integer(0, 255);
    } else if (key == "context_min_component_px") {
      p.context_min_component_px = integer(0, 1 << 20);
    } else if (key == "box_margin_px") {
      p.box_margin_px = integer(0, 1024);
    } else if (key == "register_tile_px") {
      p.register_tile_px = integer(0, 4096);
    } else {
      bad_model(file, where, "unknown key");
    }
  }
  return p;
}

std::vector<double> to_vector(const Eigen::VectorXd& v) {
  return {v.data(), v.data() + v.size()};
}

std::vector<std::vector<double>> to_rows(const Eigen::MatrixXd& m) {
  std::vector<std::vector<double>> rows;
  for (Eigen::Index r = 0; r < m.rows(); ++r) rows.emplace_back(to_vector(m.row(r).transpose()));
  return rows;
}

// Reads a finite-number vector of length n from key `key` of `j`.
Eigen::VectorXd read_vector(const Json& j, const std::string& key, Eigen::Index n,
                            const std::string& file) {
  if (!j.contains(key)) bad_model(file, key, "missing");
  const Json& v = j.at(key);
  if (!v.is_array() || static_cast<Eigen::Index>(v.size()) != n) {
    bad_model(file, key, "expected an array of " + std::to_string(n) + " numbers");
  }
  Eigen::VectorXd out(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const Json& x = v[static_cast<std::size_t>(i)];
    if (!x.is_number() || !std::isfinite(x.get<double>())) {
      bad_model(file, key, "element " + std::to_string(i) + " is not a finite number");
    }
    out(i) = x.get<double>();
  }
  return out;
}

Eigen::MatrixXd read_matrix(const Json& j, const std::string& key, Eigen::Index rows,
                            Eigen::Index cols, const std::string& file) {
  if (!j.contains(key)) bad_model(file, key, "missing");
  const Json& m = j.at(key);
  if (!m.is_array() || static_cast<Eigen::Index>(m.size()) != rows) {
    bad_model(file, key, "expected " + std::to_string(rows) + " rows");
  }
  Eigen::MatrixXd out(rows, cols);
  for (Eigen::Index r = 0; r < rows; ++r) {
    const Json row{{"row", m[static_cast<std::size_t>(r)]}};
    out.row(r) = read_vector(row, "row", cols, file).transpose();
  }
  return out;
}

void drop_rejected(const std::string& reject, std::vector<Defect>& defects) {
  if (!reject.empty()) {
    std::erase_if(defects, [&](const Defect& d) { return d.class_name == reject; });
  }
}

void write_json(const std::filesystem::path& path, const Json& j) {
  write_file_atomically(path, "model", j.dump(2) + "\n", Overwrite::replace);
}

// The model file's JSON and the content hash of its bytes.
std::pair<Json, std::string> parse_file(const std::filesystem::path& path) {
  std::string bytes;
  try {
    bytes = read_text_input(path);
  } catch (const ConfigError& e) {  // not a file, too large, unreadable: say it is the model
    bad_model(path.string(), "", "cannot read model file: " + e.reason());
  }
  try {
    return {Json::parse(bytes), content_hash(bytes)};
  } catch (const Json::parse_error& e) {
    bad_model(path.string(), "", std::string("invalid JSON: ") + e.what());
  }
}

// Nodes as {"counts": [...]} for a leaf, plus "feature" (by name), "threshold", "left", "right"
// for a split: readable as the rules they are.
Json tree_json(const DecisionTree& tree, const TreeParams& params,
               const std::vector<std::string>& features) {
  Json nodes = Json::array();
  for (const TreeNode& n : tree.nodes()) {
    Json node{{"counts", n.counts}};
    if (n.feature >= 0) {
      node["feature"] = features[static_cast<std::size_t>(n.feature)];
      node["threshold"] = n.threshold;
      node["left"] = n.left;
      node["right"] = n.right;
    }
    nodes.push_back(std::move(node));
  }
  return Json{
      {"max_depth", params.max_depth}, {"min_leaf", params.min_leaf}, {"nodes", std::move(nodes)}};
}

void read_tree(const Json& j, const std::vector<std::string>& features, int classes,
               const std::string& file, TreeParams& params, DecisionTree& tree) {
  if (!j.is_object() || !j.contains("nodes") || !j.at("nodes").is_array()) {
    bad_model(file, "tree", "expected an object with a \"nodes\" array");
  }
  for (const char* key : {"max_depth", "min_leaf"}) {
    if (!j.contains(key) || !j.at(key).is_number_integer() || j.at(key).get<int>() < 0) {
      bad_model(file, std::string("tree.") + key, "expected an integer >= 0");
    }
  }
  params = {j.at("max_depth").get<int>(), j.at("min_leaf").get<int>()};
  std::vector<TreeNode> nodes;
  for (const Json& n : j.at("nodes")) {
    const std::string key = "tree.nodes[" + std::to_string(nodes.size()) + "]";
    TreeNode node;
    if (!n.is_object() || !n.contains("counts") || !n.at("counts").is_array() ||
        !std::all_of(n.at("counts").begin(), n.at("counts").end(),
                     [](const Json& c) { return c.is_number_integer(); })) {
      bad_model(file, key, "expected an object with integer \"counts\"");
    }
    node.counts = n.at("counts").get<std::vector<int>>();
    if (n.contains("feature")) {
      const Json& f = n.at("feature");
      const auto it = f.is_string()
                          ? std::find(features.begin(), features.end(), f.get<std::string>())
                          : features.end();
      if (it == features.end()) bad_model(file, key, "feature is not one of the model's");
      node.feature = static_cast<int>(it - features.begin());
      if (!n.contains("threshold") || !n.at("threshold").is_number() ||
          !std::isfinite(n.at("threshold").get<double>()) || !n.contains("left") ||
          !n.at("left").is_number_integer() || !n.contains("right") ||
          !n.at("right").is_number_integer()) {
        bad_model(file, key, "a split needs a finite threshold and integer left and right");
      }
      node.threshold = n.at("threshold").get<double>();
      node.left = n.at("left").get<int>();
      node.right = n.at("right").get<int>();
    }
    nodes.push_back(std::move(node));
  }
  const std::string error =
      DecisionTree::from_nodes(std::move(nodes), static_cast<int>(features.size()), classes, tree);
  if (!error.empty()) bad_model(file, "tree.nodes", error);
}
// Method::lda: linear discriminant analysis on standardised features z = (f - mean) / scale:
// score_k(z) = w_k . z + b_k with w_k = S^-1 mu_k and b_k = -mu_k' S^-1 mu_k / 2 + log prior_k,
// where S is the pooled within-class covariance. Posterior = softmax(score).
struct LdaModel {
  static constexpr Method kMethod = Method::lda;
  Eigen::VectorXd mean;        // feature means (raw feature units)
  Eigen::VectorXd scale;       // feature standard deviations (raw units), > 0
  Eigen::MatrixXd class_mean;  // one row per class, standardised units
  Eigen::VectorXd prior;       // per class, > 0, sums to 1
  Eigen::MatrixXd covariance;  // pooled, standardised units, positive definite
  // Derived in finish():
  Eigen::MatrixXd weight;  // one row per class
  Eigen::VectorXd bias;

  // Returns false if the covariance is not positive definite.
  bool finish() {
    const Eigen::LLT<Eigen::MatrixXd> llt(covariance);
    if (llt.info() != Eigen::Success) return false;
    weight = llt.solve(class_mean.transpose()).transpose();
    bias.resize(class_mean.rows());
    for (Eigen::Index k = 0; k < bias.size(); ++k) {
      bias(k) = -0.5 * weight.row(k).dot(class_mean.row(k)) + std::log(prior(k));
    }
    return true;
  }

  static LdaModel read(const Json& j, const std::vector<std::string>& features, Eigen::Index nc,
                       const std::string& file) {
    const auto nf = static_cast<Eigen::Index>(features.size());
    LdaModel m;
    m.mean = read_vector(j, "mean", nf, file);
    m.scale = read_vector(j, "scale", nf, file);
    if ((m.scale.array() <= 0).any()) bad_model(file, "scale", "must be > 0");
    m.class_mean = read_matrix(j, "class_mean", nc, nf, file);
    m.prior = read_vector(j, "prior", nc, file);
    if ((m.prior.array() <= 0).any()) bad_model(file, "prior", "must be > 0");
    m.prior /= m.prior.sum();
    m.covariance = read_matrix(j, "covariance", nf, nf, file);
    if (!m.covariance.isApprox(m.covariance.transpose()) || !m.finish()) {
      bad_model(file, "covariance", "must be symmetric positive definite");
    }
    return m;
  }

  // x: one row of raw features per example; y: each example's class number (0..nc-1).
  static LdaModel train(const Eigen::MatrixXd& x, const std::vector<int>& y, Eigen::Index nc) {
    const Eigen::Index n = x.rows();
    const Eigen::Index nf = x.cols();
    LdaModel m;
    m.mean = x.colwise().mean().transpose();
    const Eigen::MatrixXd centred = x.rowwise() - m.mean.transpose();
    m.scale = (centred.array().square().colwise().sum() / static_cast<double>(n)).sqrt();
    // A constant feature carries no information; a unit scale keeps it harmless.
    for (Eigen::Index f = 0; f < nf; ++f) {
      if (!(m.scale(f) > 1e-9)) m.scale(f) = 1.0;
    }
    const Eigen::MatrixXd z = centred.array().rowwise() / m.scale.transpose().array();

    m.class_mean = Eigen::MatrixXd::Zero(nc, nf);
    Eigen::VectorXd count = Eigen::VectorXd::Zero(nc);
    for (Eigen::Index i = 0; i < n; ++i) {
      const Eigen::Index k = y[static_cast<std::size_t>(i)];
      m.class_mean.row(k) += z.row(i);
      count(k) += 1;
    }
    for (Eigen::Index k = 0; k < nc; ++k) m.class_mean.row(k) /= count(k);
    m.prior = count / static_cast<double>(n);

    Eigen::MatrixXd pooled = Eigen::MatrixXd::Zero(nf, nf);
    for (Eigen::Index i = 0; i < n; ++i) {
      const Eigen::Index k = y[static_cast<std::size_t>(i)];
      const Eigen::VectorXd d = (z.row(i) - m.class_mean.row(k)).transpose();
      pooled += d * d.transpose();
    }
    pooled /= static_cast<double>(std::max<Eigen::Index>(n - nc, 1));
    m.covariance = (1.0 - kShrinkage) * pooled + kShrinkage * Eigen::MatrixXd::Identity(nf, nf);
    if (!m.finish()) throw std::runtime_error("Classifier::train: singular covariance");
    return m;
  }

  void write(Json& j, const std::vector<std::string>& /*features*/) const {
    j["mean"] = to_vector(mean);
    j["scale"] = to_vector(scale);
    j["class_mean"] = to_rows(class_mean);
    j["prior"] = to_vector(prior);
    j["covariance"] = to_rows(covariance);
  }

  // The class number and confidence (the softmax posterior) of the model's features `v`.
  [[nodiscard]] std::pair<std::size_t, double> decide(const Eigen::VectorXd& v,
                                                      std::size_t /*classes*/) const {
    const Eigen::VectorXd z = (v - mean).array() / scale.array();
    const Eigen::VectorXd score = weight * z + bias;
    Eigen::Index best = 0;
    const double top = score.maxCoeff(&best);
    const double total = (score.array() - top).exp().sum();
    return {static_cast<std::size_t>(best), 1.0 / total};
  }
};

// Method::tree: a decision tree on the raw feature values (columns in the model's feature order).
struct TreeModel {
  static constexpr Method kMethod = Method::tree;
  TreeParams params;
  DecisionTree tree;

  static TreeModel read(const Json& j, const std::vector<std::string>& features, Eigen::Index nc,
                        const std::string& file) {
    if (!j.contains("tree")) bad_model(file, "tree", "missing");
    TreeModel m;
    read_tree(j.at("tree"), features, static_cast<int>(nc), file, m.params, m.tree);
    return m;
  }

  static TreeModel train(const Eigen::MatrixXd& x, const std::vector<int>& y, Eigen::Index nc,
                         const TrainOptions& options) {
    TreeModel m;
    m.params = {options.tree_max_depth, options.tree_min_leaf};
    m.tree = DecisionTree::grow(x, y, static_cast<int>(nc), m.params);
    return m;
  }

  void write(Json& j, const std::vector<std::string>& features) const {
    j["tree"] = tree_json(tree, params, features);
  }

  // The leaf's majority class (the first, by class number, on a tie) and its Laplace-smoothed
  // share of the leaf's examples.
  [[nodiscard]] std::pair<std::size_t, double> decide(const Eigen::VectorXd& v,
                                                      std::size_t classes) const {
    const TreeNode& leaf = tree.leaf(v);
    const auto best = std::max_element(leaf.counts.begin(), leaf.counts.end());  // first max
    const double total = std::accumulate(leaf.counts.begin(), leaf.counts.end(), 0.0);
    return {static_cast<std::size_t>(best - leaf.counts.begin()),
            (*best + 1.0) / (total + static_cast<double>(classes))};
  }
};

// The rows of (x, y) sorted by label, then by their values: bootstrap samples drawn over this order
// depend on the examples, not on the order they came in (a tree depends only on the rows it gets).
std::vector<int> canonical_order(const Eigen::MatrixXd& x, const std::vector<int>& y) {
  std::vector<int> order(y.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    if (y[a] != y[b]) return y[a] < y[b];
    for (Eigen::Index c = 0; c < x.cols(); ++c) {
      if (x(a, c) != x(b, c)) return x(a, c) < x(b, c);
    }
    return false;
  });
  return order;
}

// Method::forest: trees grown on bootstrap samples of the examples (tree t's sample and its split
// features drawn from seed t: deterministic, and the same whatever the number of threads), each
// split trying max_features features; a vote of the trees' leaf class shares.
struct ForestModel {
  static constexpr Method kMethod = Method::forest;
  TreeParams params;
  std::vector<DecisionTree> trees;

  static ForestModel read(const Json& j, const std::vector<std::string>& features, Eigen::Index nc,
                          const std::string& file) {
    if (!j.contains("forest") || !j.at("forest").is_object() || !j.at("forest").contains("trees") ||
        !j.at("forest").at("trees").is_array() || j.at("forest").at("trees").empty()) {
      bad_model(file, "forest", "expected an object with a non-empty \"trees\" array");
    }
    const Json& f = j.at("forest");
    if (!f.contains("max_features") || !f.at("max_features").is_number_integer() ||
        f.at("max_features").get<int>() < 0) {
      bad_model(file, "forest.max_features", "expected an integer >= 0");
    }
    ForestModel m;
    for (const Json& t : f.at("trees")) {
      m.trees.emplace_back();
      read_tree(t, features, static_cast<int>(nc), file, m.params, m.trees.back());
    }
    m.params.max_features = f.at("max_features").get<int>();
    return m;
  }

  static ForestModel train(const Eigen::MatrixXd& x, const std::vector<int>& y, Eigen::Index nc,
                           const TrainOptions& options) {
    if (options.forest_trees < 1 || options.forest_max_features < 0) {
      throw std::invalid_argument("Classifier::train: a forest needs trees >= 1, features >= 0");
    }
    ForestModel m;
    const auto all = static_cast<int>(x.cols());
    m.params = {options.tree_max_depth, options.tree_min_leaf,
                options.forest_max_features > 0
                    ? std::min(options.forest_max_features, all)
                    : std::max(1, static_cast<int>(std::lround(std::sqrt(all)))),
                0};
    m.trees.resize(static_cast<std::size_t>(options.forest_trees));
    const std::vector<int> canon = canonical_order(x, y);
    tbb::parallel_for(std::size_t{0}, m.trees.size(), [&](std::size_t t) {
      TreeParams p = m.params;
      p.seed = mix64(0x5EEDF0E5ULL + t);
      std::vector<int> rows(y.size());
      std::uint64_t state = p.seed;
      for (int& r : rows) {
        state = mix64(state);
        r = canon[state % canon.size()];
      }
      m.trees[t] = DecisionTree::grow(x, y, std::move(rows), static_cast<int>(nc), p);
    });
    return m;
  }

  void write(Json& j, const std::vector<std::string>& features) const {
    Json trees_json = Json::array();
    for (const DecisionTree& t : trees) trees_json.push_back(tree_json(t, params, features));
    j["forest"] = Json{{"max_features", params.max_features}, {"trees", std::move(trees_json)}};
  }

  // The class with the largest mean leaf share (the first, by class number, on a tie) and that
  // mean.
  [[nodiscard]] std::pair<std::size_t, double> decide(const Eigen::VectorXd& v,
                                                      std::size_t classes) const {
    std::vector<double> share(classes, 0.0);
    for (const DecisionTree& t : trees) {
      const TreeNode& leaf = t.leaf(v);
      const double total = std::accumulate(leaf.counts.begin(), leaf.counts.end(), 0.0);
      for (std::size_t k = 0; k < classes; ++k) share[k] += leaf.counts[k] / total;
    }
    const auto best = std::max_element(share.begin(), share.end());
    return {static_cast<std::size_t>(best - share.begin()),
            *best / static_cast<double>(trees.size())};
  }
};

/// How a model decides: one type per Method, each reading, training, writing and deciding alone.
using Rule = std::variant<LdaModel, TreeModel, ForestModel>;

Rule read_rule(Method method, const Json& j, const std::vector<std::string>& features,
               Eigen::Index nc, const std::string& file) {
  if (method == TreeModel::kMethod) return TreeModel::read(j, features, nc, file);
  if (method == ForestModel::kMethod) return ForestModel::read(j, features, nc, file);
  return LdaModel::read(j, features, nc, file);
}

Rule train_rule(const TrainOptions& options, const Eigen::MatrixXd& x, const std::vector<int>& y,
                Eigen::Index nc) {
  if (options.method == TreeModel::kMethod) return TreeModel::train(x, y, nc, options);
  if (options.method == ForestModel::kMethod) return ForestModel::train(x, y, nc, options);
  return LdaModel::train(x, y, nc);
}

constexpr ws::detail::NameTable<Method, 3> kMethods{
    {{Method::lda, "lda"}, {Method::tree, "tree"}, {Method::forest, "forest"}}};

Method read_method(const Json& j, const std::string& file) {
  std::optional<Method> method;
  if (j.contains("method") && j.at("method").is_string()) {
    method = method_from_string(j.at("method").get<std::string>());
  }
  if (!method) {
    bad_model(file, "method", "expected \"lda\", \"tree\" or \"forest\"");
  }
  return *method;
}
}  // namespace

std::string_view to_string(Method method) noexcept {
  return ws::detail::name_of(kMethods, method);
}

std::optional<Method> method_from_string(std::string_view name) noexcept {
  return ws::detail::lookup(kMethods, name);
}

struct Classifier::Model {
  std::vector<std::string> classes;
  std::vector<std::string> features;        // names, a subset of feature_names()
  std::vector<Eigen::Index> feature_index;  // their positions in feature_vector()
  std::optional<DetectionProfile> detection;
  std::string reject;  // class whose defects classify() drops; empty: none
  Rule rule;
  std::string hash;  // of the file it was loaded from; empty for a model trained in memory

  [[nodiscard]] Method method() const {
    return std::visit([](const auto& r) { return std::decay_t<decltype(r)>::kMethod; }, rule);
  }
};

namespace {
// The file's feature names and their positions in feature_vector().
std::pair<std::vector<std::string>, std::vector<Eigen::Index>> read_features(
    const Json& j, const std::string& file) {
  const Json* features = j.contains("features") ? &j.at("features") : nullptr;
  std::optional<std::vector<Eigen::Index>> positions;
  if (features != nullptr && features->is_array() && !features->empty() &&
      std::all_of(features->begin(), features->end(),
                  [](const Json& f) { return f.is_string(); })) {
    positions = feature_positions(features->get<std::vector<std::string>>());
  }
  if (!positions) {
    bad_model(file, "features", "expected distinct names from the feature list of this build");
  }
  return {features->get<std::vector<std::string>>(), std::move(*positions)};
}

void require_classes(const Json& j, const std::string& file) {
  if (!j.contains("classes") || !j.at("classes").is_array() || j.at("classes").empty()) {
    bad_model(file, "classes", "expected a non-empty array of class names");
  }
}

// The file's class names, then its reject class (empty if it has none).
std::pair<std::vector<std::string>, std::string> read_classes(const Json& j,
                                                              const std::string& file) {
  std::vector<std::string> classes;
  std::set<std::string> seen;
  for (const Json& c : j.at("classes")) {
    if (!c.is_string() || c.get<std::string>().empty() ||
        !seen.insert(c.get<std::string>()).second) {
      bad_model(file, "classes", "class names must be distinct non-empty strings");
    }
    classes.push_back(c.get<std::string>());
  }
  std::string reject;
  if (j.contains("reject_class")) {
    const Json& r = j.at("reject_class");
    if (!r.is_string() || !seen.contains(r.get<std::string>())) {
      bad_model(file, "reject_class", "expected one of the model's classes");
    }
    reject = r.get<std::string>();
  }
  return {std::move(classes), std::move(reject)};
}
}  // namespace

Classifier Classifier::load(const std::filesystem::path& path) {
  const std::string file = path.string();
  const auto [j, hash] = parse_file(path);
  if (!j.is_object()) bad_model(file, "", "expected a JSON object");
  if (!j.contains("format_version") || !j.at("format_version").is_number_integer() ||
      j.at("format_version").get<int>() != kFormatVersion) {
    bad_model(file, "format_version", "expected " + std::to_string(kFormatVersion));
  }
  const Method method = read_method(j, file);
  auto [features, positions] = read_features(j, file);
  require_classes(j, file);
  auto model = std::make_shared<Model>();
  model->features = std::move(features);
  model->feature_index = std::move(positions);
  if (j.contains("detection")) model->detection = read_profile(j.at("detection"), file);
  std::tie(model->classes, model->reject) = read_classes(j, file);
  const auto nc = static_cast<Eigen::Index>(model->classes.size());
  model->rule = read_rule(method, j, model->features, nc, file);
  model->hash = hash;
  Classifier c;
  c.model_ = std::move(model);
  return c;
}

Classifier Classifier::train(const std::vector<BlobFeatures>& examples,
                             const std::vector<std::string>& labels, const TrainOptions& options) {
  if (examples.empty() || examples.size() != labels.size()) {
    throw std::invalid_argument("Classifier::train: need as many labels as examples, at least 1");
  }
  // Classes sorted by name: the model does not depend on the order examples arrive in.
  const std::set<std::string> class_set(labels.begin(), labels.end());
  auto model = std::make_shared<Model>();
  model->features = options.features.empty() ? feature_names() : options.features;
  auto positions = feature_positions(model->features);
  if (!positions) throw std::invalid_argument("Classifier::train: unknown or repeated feature");
  model->feature_index = std::move(*positions);
  model->detection = options.detection;
  model->classes.assign(class_set.begin(), class_set.end());
  if (class_set.contains(options.reject_label)) {
    if (class_set.size() < 2) {
      throw std::invalid_argument("Classifier::train: examples of the reject label alone");
    }
    model->reject = options.reject_label;
  }
  std::map<std::string, int> index;
  for (std::size_t k = 0; k < model->classes.size(); ++k) {
    index[model->classes[k]] = static_cast<int>(k);
  }
  std::vector<int> y;
  y.reserve(labels.size());
  for (const auto& l : labels) y.push_back(index.at(l));
  const auto n = static_cast<Eigen::Index>(examples.size());
  Eigen::MatrixXd x(n, static_cast<Eigen::Index>(model->features.size()));
  for (Eigen::Index i = 0; i < n; ++i) {
    x.row(i) = selected(model->feature_index, examples[static_cast<std::size_t>(i)]).transpose();
  }
  model->rule = train_rule(options, x, y, static_cast<Eigen::Index>(model->classes.size()));
  Classifier c;
  c.model_ = std::move(model);
  return c;
}

void Classifier::save(const std::filesystem::path& path) const {
  if (!model_) throw std::logic_error("Classifier::save: no model");
  const Model& m = *model_;
  Json j;
  j["format_version"] = kFormatVersion;
  j["method"] = std::string(to_string(m.method()));
  j["features"] = m.features;
  if (m.detection) j["detection"] = profile_json(*m.detection);
  j["classes"] = m.classes;
  if (!m.reject.empty()) j["reject_class"] = m.reject;
  std::visit([&](const auto& rule) { rule.write(j, m.features); }, m.rule);
  write_json(path, j);
}

void Classifier::classify(std::vector<Defect>& defects) const {
  if (!model_) throw std::logic_error("Classifier::classify: no model");
  const Model& m = *model_;
  std::visit(
      [&](const auto& rule) {
        for (Defect& d : defects) {
          const auto [k, confidence] =
              rule.decide(selected(m.feature_index, d.features), m.classes.size());
          d.class_name = m.classes[k];
          d.confidence = confidence;
        }
      },
      m.rule);
  drop_rejected(m.reject, defects);
}

const std::string& Classifier::content_hash() const {
  return model_->hash;
}

const std::vector<std::string>& Classifier::class_names() const {
  static const std::vector<std::string> kNone;
  return model_ ? model_->classes : kNone;
}

const std::vector<std::string>& Classifier::features() const {
  static const std::vector<std::string> kNone;
  return model_ ? model_->features : kNone;
}

Method Classifier::method() const {
  return model_ ? model_->method() : Method::lda;
}

const std::string& Classifier::reject_class() const {
  static const std::string kNone;
  return model_ ? model_->reject : kNone;
}

TrainOptions Classifier::train_options() const {
  if (!model_) return {};
  TrainOptions o;
  o.reject_label = model_->reject;
  o.features = model_->features;
  o.detection = model_->detection;
  o.method = model_->method();
  if (const auto* tree = std::get_if<TreeModel>(&model_->rule)) {
    o.tree_max_depth = tree->params.max_depth;
    o.tree_min_leaf = tree->params.min_leaf;
  }
  if (const auto* forest = std::get_if<ForestModel>(&model_->rule)) {
    o.tree_max_depth = forest->params.max_depth;
    o.tree_min_leaf = forest->params.min_leaf;
    o.forest_trees = static_cast<int>(forest->trees.size());
    o.forest_max_features = forest->params.max_features;
  }
  return o;
}

const std::optional<DetectionProfile>& Classifier::detection() const {
  static const std::optional<DetectionProfile> kNone;
  return model_ ? model_->detection : kNone;
}

}  // namespace ws::classify
