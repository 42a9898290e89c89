// libFuzzer target: ws::parse_fault_spec accepts any text or throws ConfigError; never crashes,
// and every accepted spec round-trips: parse_fault_spec(to_string(f)) == f.
#include "fuzz_common.hpp"
#include "waferscan/sim/fault_spec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return ws::fuzz::run_parser(data, size, [](const std::string& text) {
    const ws::FaultSpec f = ws::parse_fault_spec(text);
    const std::string canonical = ws::to_string(f);
    if (ws::parse_fault_spec(canonical) != f) {
      std::fprintf(stderr, "'%s' does not round-trip through '%s'\n", text.c_str(),
                   canonical.c_str());
      std::abort();
    }
  });
}
