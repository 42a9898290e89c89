// Which sanitizer the test programs were built with, for the few tests that scale their work or
// their deadlines to it. ThreadSanitizer checks every memory access of the image kernels and runs
// a whole inspection about ten times slower than a release build (AddressSanitizer about twice).
#pragma once

#include <chrono>

namespace ws::testing {

#if defined(__SANITIZE_THREAD__)
#define WS_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define WS_TEST_TSAN 1
#endif
#endif

#if defined(__SANITIZE_ADDRESS__)
#define WS_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WS_TEST_ASAN 1
#endif
#endif

#ifdef WS_TEST_TSAN
inline constexpr bool kThreadSanitizer = true;
#else
inline constexpr bool kThreadSanitizer = false;
#endif

#if defined(WS_TEST_TSAN) || defined(WS_TEST_ASAN)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

/// Deadlines for whole runs of the CLI (a hang detector, not a performance bound) are this many
/// times longer under ThreadSanitizer.
inline constexpr int kDeadlineFactor = kThreadSanitizer ? 4 : 1;

}  // namespace ws::testing
