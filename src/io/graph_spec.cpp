// Graph-spec parsing: YAML -> GraphSpec. The in-flight cap is required; nothing is defaulted
// silently except node concurrency.
#include "waferscan/graph_spec.hpp"

#include "base/content_hash.hpp"
#include "io/yaml_fields.hpp"
#include "waferscan/error.hpp"

namespace ws {

namespace {

using io::Fields;
using io::Range;

constexpr double kMaxInFlight = 1024;
constexpr double kMaxConcurrency = 64;

void read_node(const Fields& nodes, std::string_view name, NodeSpec& spec) {
  if (!nodes.has(name)) return;
  nodes.nested(name, {"concurrency"})
      .size("concurrency", spec.concurrency, Range::between(0, kMaxConcurrency));
}

}  // namespace

GraphSpec parse_graph_spec(const std::string& text, const std::filesystem::path& name) {
  const std::string file = name.string();
  const YAML::Node root = io::load_yaml(text, file);
  if (!root.IsDefined() || root.IsNull()) throw ConfigError(file, 0, "", "empty graph spec");
  const Fields top(file, root, "", {"graph", "in_flight", "nodes"}, 1);

  GraphSpec g;
  g.path = name;
  g.source_hash = content_hash(text);
  top.text("graph", g.name);
  if (!top.has("in_flight")) {
    top.fail("in_flight", "required: the cap on frames in the graph (1.." +
                              std::to_string(static_cast<int>(kMaxInFlight)) + ")");
  }
  top.size("in_flight", g.in_flight, Range::between(1, kMaxInFlight));
  if (top.has("nodes")) {
    const Fields nodes = top.nested("nodes", {"preprocess", "detect", "classify"});
    read_node(nodes, "preprocess", g.preprocess);
    read_node(nodes, "detect", g.detect);
    read_node(nodes, "classify", g.classify);
  }
  return g;
}

GraphSpec load_graph_spec(const std::filesystem::path& path) {
  return parse_graph_spec(io::read_text_file(path.string()), path);
}

}  // namespace ws
