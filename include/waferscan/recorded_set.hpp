// A recorded image set: a folder with manifest.yaml, frames, and golden reference(s). Written by
// `run --record` (RecordedSetWriter) and `import pairs`, read by `reprocess`, `resume`, `train`,
// `score` and `crossval`. The one home of a set's I/O: the manifest, the reader of its images
// (frames, references, golden, flat), the writer, and the recipe a set is inspected with.
#pragma once

#include "waferscan/recipe.hpp"
#include "waferscan/wafer_geometry.hpp"

#include <opencv2/core/mat.hpp>
#include <opencv2/core/types.hpp>

#include <filesystem>
#include <mutex>
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
  int width = 0;   ///< this frame's size where it differs from the set's (`width`, `height` keys);
  int height = 0;  ///< 0: the set's frame size
  int line = 0;    ///< line of the entry in manifest.yaml (for messages)
};

/// The set's wafer and frame geometry (the manifest's lot_id, wafer_id, wafer and frame keys),
/// then where its files are.
struct Manifest : WaferGeometry, FrameGeometry {
  std::filesystem::path dir;     ///< the set folder
  std::filesystem::path path;    ///< dir / "manifest.yaml"
  std::string source_hash;       ///< content hash of manifest.yaml as read (base/content_hash)
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

// ---- Reading a set's images -------------------------------------------------------------------

/// What an image of a set is: decides the pixels it must hold and how a message names it.
enum class SetImageRole {
  frame,      ///< a frame: 8-bit grey ("frame file")
  reference,  ///< a frame's own golden reference: 8-bit grey ("reference file")
  golden,     ///< the set's golden reference: 8-bit grey ("golden reference")
  flat,       ///< the flat-field gain: 32-bit float, one channel ("flat-field image")
};

/// An image read from a set, or why it could not be. Callers turn `error` into a site error (a
/// frame) or a ConfigError (the golden, the flat, a training frame).
struct SetImage {
  cv::Mat image;      ///< empty when `error` is set
  std::string error;  ///< empty on success; else names the file and says what is wrong with it
  [[nodiscard]] bool ok() const noexcept { return error.empty(); }
};

/// The one reader of a set's images. Reads `file` as its `role` requires: 8-bit grey for a frame,
/// a reference or the golden (an 8-bit image whose colour channels are identical is grey, as 4 of
/// the DeepPCB JPEGs are; real colour and other depths are not), 32-bit float one-channel for the
/// flat; of exactly `size` when given. On failure the error says the file is missing, cannot be
/// read, is empty (0 bytes), is not a decodable image (corrupt or truncated), has the wrong pixel
/// type, or has the wrong size. Throws only what allocation throws.
SetImage read_set_image(const std::filesystem::path& file, SetImageRole role,
                        std::optional<cv::Size> size);

/// A frame of a set and its own reference.
struct FrameImages {
  cv::Mat frame;
  cv::Mat reference;  ///< empty when the entry has none (the set's golden applies)
  std::string error;  ///< as SetImage::error; a reference's names the frame it belongs to
  [[nodiscard]] bool ok() const noexcept { return error.empty(); }
};

/// The size of entry `e`'s frame: its own when the manifest gives one, else the set's.
cv::Size frame_size(const Manifest& m, const FrameEntry& e) noexcept;

/// Reads entry `e` of `m`: its frame, which must be of frame_size(m, e), and, when it has one, its
/// reference, of any size: a reference whose size differs from its frame's is the inspection's to
/// judge (the site ends `unreliable`: sizes that do not match cannot be compared).
FrameImages read_frame_images(const Manifest& m, const FrameEntry& e);

/// The set's golden reference at its frame size; an empty image (and no error) when it has none.
SetImage read_golden(const Manifest& m);

/// The set's flat-field gain at its frame size; an empty image (and no error) when it has none.
SetImage read_flat(const Manifest& m);

// ---- Writing a set ----------------------------------------------------------------------------

/// Writes a recorded set: frames/NNNNN.png (lossless, fast PNG), golden.png, flat.tiff (32-bit
/// float keeps the gain exactly) and manifest.yaml. Thread safety: add() may be called
/// concurrently (each call writes its own file; the entry list is guarded); finish() once, after
/// the last add().
class RecordedSetWriter {
 public:
  /// Creates `dir` (and dir/frames) and writes the golden reference and the flat-field image
  /// (each when not empty). Throws ConfigError naming `dir` or the file that cannot be written.
  RecordedSetWriter(const std::filesystem::path& dir, const WaferGeometry& wafer,
                    const FrameGeometry& frame, const cv::Mat& golden, const cv::Mat& flat);

  /// Writes `frame` as the frame of `site` and remembers its entry. Throws ConfigError naming the
  /// file when it cannot be written (the entry is then left out).
  void add(const cv::Mat& frame, const SiteSpec& site);

  /// Writes manifest.yaml with the frames added so far, in site order. Returns the manifest.
  Manifest finish();

  [[nodiscard]] const std::filesystem::path& dir() const noexcept { return manifest_.dir; }

 private:
  Manifest manifest_;
  std::mutex mutex_;
};

// ---- Inspecting a set -------------------------------------------------------------------------

/// The recipe a set is inspected with: `recipe` (its detection settings and model) when given,
/// else one built from the manifest; the wafer, pixel size, frame size and sites (one per frame,
/// in site order) always come from the manifest; no hardware time scale and no fault injection.
/// Throws ConfigError naming the recipe when its camera's frame size is not the set's.
Recipe recipe_for_set(const Manifest& m, std::optional<Recipe> recipe);

}  // namespace ws
