// SplitMix64's finaliser: the one 64-bit mix behind every deterministic draw (the simulator's
// generator, fault draws), so that the same seed gives the same result on every platform.
#pragma once

#include <cstdint>

namespace ws {

constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

/// The top 53 bits of `bits` as a double in [0, 1).
constexpr double unit_double(std::uint64_t bits) noexcept {
  return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

}  // namespace ws
