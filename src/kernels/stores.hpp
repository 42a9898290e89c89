// Regular or non-temporal (streaming) stores for kernels that write a whole output image once.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ws::kernels {

/// How a memory-bound kernel writes its output image. Every choice gives the same pixels.
enum class Stores {
  automatic,  ///< streaming when the call touches more than streaming_threshold_bytes()
  regular,    ///< ordinary stores: the output stays in cache for whoever reads it next
  streaming   ///< non-temporal stores for every whole cache line (tests, benchmarks)
};

/// Size of the last-level cache in bytes, detected once: Linux sysfs (cpu0's highest cache
/// level), else sysconf(_SC_LEVEL3_CACHE_SIZE), else 32 MiB. Thread safety: safe.
std::size_t last_level_cache_bytes();

/// Calls that read and write more bytes than this take streaming stores under Stores::automatic.
std::size_t streaming_threshold_bytes();

/// Whether a kernel call that reads and writes `touched_bytes` in all (inputs plus output)
/// should stream its output under `stores`. Always false where the build has no streaming stores
/// (not x86-64).
bool use_streaming(Stores stores, std::size_t touched_bytes);

/// Writes d[0, n): the whole cache lines with streaming stores of `vec16(x)` (the 16 output
/// bytes at x, an __m128i), the partial lines at either end with `regular(begin, end)`. No line
/// takes both kinds: a regular store pulls its line into cache, a streaming store to a cached
/// line has to evict it first, and whole lines are what the write-combining buffers flush in one
/// go. The caller runs stream_fence() before anyone else may read the output. Without SSE2:
/// regular(0, n).
template <class Vec16, class Regular>
inline void stream_row(std::uint8_t* d, std::ptrdiff_t n, Vec16&& vec16, Regular&& regular) {
#if defined(__SSE2__)
  constexpr std::ptrdiff_t kLine = 64;
  const auto into_line = static_cast<std::ptrdiff_t>(reinterpret_cast<std::uintptr_t>(d) % kLine);
  const std::ptrdiff_t head = std::min(n, (kLine - into_line) % kLine);
  const std::ptrdiff_t lines_end = head + (n - head) / kLine * kLine;
  if (head > 0) regular(std::ptrdiff_t{0}, head);
  for (std::ptrdiff_t x = head; x < lines_end; x += 16) {
    _mm_stream_si128(reinterpret_cast<__m128i*>(d + x), vec16(x));
  }
  if (lines_end < n) regular(lines_end, n);
#else
  (void)vec16;
  regular(std::ptrdiff_t{0}, n);
#endif
}

/// Writes the 64 bytes at `src` to `d` (16-byte aligned, best a whole cache line) with streaming
/// stores, for kernels that make a line's worth of output at a time. The caller runs
/// stream_fence() as for stream_row(). Without SSE2: an ordinary copy.
inline void stream_64(std::uint8_t* d, const void* src) {
#if defined(__SSE2__)
  for (int k = 0; k < 64; k += 16) {
    __m128i part;
    std::memcpy(&part, static_cast<const std::uint8_t*>(src) + k, sizeof part);
    _mm_stream_si128(reinterpret_cast<__m128i*>(d + k), part);
  }
#else
  std::memcpy(d, src, 64);
#endif
}

/// Orders this thread's streaming stores before its later stores (such as the task-completion
/// flag the parallel_for join waits on): they are weakly ordered. Call once per band that
/// streamed.
inline void stream_fence() {
#if defined(__SSE2__)
  _mm_sfence();
#endif
}

}  // namespace ws::kernels
