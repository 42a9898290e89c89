// `import pairs`: a folder of template/test image pairs with optional box labels (the DeepPCB
// layout) -> a recorded set (Manifest) whose frames carry their own references and truth.
#pragma once

#include "waferscan/recorded_set.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace ws::io {

/// Checks that `out_dir` may receive an imported set: it must not exist, or be an empty folder.
/// @throws ConfigError naming `out_dir` (key --out).
void check_import_target(const std::filesystem::path& out_dir);

/// A folder built beside its final place and renamed into it at commit(): a failure before then
/// (an exception, a signal that ends the process with a normal exit) removes it, so a failed import
/// leaves nothing behind and can be retried as it was typed. `path()` is the staging folder
/// `.NAME.importing-PID` beside `target`.
class StagedFolder {
 public:
  explicit StagedFolder(std::filesystem::path target);
  ~StagedFolder();
  StagedFolder(const StagedFolder&) = delete;
  StagedFolder& operator=(const StagedFolder&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return staging_; }
  /// Renames the staging folder to the target (an empty target folder is replaced).
  /// @throws OutputError when the rename fails (the staging folder is then removed).
  void commit();

 private:
  std::filesystem::path target_;
  std::filesystem::path staging_;
  bool committed_ = false;
};

/// Reads `dir`: every `NAME_test.EXT` is a frame, `NAME_temp.EXT` its reference (required), and
/// `NAME.txt`, when present, its labels, one defect a line `x1 y1 x2 y2 class` (corners in pixels,
/// x2 > x1, y2 > y1, class a number 1..classes.size(); blank lines ignored). Copies (hard-links
/// when the file system allows) the images into `out_dir/frames/` and `out_dir/references/`, and
/// returns the manifest (not yet saved; frame size left 0) with `classes` = `classes` and frames
/// in name order. A frame without a labels file has no truth (nullopt).
/// @throws ConfigError naming the file and line: no pairs, a test without a template (or a
///   template without a test), a malformed label line, a class number out of range, empty or
///   repeated class names.
Manifest import_pairs(const std::filesystem::path& dir, const std::filesystem::path& out_dir,
                      const std::vector<std::string>& classes);

/// Gives an imported set its frame sizes: the set's is the first test image's, and every test
/// image of another size records its own (FrameEntry::width/height); then checks that every label
/// box lies inside its frame. A frame that cannot be decoded (other than the first) keeps the
/// set's size: reprocessing it is a site error naming the file. Decodes the test images in
/// parallel. Throws ConfigError naming the first image when it cannot be read, or the labels file
/// `pairs_dir`/NAME.txt of a box outside its frame.
void record_frame_sizes(Manifest& m, const std::filesystem::path& pairs_dir);

/// Parses one labels file (see import_pairs). Throws ConfigError naming the file and line.
std::vector<LabelledDefect> read_box_labels(const std::filesystem::path& file,
                                            const std::vector<std::string>& classes);

}  // namespace ws::io
