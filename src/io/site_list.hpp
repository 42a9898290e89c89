// A recipe's explicit site list, read so that its cost grows with the number of sites and no
// more: a long block sequence is parsed a chunk of items at a time (yaml-cpp's node tree of a
// million-site list alone took 3.6 GB), and repeated names are found by sorting, not by a set of
// copies of every name.
#pragma once

#include "waferscan/site.hpp"
#include "waferscan/wafer_geometry.hpp"

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ws::io {

/// Where a site's stage position came from, for messages: its die, an explicit position_um, or
/// the `sites: all` keyword; and the line of its explicit name, if any.
struct SiteOrigin {
  enum class Key : std::uint8_t { die, position_um, all };
  Key key = Key::die;
  int line = 0;
  int name_line = 0;  ///< 0: named after its die
};

/// The dotted key of site `index`'s origin ("sites[3].die"; "sites" for `all`).
std::string origin_key(const SiteOrigin& origin, std::size_t index);

struct SiteList {
  std::vector<SiteSpec> sites;
  std::vector<SiteOrigin> origins;  ///< one per site
};

/// A recipe's text with its top-level `sites:` block sequence cut out: `rest` is the text with the
/// key's value an empty list and each line of the block left empty (one byte a line), so every
/// line keeps its number; `block` (a view into the text it was cut from) is the block's lines, the
/// first of them line `first_line`.
struct CutSites {
  std::string rest;
  std::string_view block;
  int first_line = 0;
};

/// nullopt when the text has no top-level `sites:` followed by a block sequence. The result
/// refers to `text`, which must outlive it.
std::optional<CutSites> cut_sites_block(const std::string& text);

/// Parses a cut block a chunk of items at a time, each site as read_site_sequence would (the same
/// messages, lines and keys). nullopt when a chunk is not YAML on its own (an alias of an anchor in
/// another chunk, a syntax error): the caller then parses the whole text, for the usual message.
/// @throws ConfigError for a site that is not what it must be.
std::optional<SiteList> read_site_block(const CutSites& cut, const std::string& file,
                                        const WaferGeometry& wafer);

/// Parses a sequence of sites (`sites: [...]`, or the whole-text path).
SiteList read_site_sequence(const YAML::Node& node, const std::string& file,
                            const WaferGeometry& wafer);

/// Throws ConfigError at the first site (in site order) whose name an earlier site has.
void check_unique_names(const SiteList& list, const std::string& file);

}  // namespace ws::io
