// The defect classifier: blob features -> class name + confidence. Class names come from the model.
#pragma once

#include "waferscan/defect.hpp"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace ws::classify {

/// A trained model. Thread safety: classify() is const and safe to call concurrently.
class Classifier {
 public:
  /// Loads a model file (JSON). Throws ConfigError naming the file and key on a bad model.
  static Classifier load(const std::filesystem::path& path);
  /// Trains from labelled examples (deterministic).
  static Classifier train(const std::vector<BlobFeatures>& examples,
                          const std::vector<std::string>& labels);
  void save(const std::filesystem::path& path) const;

  /// Fills class_name and confidence of each defect from its features.
  void classify(std::vector<Defect>& defects) const;
  [[nodiscard]] const std::vector<std::string>& class_names() const;

 private:
  struct Model;
  std::shared_ptr<const Model> model_;
};

}  // namespace ws::classify
