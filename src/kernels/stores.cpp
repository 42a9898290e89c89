#include "kernels/stores.hpp"

#include <cstdlib>
#include <fstream>
#include <string>

#if defined(__unix__)
#include <unistd.h>
#endif

namespace ws::kernels {

namespace {
constexpr std::size_t kMiB = std::size_t{1} << 20;
constexpr std::size_t kFallbackLlc = 32 * kMiB;

// "32768K", "32M" or a plain byte count, as sysfs writes cache sizes; 0 if unreadable.
std::size_t parse_size(const std::string& text) {
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text.c_str(), &end, 10);
  if (end == text.c_str()) return 0;
  switch (*end) {
    case 'K':
      return static_cast<std::size_t>(value) << 10;
    case 'M':
      return static_cast<std::size_t>(value) << 20;
    case 'G':
      return static_cast<std::size_t>(value) << 30;
    default:
      return static_cast<std::size_t>(value);
  }
}

// The size of cpu0's highest-level data or unified cache as Linux describes it; 0 if none.
std::size_t sysfs_llc() {
  int best_level = 0;
  std::size_t best = 0;
  for (int i = 0; i < 16; ++i) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/";
    std::ifstream level_file(dir + "level");
    if (!level_file) break;
    int level = 0;
    std::string type;
    std::string size;
    level_file >> level;
    std::ifstream(dir + "type") >> type;
    std::ifstream(dir + "size") >> size;
    if (type == "Instruction" || level < best_level) continue;
    best_level = level;
    best = parse_size(size);
  }
  return best;
}

std::size_t detect_llc() {
  // Plausible last-level caches only: a value outside this range is a misreport.
  const auto plausible = [](std::size_t bytes) { return bytes >= kMiB && bytes <= 1024 * kMiB; };
  // sysfs first: in the VM this was measured on, glibc's sysconf(_SC_LEVEL3_CACHE_SIZE) reads
  // CPUID and reports 320 MiB, the host's L3 summed over its chiplets, while sysfs and lscpu give
  // the 32 MiB this VM's cores share. Streaming decided from 320 MiB would never trigger.
  if (const std::size_t bytes = sysfs_llc(); plausible(bytes)) return bytes;
#if defined(_SC_LEVEL3_CACHE_SIZE)
  if (const long bytes = sysconf(_SC_LEVEL3_CACHE_SIZE);
      bytes > 0 && plausible(static_cast<std::size_t>(bytes))) {
    return static_cast<std::size_t>(bytes);
  }
#endif
  return kFallbackLlc;
}
}  // namespace

std::size_t last_level_cache_bytes() {
  static const std::size_t bytes = detect_llc();
  return bytes;
}

std::size_t streaming_threshold_bytes() {
  return last_level_cache_bytes();
}

bool use_streaming(Stores stores, std::size_t touched_bytes) {
#if defined(__SSE2__)
  switch (stores) {
    case Stores::regular:
      return false;
    case Stores::streaming:
      return true;
    case Stores::automatic:
      return touched_bytes > streaming_threshold_bytes();
  }
  return false;
#else
  (void)stores;
  (void)touched_bytes;
  return false;
#endif
}

}  // namespace ws::kernels
