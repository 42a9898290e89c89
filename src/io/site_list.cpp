#include "io/site_list.hpp"

#include "io/wafer_sites.hpp"
#include "io/yaml_fields.hpp"
#include "waferscan/error.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstddef>
#include <numeric>
#include <string_view>

namespace ws::io {

namespace {

constexpr std::size_t kChunkItems = 4096;

std::string site_path(std::size_t index) {
  return "sites[" + std::to_string(index) + "]";
}

// One item of a site list; `index` is its place in the whole list, `line_offset` what its node's
// lines lack (the chunk's first line, less one).
SiteSpec read_site(const std::string& file, const YAML::Node& item, std::size_t index,
                   const WaferGeometry& wafer, int fallback_line, SiteOrigin& origin) {
  const Fields f(file, item, site_path(index), {"die", "name", "position_um"}, fallback_line);
  const YAML::Node die = f.value("die");
  if (!die.IsDefined()) f.fail("die", "required: [i, j]");
  if (!die.IsSequence() || die.size() != 2) {
    f.fail("die", "expected [i, j], got " + describe_node(die));
  }
  SiteSpec s;
  s.index = static_cast<int>(index);
  s.die_i = scalar_integer(file, die[0], f.path("die") + "[0]");
  s.die_j = scalar_integer(file, die[1], f.path("die") + "[1]");
  s.name = die_name(s.die_i, s.die_j);
  f.text("name", s.name);
  s.x_um = die_centre_x(wafer, s.die_i);
  s.y_um = die_centre_y(wafer, s.die_j);
  origin = SiteOrigin{SiteOrigin::Key::die, line_of(die), f.has("name") ? f.line_for("name") : 0};
  if (f.has("position_um")) {
    f.pair("position_um", s.x_um, s.y_um, Range::any());
    origin.key = SiteOrigin::Key::position_um;
    origin.line = line_of(f.value("position_um"));
  }
  return s;
}

void read_items(const YAML::Node& node, const std::string& file, const WaferGeometry& wafer,
                SiteList& out) {
  for (std::size_t k = 0; k < node.size(); ++k) {
    SiteOrigin origin;
    out.sites.push_back(read_site(file, node[k], out.sites.size(), wafer, line_of(node), origin));
    out.origins.push_back(origin);
  }
}

// Where each item of the block starts: the lines that open with "-" at the first item's indent.
std::vector<std::size_t> item_starts(std::string_view block) {
  std::vector<std::size_t> starts;
  std::size_t indent = std::string::npos;
  for (std::size_t at = 0; at < block.size();) {
    const std::size_t end = std::min(block.find('\n', at), block.size());
    const std::size_t first = std::min(block.find_first_not_of(' ', at), block.size());
    if (first < end && block[first] == '-' &&
        (indent == std::string::npos || first - at == indent)) {
      indent = first - at;
      starts.push_back(at);
    }
    at = end + 1;
  }
  return starts;
}

// Consumes `word` at the front of `s`.
bool eat(std::string_view& s, std::string_view word) {
  if (s.substr(0, word.size()) != word) return false;
  s.remove_prefix(word.size());
  return true;
}

bool eat_int(std::string_view& s, int& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || end == s.data()) return false;
  s.remove_prefix(static_cast<std::size_t>(end - s.data()));
  return true;
}

bool plain_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '.';
}

// The form generated site lists are written in, read without building YAML nodes:
// `- {die: [I, J]}` or `- {die: [I, J], name: NAME}`, I and J decimal integers, NAME of letters,
// digits, '_', '-' and '.' starting with a letter or digit. False for anything else, which the YAML
// parser then reads (with its own messages).
bool read_plain_item(std::string_view line, int line_no, const WaferGeometry& wafer,
                     SiteList& out) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
  line.remove_prefix(std::min(line.find_first_not_of(' '), line.size()));
  SiteSpec s;
  if (!eat(line, "- {die: [") || !eat_int(line, s.die_i) || !eat(line, ", ") ||
      !eat_int(line, s.die_j) || !eat(line, "]")) {
    return false;
  }
  SiteOrigin origin{SiteOrigin::Key::die, line_no, 0};
  s.name = die_name(s.die_i, s.die_j);
  if (eat(line, ", name: ")) {
    const std::size_t n = line.size() - 1;  // before the closing brace
    if (n == 0 || line.back() != '}' || std::isalnum(static_cast<unsigned char>(line[0])) == 0 ||
        !std::all_of(line.begin(), line.begin() + static_cast<long>(n), plain_name_char)) {
      return false;
    }
    s.name.assign(line.substr(0, n));
    if (s.name == "null" || s.name == "Null" || s.name == "NULL") return false;  // YAML's null
    origin.name_line = line_no;
    line.remove_prefix(n);
  }
  if (line != "}") return false;
  s.index = static_cast<int>(out.sites.size());
  s.x_um = die_centre_x(wafer, s.die_i);
  s.y_um = die_centre_y(wafer, s.die_j);
  out.sites.push_back(std::move(s));
  out.origins.push_back(origin);
  return true;
}

// Reads a chunk whose every line is a plain item (read_plain_item); false, with nothing added to
// `out`, when one is not.
bool read_plain_chunk(std::string_view chunk, int line_offset, const WaferGeometry& wafer,
                      SiteList& out) {
  const std::size_t first = out.sites.size();
  int line_no = line_offset;
  for (std::size_t at = 0; at < chunk.size();) {
    const std::size_t end = std::min(chunk.find('\n', at), chunk.size());
    ++line_no;
    if (!read_plain_item(chunk.substr(at, end - at), line_no, wafer, out)) {
      out.sites.resize(first);
      out.origins.resize(first);
      return false;
    }
    at = end + 1;
  }
  return true;
}

