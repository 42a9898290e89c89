// A small portable random generator for the simulator: the same seed gives the same die on every
// platform (std:: distributions are implementation-defined, so they are not used here).
#pragma once

#include "base/splitmix.hpp"

#include <cmath>
#include <cstdint>

namespace ws::sim {

using ws::mix64;

/// A seed for one purpose (`salt`) on die (i, j) of a recipe seed.
constexpr std::uint64_t die_seed(std::uint64_t seed, int i, int j, std::uint64_t salt) noexcept {
  std::uint64_t h = mix64(seed ^ mix64(salt));
  h = mix64(h ^ static_cast<std::uint32_t>(i));
  h = mix64(h ^ (static_cast<std::uint64_t>(static_cast<std::uint32_t>(j)) << 32));
  return h;
}

/// SplitMix64 stream. Not thread-safe; one per use.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) noexcept : state_(seed) {}

  /// Counter-based: mix64 of successive states (mix64 adds the golden-ratio step itself).
  std::uint64_t next() noexcept { return mix64(state_++); }
  /// Uniform in [0, 1).
  double uniform() noexcept { return unit_double(next()); }
  double uniform(double lo, double hi) noexcept { return lo + (hi - lo) * uniform(); }
  /// Uniform integer in [lo, hi] (inclusive); lo when hi < lo.
  int uniform_int(int lo, int hi) noexcept {
    if (hi <= lo) return lo;
    const auto span = static_cast<std::uint64_t>(static_cast<std::int64_t>(hi) - lo + 1);
    return static_cast<int>(lo + static_cast<std::int64_t>(next() % span));
  }
  bool chance(double p) noexcept { return uniform() < p; }
  /// Poisson-distributed count with the given mean (Knuth; fine for the small means used here),
  /// capped at `cap`.
  int poisson(double mean, int cap) noexcept {
    if (mean <= 0.0) return 0;
    const double limit = std::exp(-mean);
    double p = uniform();
    int k = 0;
    while (p > limit && k < cap) {
      p *= uniform();
      ++k;
    }
    return k;
  }

 private:
  std::uint64_t state_;
};

}  // namespace ws::sim
