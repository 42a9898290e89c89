// libFuzzer target: ws::parse_graph_spec accepts any text or throws ConfigError; never crashes,
// and an accepted spec always has an in-flight cap in [1, 1024].
#include "fuzz_common.hpp"
#include "waferscan/graph_spec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return ws::fuzz::run_parser(data, size, [](const std::string& text) {
    const ws::GraphSpec g = ws::parse_graph_spec(text, "fuzz/graph.yaml");
    if (g.in_flight < 1 || g.in_flight > 1024) {
      std::fprintf(stderr, "parse_graph_spec accepted in_flight %zu\n", g.in_flight);
      std::abort();
    }
  });
}
