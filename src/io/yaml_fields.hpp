// Strict reading of YAML mappings: unknown keys, duplicate keys, wrong types and out-of-range
// values all become ConfigError with the file, the 1-based line and the dotted key path.
#pragma once

#include "waferscan/error.hpp"

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ws::io {

/// Parses `text` as one YAML document. A syntax error becomes ConfigError(file, yaml line, "",
/// ...).
YAML::Node load_yaml(const std::string& text, const std::string& file);

/// Throws ConfigError(file, line, key, "is not valid UTF-8 ...") at the first ill-formed byte of
/// `text` (load_yaml calls it).
void check_utf8(const std::string& text, const std::string& file);

/// Reads a whole file into a string. A missing or unreadable file becomes ConfigError naming it.
std::string read_text_file(const std::string& path);

/// 1-based line of a node, or 0 when yaml-cpp has no mark for it.
int line_of(const YAML::Node& node) noexcept;

/// An inclusive or exclusive bound on a number, for range checks with readable messages.
struct Range {
  std::optional<double> lo;
  std::optional<double> hi;
  bool lo_open = false;  ///< true: value must be > lo (not >=)

  static Range any() { return {}; }
  static Range positive() { return {0.0, std::nullopt, true}; }
  static Range non_negative() { return {0.0, std::nullopt, false}; }
  static Range at_least(double lo) { return {lo, std::nullopt, false}; }
  static Range between(double lo, double hi) { return {lo, hi, false}; }

  [[nodiscard]] bool contains(double v) const noexcept;
  [[nodiscard]] std::string describe() const;  ///< "> 0", ">= 16", "in [1, 64]"
};

/// One YAML mapping being read. The constructor checks that the node is a mapping, that its keys
/// are scalars, unique and among `known`; readers then fill struct fields from present keys and
/// leave absent ones at their defaults.
class Fields {
 public:
  /// `path` is the dotted path of this mapping ("" for the document root, "camera", "sites[3]").
  /// An undefined `map` reads as empty; `fallback_line` is then used for messages.
  Fields(std::string file, const YAML::Node& map, std::string path,
         std::initializer_list<std::string_view> known, int fallback_line = 0);

  [[nodiscard]] bool has(std::string_view key) const noexcept;
  /// The value of `key`; an undefined node when absent.
  [[nodiscard]] YAML::Node value(std::string_view key) const;
  /// "camera.width", or "width" at the root.
  [[nodiscard]] std::string path(std::string_view key) const;
  [[nodiscard]] const std::string& file() const noexcept { return file_; }
  [[nodiscard]] int line() const noexcept { return line_; }

  void number(std::string_view key, double& out, const Range& range) const;
  void integer(std::string_view key, int& out, const Range& range) const;
  void unsigned64(std::string_view key, std::uint64_t& out) const;
  void size(std::string_view key, std::size_t& out, const Range& range) const;
  void text(std::string_view key, std::string& out, bool allow_empty = false) const;
  /// A two-element sequence of numbers, such as [x, y].
  void pair(std::string_view key, double& first, double& second, const Range& range) const;
  /// A sequence of non-empty strings.
  void strings(std::string_view key, std::vector<std::string>& out) const;
  /// A nested mapping with its own set of known keys; an empty mapping when absent.
  [[nodiscard]] Fields nested(std::string_view key,
                              std::initializer_list<std::string_view> known) const;

  /// Throws ConfigError at `key`'s value (or the key itself, or this mapping when absent).
  [[noreturn]] void fail(std::string_view key, const std::string& message) const;
  /// The line of `key`'s value (of the key itself when the value is null), or the mapping's.
  [[nodiscard]] int line_for(std::string_view key) const noexcept;

 private:
  struct Entry {
    std::string key;
    YAML::Node key_node;
    YAML::Node value;
  };
  [[nodiscard]] const Entry* find(std::string_view key) const noexcept;

  std::string file_;
  std::string path_;
  int line_ = 0;
  std::vector<Entry> entries_;
};

/// Reads a scalar as a finite double; throws ConfigError at (file, node line, key) otherwise.
double scalar_number(const std::string& file, const YAML::Node& node, const std::string& key);
/// Reads a scalar as an int; throws ConfigError otherwise.
int scalar_integer(const std::string& file, const YAML::Node& node, const std::string& key);
/// Checks `value` is in `range`; throws ConfigError "must be RANGE, got VALUE" otherwise.
void check_range(const std::string& file, int line, const std::string& key, double value,
                 const Range& range);
/// "mapping", "sequence", "string 'abc'", "null": for "expected X, got Y" messages.
std::string describe_node(const YAML::Node& node);

}  // namespace ws::io
