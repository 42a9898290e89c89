// Shared by the libFuzzer targets: the input cap and the rule that ConfigError is the only
// acceptable failure (anything else escaping a parser is a finding, reported by abort()).
#pragma once

#include "waferscan/error.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

namespace ws::fuzz {

/// Inputs longer than this are skipped: a parser's cost on 4 KiB already shows any blow-up, and
/// larger inputs only slow the search (run.sh passes -max_len=4096 as well).
inline constexpr std::size_t kMaxInput = 4096;

/// Calls `parse(text)`. ConfigError is the documented failure and is swallowed; any other
/// exception aborts so libFuzzer records the input as a crash.
template <typename Parse>
int run_parser(const std::uint8_t* data, std::size_t size, Parse&& parse) {
  if (size > kMaxInput) return -1;  // -1: do not add to the corpus
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    parse(text);
  } catch (const ws::ConfigError&) {
    // expected: bad input
  } catch (const std::exception& e) {
    std::fprintf(stderr, "unexpected exception (not ConfigError): %s\n", e.what());
    std::abort();
  } catch (...) {
    std::fprintf(stderr, "unexpected exception of unknown type\n");
    std::abort();
  }
  return 0;
}

}  // namespace ws::fuzz
