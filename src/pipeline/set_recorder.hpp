// `run --record DIR`: writes a recorded set (raw frames, golden reference, flat, manifest) from a
// bounded node of the live graph, so a run can be reprocessed offline later.
#pragma once

#include "pipeline/work.hpp"
#include "waferscan/recipe.hpp"
#include "waferscan/recorded_set.hpp"

#include <filesystem>

namespace ws::pipeline {

/// The recording node over RecordedSetWriter. Thread safety: record() may be called concurrently;
/// finish() once, after the graph is quiet. Memory stays bounded: record() holds no frame after it
/// returns, and the graph calls it only for admitted frames (the in-flight cap).
class SetRecorder {
 public:
  /// Creates `dir` (and dir/frames) and writes the golden reference and the flat-field image.
  /// Throws ConfigError naming `dir` or the file when a folder or file cannot be written.
  SetRecorder(const std::filesystem::path& dir, const Recipe& recipe, const cv::Mat& golden,
              const cv::Mat& flat);

  /// Writes the raw frame of an acquired site as frames/NNNNN.png and remembers its entry. Does
  /// nothing for a site without a frame. Never throws: a frame that cannot be written is logged
  /// and left out of the set (the inspection itself goes on).
  void record(const Work& work) noexcept;

  /// Writes manifest.yaml with the frames recorded so far, in site order. Returns the manifest.
  Manifest finish() { return writer_.finish(); }

  [[nodiscard]] const std::filesystem::path& dir() const noexcept { return writer_.dir(); }

 private:
  RecordedSetWriter writer_;
};

}  // namespace ws::pipeline
