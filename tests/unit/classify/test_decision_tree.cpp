// DecisionTree: splits where the classes separate, respects its depth and leaf limits, does not
// depend on the order of the examples, and refuses stored nodes that do not form a tree.
#include "classify/decision_tree.hpp"

#include <gtest/gtest.h>

#include <Eigen/Core>

#include <set>
#include <vector>

namespace ws::classify {
namespace {

TEST(DecisionTree, SplitsHalfwayBetweenTheClasses) {
  Eigen::MatrixXd x(6, 2);
  x << 1, 5, 2, 5, 3, 5, 10, 5, 11, 5, 12, 5;  // column 1 is constant: never split on
  const std::vector<int> y{0, 0, 0, 1, 1, 1};
  const DecisionTree t = DecisionTree::grow(x, y, 2, {8, 1});
  ASSERT_EQ(t.nodes().size(), 3u);
  EXPECT_EQ(t.nodes()[0].feature, 0);
  EXPECT_DOUBLE_EQ(t.nodes()[0].threshold, 6.5);
  EXPECT_EQ(t.nodes()[0].counts, (std::vector<int>{3, 3}));
  EXPECT_EQ(t.leaf(Eigen::Vector2d(6.5, 0)).counts, (std::vector<int>{3, 0}));
  EXPECT_EQ(t.leaf(Eigen::Vector2d(6.6, 0)).counts, (std::vector<int>{0, 3}));
}

TEST(DecisionTree, LearnsABandNoSingleThresholdDraws) {
  // Class 1 inside 10 <= x < 30, class 0 on both sides: two levels of splits.
  Eigen::MatrixXd x(40, 1);
  std::vector<int> y;
  for (int i = 0; i < 40; ++i) {
    x(i, 0) = i;
    y.push_back(i >= 10 && i < 30 ? 1 : 0);
  }
  const DecisionTree t = DecisionTree::grow(x, y, 2, {2, 1});
  EXPECT_DOUBLE_EQ(t.nodes()[0].threshold, 9.5);  // equal gains: the lower threshold
  for (int i = 0; i < 40; ++i) {
    const auto& c = t.leaf(x.row(i).transpose()).counts;
    EXPECT_GT(c[static_cast<std::size_t>(y[i])], 0) << i;
    EXPECT_EQ(c[static_cast<std::size_t>(1 - y[i])], 0) << i;  // pure leaves
  }
}

TEST(DecisionTree, DepthAndLeafLimits) {
  Eigen::MatrixXd x(8, 1);
  x << 1, 2, 3, 4, 5, 6, 7, 8;
  const std::vector<int> y{0, 1, 0, 1, 0, 1, 0, 1};
  EXPECT_EQ(DecisionTree::grow(x, y, 2, {0, 1}).nodes().size(), 1u);
  const DecisionTree t = DecisionTree::grow(x, y, 2, {64, 3});
  for (const TreeNode& n : t.nodes()) {
    int total = 0;
    for (const int c : n.counts) total += c;
    EXPECT_GE(total, 3);
  }
}

TEST(DecisionTree, ExampleOrderDoesNotMatter) {
  Eigen::MatrixXd x(30, 3);
  std::vector<int> y;
  for (int i = 0; i < 30; ++i) {
    x(i, 0) = (i * 7) % 11;
    x(i, 1) = (i * 5) % 3;  // many ties
    x(i, 2) = (i * 13) % 17;
    y.push_back((i * 3) % 4 == 0 ? 0 : (i % 3 == 0 ? 1 : 2));
  }
  Eigen::MatrixXd rx = x.colwise().reverse();
  const std::vector<int> ry(y.rbegin(), y.rend());
  const DecisionTree a = DecisionTree::grow(x, y, 3, {6, 2});
  const DecisionTree b = DecisionTree::grow(rx, ry, 3, {6, 2});
  ASSERT_EQ(a.nodes().size(), b.nodes().size());
  for (std::size_t i = 0; i < a.nodes().size(); ++i) {
    EXPECT_EQ(a.nodes()[i].feature, b.nodes()[i].feature);
    EXPECT_EQ(a.nodes()[i].threshold, b.nodes()[i].threshold);
    EXPECT_EQ(a.nodes()[i].counts, b.nodes()[i].counts);
  }
}

// The random forest's two draws: a subset of the features at each split, and rows given as a
// bootstrap sample (repeats count as often as they appear).
TEST(DecisionTree, MaxFeaturesTriesADrawnSubsetAtEachSplit) {
  Eigen::MatrixXd x(40, 3);
  std::vector<int> y;
  for (int i = 0; i < 40; ++i) {
    x(i, 0) = i;             // separates the classes perfectly
    x(i, 1) = (i * 7) % 13;  // weaker
    x(i, 2) = (i * 5) % 11;
    y.push_back(i < 20 ? 0 : 1);
  }
  EXPECT_EQ(DecisionTree::grow(x, y, 2, {4, 1}).nodes()[0].feature, 0);
  std::set<int> roots;
  for (std::uint64_t seed = 0; seed < 12; ++seed) {
    const DecisionTree t = DecisionTree::grow(x, y, 2, {4, 1, 1, seed});
    roots.insert(t.nodes()[0].feature);
    EXPECT_EQ(DecisionTree::grow(x, y, 2, {4, 1, 1, seed}).nodes()[0].feature, t.nodes()[0].feature)
        << "the same seed draws the same features";
  }
  EXPECT_GT(roots.size(), 1u) << "one feature at a time: the root is not always feature 0";
}

TEST(DecisionTree, RowsMayRepeat) {
  Eigen::MatrixXd x(4, 1);
  x << 1, 2, 3, 4;
  const std::vector<int> y{0, 0, 1, 1};
  const DecisionTree t = DecisionTree::grow(x, y, {0, 0, 0, 3}, 2, {3, 1});
  EXPECT_EQ(t.nodes()[0].counts, (std::vector<int>{3, 1}));
  EXPECT_THROW(DecisionTree::grow(x, y, {0, 7}, 2, {3, 1}), std::invalid_argument);
  EXPECT_THROW(DecisionTree::grow(x, y, {}, 2, {3, 1}), std::invalid_argument);
}

TEST(DecisionTree, RejectsBadInput) {
  const Eigen::MatrixXd x = Eigen::MatrixXd::Zero(2, 1);
  EXPECT_THROW(DecisionTree::grow(x, {0}, 2, {}), std::invalid_argument);
  EXPECT_THROW(DecisionTree::grow(x, {0, 2}, 2, {}), std::invalid_argument);
  EXPECT_THROW(DecisionTree::grow(x, {0, 1}, 2, {8, 0}), std::invalid_argument);
}

// Stored nodes that do not form a tree, and what from_nodes() says.
struct BadNodes {
  const char* name;
  std::vector<TreeNode> nodes;
};

class BadTree : public ::testing::TestWithParam<BadNodes> {};

TEST_P(BadTree, IsRefusedAndLeavesTheTreeAlone) {
  DecisionTree t;
  EXPECT_FALSE(DecisionTree::from_nodes(GetParam().nodes, 2, 2, t).empty());
  EXPECT_TRUE(t.nodes().empty());
}

const TreeNode kLeaf{-1, 0, -1, -1, {1, 0}};
INSTANTIATE_TEST_SUITE_P(
    Stored, BadTree,
    ::testing::Values(BadNodes{"empty", {}}, BadNodes{"loop", {{0, 1, 0, 1, {1, 1}}, kLeaf}},
                      BadNodes{"child_out_of_range", {{0, 1, 1, 5, {1, 1}}, kLeaf}},
                      BadNodes{"unreached", {kLeaf, kLeaf}},
                      BadNodes{"shared_child",
                               {{0, 1, 1, 2, {1, 1}}, {0, 1, 2, 3, {1, 1}}, kLeaf, kLeaf}},
                      BadNodes{"feature_out_of_range", {{2, 1, 1, 2, {1, 1}}, kLeaf, kLeaf}},
                      BadNodes{"wrong_counts", {{-1, 0, -1, -1, {1, 0, 0}}}},
                      BadNodes{"empty_leaf", {{-1, 0, -1, -1, {0, 0}}}}),
    [](const auto& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace ws::classify
