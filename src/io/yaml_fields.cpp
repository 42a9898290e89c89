#include "io/yaml_fields.hpp"

#include "base/input_file.hpp"
#include "base/utf8.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>

namespace ws::io {

namespace {

std::string format_number(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

// The key whose value holds text[at], when the line reads "KEY: value" up to it; else empty.
std::string key_before(const std::string& text, std::size_t line_start, std::size_t at) {
  const std::string before = text.substr(line_start, at - line_start);
  const std::size_t colon = before.rfind(": ");
  if (colon == std::string::npos) return {};
  const std::size_t begin = before.find_last_of(" \t{,-", colon == 0 ? 0 : colon - 1);
  const std::size_t from = begin == std::string::npos ? 0 : begin + 1;
  return from < colon ? before.substr(from, colon - from) : std::string{};
}

// YAML text is UTF-8, and everything stored from it must be: refuse a file that is not, at the
// first ill-formed byte (its line, its column, and the key it belongs to when there is one).
}  // namespace

void check_utf8(const std::string& text, const std::string& file) {
  const std::optional<std::size_t> bad = first_invalid_utf8(text);
  if (!bad) return;
  const std::size_t newline = *bad == 0 ? std::string::npos : text.rfind('\n', *bad - 1);
  const std::size_t line_start = newline == std::string::npos ? 0 : newline + 1;
  const auto line =
      1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(*bad), '\n'));
  char byte[8];
  std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned char>(text[*bad]));
  throw ConfigError(file, line, key_before(text, line_start, *bad),
                    std::string("is not valid UTF-8 (byte ") + byte + " at column " +
                        std::to_string(*bad - line_start + 1) + "): the file must be UTF-8 text");
}

YAML::Node load_yaml(const std::string& text, const std::string& file) {
  check_utf8(text, file);
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    // e.what() repeats the position as "yaml-cpp: error at line..."; msg is the bare reason.
    const int line = e.mark.line >= 0 ? e.mark.line + 1 : 0;
    throw ConfigError(file, line, "", "malformed YAML: " + e.msg);
  }
}

std::string read_text_file(const std::string& path) {
  return read_text_input(path);
}

int line_of(const YAML::Node& node) noexcept {
  if (!node.IsDefined()) return 0;
  const YAML::Mark mark = node.Mark();
  return mark.line >= 0 ? mark.line + 1 : 0;
}

bool Range::contains(double v) const noexcept {
  if (lo && (lo_open ? !(v > *lo) : !(v >= *lo))) return false;
  if (hi && !(v <= *hi)) return false;
  return true;
}

std::string Range::describe() const {
  if (lo && hi) return "in [" + format_number(*lo) + ", " + format_number(*hi) + "]";
  if (lo) return (lo_open ? "> " : ">= ") + format_number(*lo);
  if (hi) return "<= " + format_number(*hi);
  return "a number";
}

std::string describe_node(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing (null)";
  if (node.IsSequence()) return "a sequence";
  if (node.IsMap()) return "a mapping";
  return "'" + node.Scalar() + "'";
}

void check_range(const std::string& file, int line, const std::string& key, double value,
                 const Range& range) {
  if (!range.contains(value)) {
    throw ConfigError(file, line, key,
                      "must be " + range.describe() + ", got " + format_number(value));
  }
}

double scalar_number(const std::string& file, const YAML::Node& node, const std::string& key) {
  double v = 0;
  if (!node.IsScalar() || !YAML::convert<double>::decode(node, v) || !std::isfinite(v)) {
    throw ConfigError(file, line_of(node), key,
                      "expected a finite number, got " + describe_node(node));
  }
  return v;
}

int scalar_integer(const std::string& file, const YAML::Node& node, const std::string& key) {
  long long v = 0;
  if (!node.IsScalar() || !YAML::convert<long long>::decode(node, v)) {
    throw ConfigError(file, line_of(node), key, "expected an integer, got " + describe_node(node));
  }
  if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) {
    throw ConfigError(file, line_of(node), key, "integer out of range: " + node.Scalar());
  }
  return static_cast<int>(v);
}

Fields::Fields(std::string file, const YAML::Node& map, std::string path,
               std::initializer_list<std::string_view> known, int fallback_line)
    : file_(std::move(file)), path_(std::move(path)), line_(fallback_line) {
  if (!map.IsDefined()) return;
  if (map.Mark().line >= 0) line_ = line_of(map);
  const std::string where = path_.empty() ? "document" : path_;
  if (!map.IsMap()) {
    throw ConfigError(file_, line_, where, "expected a mapping, got " + describe_node(map));
  }
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node key_node = it->first;
    if (!key_node.IsScalar()) {
      throw ConfigError(file_, line_of(key_node), where, "keys must be plain names");
    }
    std::string key = key_node.Scalar();
    const std::string dotted = this->path(key);
    bool is_known = false;
    for (std::string_view k : known) is_known = is_known || k == key;
    if (!is_known) {
      std::string expected;
      for (std::string_view k : known) {
        expected += expected.empty() ? "" : ", ";
        expected += k;
      }
      throw ConfigError(file_, line_of(key_node), dotted,
                        "unknown key (expected one of: " + expected + ")");
    }
    if (find(key) != nullptr) {
      throw ConfigError(file_, line_of(key_node), dotted, "duplicate key");
    }
    entries_.push_back(Entry{std::move(key), key_node, it->second});
  }
}

