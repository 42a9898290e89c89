// A recorded image set: a folder with manifest.yaml, frames, and golden reference(s). Written by
// `run --record` and `import pairs`, read by `reprocess`, `train` and `score`.
#pragma once

#include "waferscan/wafer_geometry.hpp"

#include <opencv2/core/types.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ws {

/// A labelled (true) defect of a recorded frame, in frame pixels.
struct LabelledDefect {
  cv::Rect bbox;           ///< x, y, width, height
  std::string class_name;  ///< e.g. "open", "short" (DeepPCB) or "particle" (simulator)
};

/// One frame of the set.
struct FrameEntry {
  std::filesystem::path image;      ///< relative to the set folder in the file; absolute in memory
  std::filesystem::path reference;  ///< per-frame golden reference; empty = the set's golden
  int site_index = 0;
  std::string name;
  int die_i = 0;
  int die_j = 0;
  double x_um = 0;
  double y_um = 0;
  std::optional<std::vector<LabelledDefect>> truth;  ///< present when the frame is labelled
  int line = 0;  ///< line of the entry in manifest.yaml (for messages)
};

/// The set's wafer and frame geometry (the manifest's lot_id, wafer_id, wafer and frame keys),
/// then where its files are.
struct Manifest : WaferGeometry, FrameGeometry {
  std::filesystem::path dir;     ///< the set folder
  std::filesystem::path path;    ///< dir / "manifest.yaml"
  std::filesystem::path golden;  ///< set-level golden reference (absolute in memory); may be empty
  std::filesystem::path flat;    ///< optional flat-field gain image (32-bit float TIFF/EXR)
  std::vector<std::string> classes;  ///< class names used by the labels, in class-number order
  std::vector<FrameEntry> frames;
};

/// Reads and validates a manifest (a folder, or the manifest.yaml itself). Throws ConfigError
/// naming the manifest file, the line and the key for malformed YAML, unknown keys, wrong types,
/// out-of-range values, and referenced files that do not exist. Image contents are not decoded
/// here (a corrupt frame is a site error at run time).
Manifest load_manifest(const std::filesystem::path& path);

/// Writes `m` as dir/manifest.yaml with paths relative to dir (atomically: temp file + rename).
void save_manifest(const Manifest& m);

}  // namespace ws
