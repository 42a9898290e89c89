// Pins down `waferscan bench --json` as a user runs it: one JSON object with measured throughput of
// the graph and the serial loop, their ratio, stop and abort latency percentiles, peak RSS and the
// settings it ran with; every number positive and consistent with the others.
#include "common/process.hpp"
#include "common/run_fixture.hpp"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace ws::testing {
namespace {

using nlohmann::json;

void expect_series(const json& s, const std::string& what, std::size_t stops) {
  SCOPED_TRACE(what);
  ASSERT_TRUE(s.is_object());
  for (const char* k : {"p50", "p99", "max"}) {
    ASSERT_TRUE(s.contains(k) && s[k].is_number()) << k;
  }
  EXPECT_EQ(s["n"].get<std::size_t>() + s["missed"].get<std::size_t>(), stops);
  EXPECT_GE(s["n"].get<std::size_t>(), 1u) << "every stop came after the run had finished";
  EXPECT_GT(s["p50"].get<double>(), 0.0);
  EXPECT_LE(s["p50"].get<double>(), s["p99"].get<double>());
  EXPECT_LE(s["p99"].get<double>(), s["max"].get<double>());
  const json& hw = s["hardware_safe"];
  EXPECT_GE(hw["p50"].get<double>(), s["p50"].get<double>()) << "safe before quiet";
  EXPECT_GE(hw["max"].get<double>(), s["max"].get<double>());
}

TEST(CliBench, JsonHasMeasuredThroughputAndStopLatency) {
  TempDir dir;
  const std::size_t stops = 4;
  const auto r =
      run_cli({"bench", "--recipe", source_path("data/recipes/quick.yaml").string(), "--graph",
               source_path("graphs/inspect.yaml").string(), "--frames", "6", "--size", "512",
               "--in-flight", "3", "--stops", std::to_string(stops), "--pairs", "3", "--json"},
              dir.path(), std::chrono::seconds(240));
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = json::parse(r.out);
  const json& fps = j["throughput_fps"];
  ASSERT_TRUE(fps.is_object());
  EXPECT_GT(fps["graph"].get<double>(), 0.0);
  EXPECT_GT(fps["serial"].get<double>(), 0.0);
  // Three back-to-back pairs: each ratio is its pair's, the reported ratio and frames/s are the
  // medians (the middle of three).
  const json& pairs = j["throughput_pairs"];
  ASSERT_EQ(pairs.size(), 3U);
  EXPECT_EQ(j["pairs"].get<int>(), 3);
  std::vector<double> ratios;
  std::vector<double> graph;
  std::vector<double> serial;
  for (const json& p : pairs) {
    EXPECT_NEAR(p["ratio"].get<double>(), p["graph"].get<double>() / p["serial"].get<double>(),
                1e-9);
    ratios.push_back(p["ratio"].get<double>());
    graph.push_back(p["graph"].get<double>());
    serial.push_back(p["serial"].get<double>());
  }
  for (auto* v : {&ratios, &graph, &serial}) std::sort(v->begin(), v->end());
  EXPECT_DOUBLE_EQ(j["throughput_ratio"].get<double>(), ratios[1]);
  EXPECT_DOUBLE_EQ(fps["graph"].get<double>(), graph[1]);
  EXPECT_DOUBLE_EQ(fps["serial"].get<double>(), serial[1]);
  expect_series(j["stop_latency_ms"]["stop"], "stop", stops);
  expect_series(j["stop_latency_ms"]["abort"], "abort", stops);
  EXPECT_GT(j["peak_rss_mb"].get<double>(), 0.0);
  EXPECT_EQ(j["frame_size"].get<int>(), 512);
  EXPECT_EQ(j["in_flight"].get<int>(), 3);
  EXPECT_LE(j["max_in_flight"].get<int>(), 3);
  EXPECT_GE(j["cores"].get<int>(), 1);
  EXPECT_EQ(j["sites_done"]["graph"].get<int>(), 6);
  EXPECT_EQ(j["sites_done"]["serial"].get<int>(), 6);
}

TEST(CliBench, RefusesAFrameSizeOutOfRange) {
  TempDir dir;
  const auto r = run_cli({"bench", "--size", "10", "--json"}, dir.path());
  EXPECT_EQ(r.code, 2) << r.err;
}

}  // namespace
}  // namespace ws::testing
