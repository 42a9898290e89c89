// A CART classification tree: axis-aligned threshold rules a reader can follow from root to leaf.
#pragma once

#include <Eigen/Core>

#include <cstdint>
#include <string>
#include <vector>

namespace ws::classify {

/// One node. A split sends x with x(feature) <= threshold to `left`, the rest to `right`; a leaf
/// (feature < 0) has no children. Every node keeps the class counts of the training examples that
/// reached it, so a leaf's answer can be traced to the examples behind it.
struct TreeNode {
  int feature = -1;  ///< column of the feature matrix; < 0 for a leaf
  double threshold = 0;
  int left = -1;  ///< child indices, always greater than the node's own (the root is 0)
  int right = -1;
  std::vector<int> counts;  ///< training examples per class that reached this node
};

/// What grow() may build.
struct TreeParams {
  int max_depth = 8;  ///< the root is depth 0
  int min_leaf = 3;   ///< a split leaves at least this many examples on each side
  /// Features tried at each split: 0 tries all; k > 0 tries k of them drawn at random (without
  /// repetition, from `seed` and the node's number), as the trees of a random forest do.
  int max_features = 0;
  std::uint64_t seed = 0;
};

class DecisionTree {
 public:
  /// Grows a tree on rows of `x` labelled `y` (0 .. classes-1) by Gini impurity: at each node the
  /// split with the largest impurity decrease over all features and all thresholds halfway between
  /// consecutive distinct values; a node is a leaf when it is pure, at max_depth, or no split
  /// leaves min_leaf examples on both sides. Deterministic: ties go to the lower feature, then the
  /// lower threshold; nodes are numbered depth first, left before right.
  /// @throws std::invalid_argument for mismatched sizes, no examples, labels out of range or
  /// parameters < 1 (max_depth may be 0: a single leaf).
  static DecisionTree grow(const Eigen::MatrixXd& x, const std::vector<int>& y, int classes,
                           const TreeParams& params);
  /// The same on the rows `rows` of x (a row may appear more than once: a bootstrap sample).
  static DecisionTree grow(const Eigen::MatrixXd& x, const std::vector<int>& y,
                           std::vector<int> rows, int classes, const TreeParams& params);

  /// A tree from stored nodes. Returns an empty string if they form a valid tree over `features`
  /// columns and `classes` classes (children after their parent, every node reached once, leaf
  /// counts non-negative with a positive sum), else says what is wrong (and `out` is unchanged).
  static std::string from_nodes(std::vector<TreeNode> nodes, int features, int classes,
                                DecisionTree& out);

  /// The leaf `x` falls into.
  [[nodiscard]] const TreeNode& leaf(const Eigen::VectorXd& x) const;
  [[nodiscard]] const std::vector<TreeNode>& nodes() const { return nodes_; }

 private:
  std::vector<TreeNode> nodes_;
};

}  // namespace ws::classify
