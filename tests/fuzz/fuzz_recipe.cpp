// libFuzzer target: ws::parse_recipe accepts any text or throws ConfigError; never crashes.
#include "fuzz_common.hpp"
#include "waferscan/recipe.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return ws::fuzz::run_parser(data, size, [](const std::string& text) {
    const ws::Recipe r = ws::parse_recipe(text, "fuzz/recipe.yaml");
    if (r.sites.empty()) {  // the parser promises at least one site
      std::fprintf(stderr, "parse_recipe returned a recipe without sites\n");
      std::abort();
    }
  });
}
