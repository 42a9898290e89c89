// Graph specs: the shipped spec parses, the in-flight cap is required, and bad specs name file,
// line and key.
#include "waferscan/graph_spec.hpp"
#include "waferscan/error.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace ws {
namespace {

TEST(GraphSpecFile, InspectYamlParses) {
  const auto path = std::filesystem::path(WS_SOURCE_DIR) / "graphs" / "inspect.yaml";
  const GraphSpec g = load_graph_spec(path);
  EXPECT_EQ(g.path, path);
  EXPECT_EQ(g.name, "inspect");
  EXPECT_EQ(g.in_flight, 4U);
  EXPECT_EQ(g.preprocess.concurrency, 2U);
  EXPECT_EQ(g.detect.concurrency, 2U);
  EXPECT_EQ(g.classify.concurrency, 2U);
}

TEST(GraphSpecFile, MissingFileIsAConfigErrorNamingIt) {
  EXPECT_THROW((void)load_graph_spec("/nonexistent/graph.yaml"), ConfigError);
}

TEST(GraphSpec, NodesDefaultAndZeroMeansUnlimited) {
  const GraphSpec g = parse_graph_spec(
      "in_flight: 1024\nnodes:\n  detect: {concurrency: 0}\n  classify: {}\n", "g.yaml");
  EXPECT_EQ(g.name, "inspect");
  EXPECT_EQ(g.in_flight, 1024U);
  EXPECT_EQ(g.preprocess.concurrency, GraphSpec{}.preprocess.concurrency);
  EXPECT_EQ(g.detect.concurrency, 0U);
  EXPECT_EQ(g.classify.concurrency, GraphSpec{}.classify.concurrency);
}

struct BadGraph {
  std::string label;
  std::string yaml;
  std::string key;
  int line;
};

void PrintTo(const BadGraph& c, std::ostream* os) {
  *os << c.label;
}

class GraphSpecErrorTest : public ::testing::TestWithParam<BadGraph> {};

TEST_P(GraphSpecErrorTest, NamesFileLineAndKey) {
  const BadGraph& c = GetParam();
  const std::string file = "graphs/bad_graph.yaml";
  try {
    (void)parse_graph_spec(c.yaml, file);
    FAIL() << "accepted:\n" << c.yaml;
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_EQ(e.line(), c.line) << what;
    EXPECT_EQ(e.key(), c.key) << what;
    EXPECT_NE(what.find(file + ":" + std::to_string(c.line) + ": "), std::string::npos) << what;
    if (!c.key.empty()) {
      EXPECT_NE(what.find(": " + c.key + ": "), std::string::npos) << what;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    GraphSpec, GraphSpecErrorTest,
    ::testing::Values(
        BadGraph{"Malformed", "graph: a\nin_flight: 4: 5\n", "", 2},
        BadGraph{"MissingInFlight", "graph: a\nnodes: {}\n", "in_flight", 1},
        BadGraph{"InFlightZero", "graph: a\nin_flight: 0\n", "in_flight", 2},
        BadGraph{"InFlightTooLarge", "in_flight: 1025\n", "in_flight", 1},
        BadGraph{"InFlightNotInteger", "in_flight: four\n", "in_flight", 1},
        BadGraph{"InFlightFraction", "in_flight: 2.5\n", "in_flight", 1},
        BadGraph{"UnknownTopKey", "in_flight: 4\ninflight: 4\n", "inflight", 2},
        BadGraph{"UnknownNode", "in_flight: 4\nnodes:\n  detect: {concurrency: 1}\n  publish: {}\n",
                 "nodes.publish", 4},
        BadGraph{"UnknownNodeKey", "in_flight: 4\nnodes:\n  detect:\n    threads: 2\n",
                 "nodes.detect.threads", 4},
        BadGraph{"ConcurrencyTooLarge", "in_flight: 4\nnodes:\n  classify: {concurrency: 65}\n",
                 "nodes.classify.concurrency", 3},
        BadGraph{"ConcurrencyNegative",
                 "in_flight: 4\nnodes:\n  preprocess:\n    concurrency: -1\n",
                 "nodes.preprocess.concurrency", 4},
        BadGraph{"ConcurrencyNotANumber", "in_flight: 4\nnodes: {detect: {concurrency: many}}\n",
                 "nodes.detect.concurrency", 2},
        BadGraph{"NodesNotAMapping", "in_flight: 4\nnodes: [detect]\n", "nodes", 2},
        BadGraph{"NodeNotAMapping", "in_flight: 4\nnodes:\n  detect: 2\n", "nodes.detect", 3},
        BadGraph{"NameNotAString", "graph: {a: 1}\nin_flight: 4\n", "graph", 1}),
    [](const ::testing::TestParamInfo<BadGraph>& p) { return p.param.label; });

}  // namespace
}  // namespace ws
