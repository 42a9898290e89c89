// Which phase each site of a run reached; read after the graph is quiet to persist the sites that
// never reached the publisher (incomplete if acquired, otherwise not started).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace ws::pipeline {

enum class SitePhase : std::uint8_t { pending = 0, acquiring = 1, acquired = 2, published = 3 };

/// Thread safety: mark() and phase() are lock-free and may be called from any thread.
class SiteTracker {
 public:
  explicit SiteTracker(std::size_t sites) : phases_(sites) {}
  /// Advances site `index` to `phase` (never backwards).
  void mark(std::size_t index, SitePhase phase) noexcept {
    auto& slot = phases_[index];
    auto current = slot.load();
    const auto target = static_cast<std::uint8_t>(phase);
    while (current < target && !slot.compare_exchange_weak(current, target)) {
    }
  }
  [[nodiscard]] SitePhase phase(std::size_t index) const noexcept {
    return static_cast<SitePhase>(phases_[index].load());
  }
  [[nodiscard]] std::size_t size() const noexcept { return phases_.size(); }

 private:
  std::vector<std::atomic<std::uint8_t>> phases_;
};

}  // namespace ws::pipeline
