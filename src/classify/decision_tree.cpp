#include "classify/decision_tree.hpp"

#include "base/splitmix.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace ws::classify {

namespace {

// sum over classes of count^2 / n: the Gini impurity of a node is 1 - this / n, so a split that
// maximises the children's sum minimises their weighted impurity.
double purity(const std::vector<int>& counts, int n) {
  double s = 0;
  for (const int c : counts) s += static_cast<double>(c) * c;
  return s / n;
}

struct Grower {
  const Eigen::MatrixXd& x;
  const std::vector<int>& y;
  int classes;
  TreeParams params;
  std::vector<TreeNode> nodes;

  // Every feature, in order; or max_features of them drawn for node `id` (a partial
  // Fisher-Yates shuffle from the tree's seed), tried in increasing order so ties still go to
  // the lower feature.
  [[nodiscard]] std::vector<Eigen::Index> features_to_try(int id) const {
    std::vector<Eigen::Index> all(static_cast<std::size_t>(x.cols()));
    std::iota(all.begin(), all.end(), Eigen::Index{0});
    const auto k = static_cast<std::size_t>(params.max_features);
    if (k == 0 || k >= all.size()) return all;
    std::uint64_t state = mix64(params.seed ^ mix64(static_cast<std::uint64_t>(id) + 1));
    for (std::size_t i = 0; i < k; ++i) {
      state = mix64(state);
      const std::size_t j = i + static_cast<std::size_t>(state % (all.size() - i));
      std::swap(all[i], all[j]);
    }
    all.resize(k);
    std::sort(all.begin(), all.end());
    return all;
  }

  int grow(std::vector<int> rows, int depth) {
    TreeNode node;
    node.counts.assign(static_cast<std::size_t>(classes), 0);
    for (const int r : rows) ++node.counts[static_cast<std::size_t>(y[r])];
    const int id = static_cast<int>(nodes.size());
    nodes.push_back(node);
    const int n = static_cast<int>(rows.size());
    const bool pure = std::count(node.counts.begin(), node.counts.end(), 0) == classes - 1;
    if (pure || depth >= params.max_depth || n < 2 * params.min_leaf) return id;

    const double parent = purity(node.counts, n);
    double best = parent + 1e-12;  // a split must make the children purer than the parent
    int best_feature = -1;
    double best_threshold = 0;
    std::vector<int> sorted = rows;
    std::vector<int> left(static_cast<std::size_t>(classes));
    for (const Eigen::Index f : features_to_try(id)) {
      // Sorted by value, then row: the order (and so every tie) does not depend on the input order.
      std::sort(sorted.begin(), sorted.end(),
                [&](int a, int b) { return x(a, f) < x(b, f) || (x(a, f) == x(b, f) && a < b); });
      std::fill(left.begin(), left.end(), 0);
      std::vector<int> right = node.counts;
      for (int k = 0; k + 1 < n; ++k) {
        const int c = y[sorted[k]];
        ++left[static_cast<std::size_t>(c)];
        --right[static_cast<std::size_t>(c)];
        const double here = x(sorted[k], f);
        const double next = x(sorted[k + 1], f);
        if (here == next || k + 1 < params.min_leaf || n - k - 1 < params.min_leaf) continue;
        const double score = purity(left, k + 1) + purity(right, n - k - 1);
        if (score > best) {
          best = score;
          best_feature = static_cast<int>(f);
          best_threshold = here + (next - here) / 2;
        }
      }
    }
    if (best_feature < 0) return id;
    std::vector<int> lo;
    std::vector<int> hi;
    for (const int r : rows) (x(r, best_feature) <= best_threshold ? lo : hi).push_back(r);
    rows.clear();
    rows.shrink_to_fit();
    const int l = grow(std::move(lo), depth + 1);
    const int h = grow(std::move(hi), depth + 1);
    TreeNode& self = nodes[static_cast<std::size_t>(id)];
    self.feature = best_feature;
    self.threshold = best_threshold;
    self.left = l;
    self.right = h;
    return id;
  }
};

}  // namespace

DecisionTree DecisionTree::grow(const Eigen::MatrixXd& x, const std::vector<int>& y, int classes,
                                const TreeParams& params) {
  std::vector<int> rows(y.size());
  std::iota(rows.begin(), rows.end(), 0);
  return grow(x, y, std::move(rows), classes, params);
}

DecisionTree DecisionTree::grow(const Eigen::MatrixXd& x, const std::vector<int>& y,
                                std::vector<int> rows, int classes, const TreeParams& params) {
  if (x.rows() == 0 || static_cast<std::size_t>(x.rows()) != y.size() || classes < 1 ||
      rows.empty()) {
    throw std::invalid_argument("DecisionTree::grow: need as many labels as rows, at least 1");
  }
  if (params.max_depth < 0 || params.min_leaf < 1 || params.max_features < 0) {
    throw std::invalid_argument(
        "DecisionTree::grow: max_depth must be >= 0, min_leaf >= 1, max_features >= 0");
  }
  if (std::any_of(y.begin(), y.end(), [&](int c) { return c < 0 || c >= classes; }) ||
      std::any_of(rows.begin(), rows.end(), [&](int r) { return r < 0 || r >= x.rows(); })) {
    throw std::invalid_argument("DecisionTree::grow: label or row out of range");
  }
  Grower g{x, y, classes, params, {}};
  g.grow(std::move(rows), 0);
  DecisionTree t;
  t.nodes_ = std::move(g.nodes);
  return t;
}

std::string DecisionTree::from_nodes(std::vector<TreeNode> nodes, int features, int classes,
                                     DecisionTree& out) {
  if (nodes.empty()) return "no nodes";
  std::vector<int> parents(nodes.size(), 0);
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const TreeNode& n = nodes[i];
    const std::string at = "node " + std::to_string(i) + ": ";
    if (n.counts.size() != static_cast<std::size_t>(classes)) {
      return at + "expected " + std::to_string(classes) + " class counts";
    }
    if (std::any_of(n.counts.begin(), n.counts.end(), [](int c) { return c < 0; }) ||
        std::accumulate(n.counts.begin(), n.counts.end(), 0) <= 0) {
      return at + "counts must be >= 0 with a positive sum";
    }
    if (n.feature < 0) {
      if (n.left != -1 || n.right != -1) return at + "a leaf has no children";
      continue;
    }
    if (n.feature >= features) return at + "feature out of range";
    const auto child_ok = [&](int c) {
      return c > static_cast<int>(i) && c < static_cast<int>(nodes.size());
    };
    if (!child_ok(n.left) || !child_ok(n.right) || n.left == n.right) {
      return at + "children must be distinct nodes after it";
    }
    ++parents[static_cast<std::size_t>(n.left)];
    ++parents[static_cast<std::size_t>(n.right)];
  }
  for (std::size_t i = 1; i < nodes.size(); ++i) {
    if (parents[i] != 1) return "node " + std::to_string(i) + ": not reached exactly once";
  }
  out.nodes_ = std::move(nodes);
  return {};
}

const TreeNode& DecisionTree::leaf(const Eigen::VectorXd& x) const {
  std::size_t i = 0;
  while (nodes_[i].feature >= 0) {
    const TreeNode& n = nodes_[i];
    i = static_cast<std::size_t>(x(n.feature) <= n.threshold ? n.left : n.right);
  }
  return nodes_[i];
}

}  // namespace ws::classify
