// `waferscan graph SPEC [--dot]`: shows the inspection graph a spec builds, as text or Graphviz
// DOT.
#include "app/commands.hpp"
#include "waferscan/graph_spec.hpp"

#include <iostream>
#include <memory>
#include <sstream>
#include <string>

namespace ws::app {

namespace {

std::string concurrency(std::size_t n) {
  if (n == 0) return "unlimited";
  if (n == 1) return "serial";
  return "concurrency " + std::to_string(n);
}

// DOT string literal: quotes and backslashes escaped.
std::string dot_quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

/// The graph of `spec` in Graphviz DOT: one node per flow-graph node (sites, admit, acquire,
/// preprocess, detect, classify, reorder, publish) labelled with its oneTBB node type and its
/// concurrency, the in-flight cap on admit and in the graph label, and the decrement edge from
/// publish back to admit.
std::string graph_dot(const GraphSpec& spec) {
  const std::string cap = std::to_string(spec.in_flight);
  std::ostringstream o;
  o << "digraph " << dot_quoted(spec.name) << " {\n";
  o << "  rankdir=LR;\n";
  o << "  labelloc=t;\n";
  o << "  label=" << dot_quoted(spec.name + ": in-flight cap " + cap) << ";\n";
  o << "  node [shape=box, style=rounded, fontname=Helvetica];\n";
  o << "  sites [label=\"sites\\ninput_node\", shape=ellipse];\n";
  o << "  admit [label=\"admit\\nlimiter_node\\ncap " << cap << "\", shape=octagon];\n";
  o << "  acquire [label=\"acquire\\nasync_node (hardware agent)\"];\n";
  o << "  preprocess [label=\"preprocess\\nfunction_node\\n"
    << concurrency(spec.preprocess.concurrency) << "\"];\n";
  o << "  detect [label=\"detect\\nfunction_node\\n"
    << concurrency(spec.detect.concurrency) << "\"];\n";
  o << "  classify [label=\"classify\\nfunction_node\\n"
    << concurrency(spec.classify.concurrency) << "\"];\n";
  o << "  reorder [label=\"reorder\\nsequencer_node\\nsite order\"];\n";
  o << "  publish [label=\"publish\\nfunction_node\\nserial\"];\n";
  o << "  sites -> admit -> acquire -> preprocess -> detect -> classify -> reorder -> publish;\n";
  o << "  publish -> admit [label=\"decrement\", style=dashed, constraint=false];\n";
  o << "}\n";
  return o.str();
}

std::string graph_text(const GraphSpec& spec) {
  std::ostringstream o;
  o << spec.name << " (in-flight cap " << spec.in_flight << ")\n"
    << "  sites -> admit(cap " << spec.in_flight << ") -> acquire -> preprocess("
    << concurrency(spec.preprocess.concurrency) << ") -> detect("
    << concurrency(spec.detect.concurrency) << ") -> classify("
    << concurrency(spec.classify.concurrency) << ") -> reorder -> publish(serial)\n"
    << "  publish -> admit (decrement)\n";
  return o.str();
}

}  // namespace

Command add_graph_command(CLI::App& app) {
  struct Args {
    std::string spec;
    bool dot = false;
  };
  auto a = std::make_shared<Args>();
  auto* sub = app.add_subcommand("graph", "Show the inspection graph a graph spec builds");
  sub->add_option("SPEC", a->spec, "Graph spec (YAML)")->required();
  sub->add_flag("--dot", a->dot, "Graphviz DOT output (e.g. | dot -Tsvg > graph.svg)");
  return {sub, [a] {
            const GraphSpec spec = load_graph_spec(a->spec);
            std::cout << (a->dot ? graph_dot(spec) : graph_text(spec)) << std::flush;
            return 0;
          }};
}

}  // namespace ws::app