const Fields::Entry* Fields::find(std::string_view key) const noexcept {
  for (const Entry& e : entries_) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

bool Fields::has(std::string_view key) const noexcept {
  return find(key) != nullptr;
}

YAML::Node Fields::value(std::string_view key) const {
  const Entry* e = find(key);
  return e != nullptr ? e->value : YAML::Node(YAML::NodeType::Undefined);
}

std::string Fields::path(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

int Fields::line_for(std::string_view key) const noexcept {
  const Entry* e = find(key);
  if (e == nullptr) return line_;
  // A null value ("width:") is marked where the next token starts; the key is where the user looks.
  const int value_line = e->value.IsNull() ? 0 : line_of(e->value);
  return value_line > 0 ? value_line : line_of(e->key_node);
}

void Fields::fail(std::string_view key, const std::string& message) const {
  throw ConfigError(file_, line_for(key), path(key), message);
}

void Fields::number(std::string_view key, double& out, const Range& range) const {
  const Entry* e = find(key);
  if (e == nullptr) return;
  if (e->value.IsNull()) fail(key, "expected a number, got nothing (null)");
  const double v = scalar_number(file_, e->value, path(key));
  check_range(file_, line_for(key), path(key), v, range);
  out = v;
}

void Fields::integer(std::string_view key, int& out, const Range& range) const {
  const Entry* e = find(key);
  if (e == nullptr) return;
  if (e->value.IsNull()) fail(key, "expected an integer, got nothing (null)");
  const int v = scalar_integer(file_, e->value, path(key));
  check_range(file_, line_for(key), path(key), v, range);
  out = v;
}

void Fields::unsigned64(std::string_view key, std::uint64_t& out) const {
  const Entry* e = find(key);
  if (e == nullptr) return;
  std::uint64_t v = 0;
  if (!e->value.IsScalar() || !YAML::convert<std::uint64_t>::decode(e->value, v)) {
    fail(key, "expected a non-negative integer, got " + describe_node(e->value));
  }
  out = v;
}

void Fields::size(std::string_view key, std::size_t& out, const Range& range) const {
  int v = 0;
  if (!has(key)) return;
  integer(key, v, range);
  if (v < 0) fail(key, "must not be negative");
  out = static_cast<std::size_t>(v);
}

void Fields::text(std::string_view key, std::string& out, bool allow_empty) const {
  const Entry* e = find(key);
  if (e == nullptr) return;
  if (!e->value.IsScalar()) fail(key, "expected a string, got " + describe_node(e->value));
  if (!allow_empty && e->value.Scalar().empty()) fail(key, "must not be empty");
  out = e->value.Scalar();
}

void Fields::pair(std::string_view key, double& first, double& second, const Range& range) const {
  const Entry* e = find(key);
  if (e == nullptr) return;
  if (!e->value.IsSequence() || e->value.size() != 2) {
    fail(key, "expected a pair [a, b], got " + describe_node(e->value));
  }
  const std::string p = path(key);
  const double a = scalar_number(file_, e->value[0], p + "[0]");
  const double b = scalar_number(file_, e->value[1], p + "[1]");
  check_range(file_, line_for(key), p + "[0]", a, range);
  check_range(file_, line_for(key), p + "[1]", b, range);
  first = a;
  second = b;
}

void Fields::strings(std::string_view key, std::vector<std::string>& out) const {
  const Entry* e = find(key);
  if (e == nullptr) return;
  if (!e->value.IsSequence()) fail(key, "expected a list of names, got " + describe_node(e->value));
  std::vector<std::string> names;
  for (std::size_t i = 0; i < e->value.size(); ++i) {
    const YAML::Node item = e->value[i];
    const std::string p = path(key) + "[" + std::to_string(i) + "]";
    if (!item.IsScalar() || item.Scalar().empty()) {
      throw ConfigError(file_, line_of(item), p, "expected a name, got " + describe_node(item));
    }
    names.push_back(item.Scalar());
  }
  out = std::move(names);
}

Fields Fields::nested(std::string_view key, std::initializer_list<std::string_view> known) const {
  return Fields(file_, value(key), path(key), known, line_for(key));
}

}  // namespace ws::io
