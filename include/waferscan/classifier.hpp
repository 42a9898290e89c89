// The defect classifier: blob features -> class name + confidence. Class names come from the model.
#pragma once

#include "waferscan/defect.hpp"
#include "waferscan/detection_profile.hpp"
#include "waferscan/recipe.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ws::classify {

/// How a model decides (the file's "method").
enum class Method {
  lda,    ///< linear discriminant on standardised features; confidence = softmax posterior
  tree,   ///< CART decision tree (decision_tree.hpp); confidence = the leaf's share of its majority
  forest  ///< random forest: CART trees on bootstrap samples, a random subset of the features
          ///< tried at each split; the class of the mean of the leaves' class shares, which is
          ///< its confidence
          ///< class, Laplace-smoothed: (count + 1) / (examples + classes)
};
/// "lda", "tree": the model file's "method".
std::string_view to_string(Method method) noexcept;
std::optional<Method> method_from_string(std::string_view name) noexcept;

/// What train() builds besides the class statistics.
struct TrainOptions {
  std::vector<std::string> features;          ///< names from feature_names(); empty = all
  std::optional<DetectionProfile> detection;  ///< stored in the model when present
  Method method = Method::lda;
  int tree_max_depth = 8;  ///< Method::tree: deepest split (root depth 0; decision_tree.hpp)
  int tree_min_leaf = 3;   ///< Method::tree: fewest training examples on each side of a split
  int forest_trees = 64;   ///< Method::forest: trees (each also takes tree_max_depth, min_leaf)
  int forest_max_features = 0;  ///< Method::forest: features tried per split (0: sqrt of all)
  /// Non-empty: examples with this label are what detection finds that is no defect (a blob on no
  /// true box); the model learns them as a class of its own and classify() drops the defects it
  /// puts there. Stored in the model ("reject_class"); a model with no such example has none.
  std::string reject_label;
};

/// A trained model. Thread safety: classify() is const and safe to call concurrently.
class Classifier {
 public:
  /// Loads a model file (JSON). Throws ConfigError naming the file and key on a bad model.
  static Classifier load(const std::filesystem::path& path);
  /// Trains from labelled examples (deterministic: the same examples in the same order give a
  /// bit-identical model). Throws std::invalid_argument for mismatched sizes, no examples or
  /// unknown features.
  static Classifier train(const std::vector<BlobFeatures>& examples,
                          const std::vector<std::string>& labels, const TrainOptions& options = {});
  /// Writes the model as JSON, atomically (a temporary file beside `path`, renamed into place).
  /// Throws OutputError when it cannot be written; a file already at `path` is then untouched.
  void save(const std::filesystem::path& path) const;

  /// Fills class_name and confidence of each defect from its features, and removes the defects the
  /// model classifies as its reject class (if it has one), keeping the others' order. A tree's ties
  /// go to the class first by name.
  void classify(std::vector<Defect>& defects) const;
  /// Class names, sorted; they include the reject class when the model has one.
  [[nodiscard]] const std::vector<std::string>& class_names() const;
  /// The content hash of the file it was loaded from (base/content_hash); empty when trained.
  [[nodiscard]] const std::string& content_hash() const;
  /// The class whose defects classify() drops; empty if none.
  [[nodiscard]] const std::string& reject_class() const;
  /// The model's feature names (a subset of feature_names(), in the model's order).
  [[nodiscard]] const std::vector<std::string>& features() const;
  [[nodiscard]] Method method() const;
  /// The options that train the same kind of model again (features, detection, method and its
  /// parameters): what a test or a retraining needs to reproduce this model from the same data.
  [[nodiscard]] TrainOptions train_options() const;
  /// The detection profile the model was trained with, if it carries one.
  [[nodiscard]] const std::optional<DetectionProfile>& detection() const;

 private:
  struct Model;
  std::shared_ptr<const Model> model_;
};

}  // namespace ws::classify
