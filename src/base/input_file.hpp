// Files the tool reads: what they must be (a regular file) and how much of them it will read.
// The limits keep a mistaken path (/dev/zero, a huge image) from exhausting memory; each is
// configurable through its environment variable (docs/bad-input.md lists them).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace ws {

/// The caps on what is read, from the environment at first use.
struct InputLimits {
  /// Bytes of one text input (recipe, manifest, graph spec, model): WAFERSCAN_MAX_TEXT_BYTES,
  /// default 256 MiB (an explicit recipe of 10^6 sites is about 60 MB).
  std::uintmax_t text_bytes = std::uintmax_t{256} << 20;
  /// Pixels of one image, read from its header before it is decoded:
  /// WAFERSCAN_MAX_IMAGE_PIXELS, default 16384 x 16384 (the largest frame a manifest allows).
  std::uint64_t image_pixels = std::uint64_t{16384} * 16384;
};

/// The limits in force. @throws ConfigError naming the variable when one is set but is not a
/// positive integer.
const InputLimits& input_limits();

/// Empty when `path` (symlinks followed) is a regular file; otherwise why not, as a phrase to
/// follow the path: "does not exist", "is a directory, not a file", "is a FIFO (named pipe), not
/// a file", "is a character device, not a file", ...
std::string not_a_regular_file(const std::filesystem::path& path);

/// The whole of the regular file `path`, at most `limit` bytes.
/// @throws ConfigError(path, 0, "", reason) when it is not a regular file, cannot be opened or
///   read, or holds more than `limit` bytes (the message says the limit and its variable).
std::string read_input_file(const std::filesystem::path& path, std::uintmax_t limit);

/// read_input_file with the text limit.
inline std::string read_text_input(const std::filesystem::path& path) {
  return read_input_file(path, input_limits().text_bytes);
}

}  // namespace ws
