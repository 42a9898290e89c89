// Union-find over dense int32 labels, shared by the blob labellers and the blob grouping.
#pragma once

#include <cstddef>
#include <cstdint>
#include <numeric>
#include <utility>
#include <vector>

namespace ws::kernels {

/// Disjoint sets of the labels 0..size()-1, with path halving. The root of a set is its smallest
/// label, so a set labelled in raster order has the label of its first pixel as its root.
/// Everything is inline and the parents are one flat vector: the labellers call it per run.
class UnionFind {
 public:
  UnionFind() = default;
  /// The sets {0}, {1}, ..., {n - 1}.
  explicit UnionFind(std::int32_t n) : parent_(static_cast<std::size_t>(n)) {
    std::iota(parent_.begin(), parent_.end(), std::int32_t{0});
  }

  /// Adds the set {size()} and returns its label.
  std::int32_t make() {
    const auto label = static_cast<std::int32_t>(parent_.size());
    parent_.push_back(label);
    return label;
  }
  std::int32_t find(std::int32_t a) {
    while (parent_[a] != a) {
      parent_[a] = parent_[parent_[a]];  // path halving
      a = parent_[a];
    }
    return a;
  }
  /// Merges the sets of a and b; returns the root of the merged set.
  std::int32_t unite(std::int32_t a, std::int32_t b) {
    a = find(a);
    b = find(b);
    if (a == b) return a;
    if (b < a) std::swap(a, b);
    parent_[b] = a;
    return a;
  }
  void reserve(std::size_t n) { parent_.reserve(n); }
  [[nodiscard]] std::int32_t size() const { return static_cast<std::int32_t>(parent_.size()); }

 private:
  std::vector<std::int32_t> parent_;
};

}  // namespace ws::kernels