// Parses one chunk of items; a ConfigError's line is moved from the chunk's to the recipe's.
bool read_chunk(std::string_view chunk, int line_offset, const std::string& file,
                const WaferGeometry& wafer, SiteList& out) {
  if (read_plain_chunk(chunk, line_offset, wafer, out)) return true;
  YAML::Node node;
  try {
    node = YAML::Load(std::string(chunk));
  } catch (const YAML::Exception&) {
    return false;
  }
  if (!node.IsSequence()) return false;
  const std::size_t first = out.sites.size();
  try {
    read_items(node, file, wafer, out);
  } catch (const ConfigError& e) {
    throw ConfigError(e.file(), e.line() > 0 ? e.line() + line_offset : 0, e.key(), e.reason());
  }
  for (std::size_t k = first; k < out.origins.size(); ++k) {
    out.origins[k].line += out.origins[k].line > 0 ? line_offset : 0;
    out.origins[k].name_line += out.origins[k].name_line > 0 ? line_offset : 0;
  }
  return true;
}

}  // namespace

std::string origin_key(const SiteOrigin& origin, std::size_t index) {
  switch (origin.key) {
    case SiteOrigin::Key::die:
      return site_path(index) + ".die";
    case SiteOrigin::Key::position_um:
      return site_path(index) + ".position_um";
    case SiteOrigin::Key::all:
      break;
  }
  return "sites";
}

namespace {

// The line [at, end) belongs to a block sequence under a top-level key: blank, a comment, indented,
// or an item at column 0; a document marker ("---", "...") ends it.
bool in_block(const std::string& text, std::size_t at) {
  if (text.compare(at, 3, "---") == 0 || text.compare(at, 3, "...") == 0) return false;
  const char c = text[at];
  return c == ' ' || c == '\t' || c == '-' || c == '#' || c == '\n' || c == '\r';
}

// The offset of a line "sites:" at column 0 with nothing but a comment after it, and its number.
std::optional<std::pair<std::size_t, int>> sites_key(const std::string& text) {
  int line = 1;
  for (std::size_t at = 0; at < text.size(); ++line) {
    const std::size_t end = std::min(text.find('\n', at), text.size());
    if (text.compare(at, 6, "sites:") == 0) {
      const std::size_t value = text.find_first_not_of(" \t\r", at + 6);
      if (value >= end || text[value] == '#') return std::pair{at, line};
      return std::nullopt;  // `sites: all`, a flow list: the whole-text path
    }
    at = end + 1;
  }
  return std::nullopt;
}

}  // namespace

std::optional<CutSites> cut_sites_block(const std::string& text) {
  const auto key = sites_key(text);
  if (!key) return std::nullopt;
  const std::size_t key_end = std::min(text.find('\n', key->first), text.size());
  const std::size_t begin = std::min(key_end + 1, text.size());
  std::size_t end = begin;
  while (end < text.size() && in_block(text, end)) {
    end = std::min(text.find('\n', end), text.size() - 1) + 1;
  }
  CutSites cut;
  cut.block = std::string_view(text).substr(begin, end - begin);
  if (item_starts(cut.block).empty()) return std::nullopt;
  cut.first_line = key->second + 1;
  const auto block_lines =
      static_cast<std::size_t>(std::count(cut.block.begin(), cut.block.end(), '\n'));
  cut.rest.reserve(text.size() - cut.block.size() + block_lines + 16);
  cut.rest.append(text, 0, key->first).append("sites: []");
  cut.rest.append(text, key_end, begin - key_end);  // the key line's newline, if any
  cut.rest.append(block_lines, '\n');
  cut.rest.append(text, end, std::string::npos);
  return cut;
}

std::optional<SiteList> read_site_block(const CutSites& cut, const std::string& file,
                                        const WaferGeometry& wafer) {
  const std::vector<std::size_t> starts = item_starts(cut.block);
  SiteList out;
  std::size_t counted_to = 0;
  int lines = 0;  // lines of the block before `counted_to`
  for (std::size_t c = 0; c < starts.size(); c += kChunkItems) {
    const std::size_t begin = starts[c];
    const std::size_t end =
        c + kChunkItems < starts.size() ? starts[c + kChunkItems] : cut.block.size();
    lines += static_cast<int>(std::count(cut.block.begin() + static_cast<long>(counted_to),
                                         cut.block.begin() + static_cast<long>(begin), '\n'));
    counted_to = begin;
    if (!read_chunk(cut.block.substr(begin, end - begin), cut.first_line - 1 + lines, file, wafer,
                    out))
      return std::nullopt;
  }
  return out;
}

SiteList read_site_sequence(const YAML::Node& node, const std::string& file,
                            const WaferGeometry& wafer) {
  SiteList out;
  read_items(node, file, wafer, out);
  return out;
}

void check_unique_names(const SiteList& list, const std::string& file) {
  std::vector<std::uint32_t> order(list.sites.size());
  std::iota(order.begin(), order.end(), 0U);
  std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    return list.sites[a].name < list.sites[b].name;
  });
  std::size_t first_repeat = list.sites.size();
  for (std::size_t k = 1; k < order.size(); ++k) {
    if (list.sites[order[k]].name == list.sites[order[k - 1]].name) {
      first_repeat = std::min<std::size_t>(first_repeat, order[k]);
    }
  }
  if (first_repeat == list.sites.size()) return;
  const SiteOrigin& o = list.origins[first_repeat];
  const bool named = o.name_line > 0;
  throw ConfigError(file, named ? o.name_line : o.line,
                    site_path(first_repeat) + (named ? ".name" : ".die"),
                    "duplicate site name '" + list.sites[first_repeat].name + "'");
}

}  // namespace ws::io
