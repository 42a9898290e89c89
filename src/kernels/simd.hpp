// Runtime dispatch for hot row loops, as OpenCV does for its own kernels: with GCC on x86-64 a
// function marked WS_SIMD_CLONES is built for x86-64-v4 (AVX-512), x86-64-v3 (AVX2) and the
// baseline, and the loader picks the best the CPU has (an ifunc). Elsewhere: one plain build.
// Not under ThreadSanitizer: GCC instruments the ifunc resolver it generates, and the loader runs
// resolvers before the TSan runtime is initialised, so every program would crash at startup.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_THREAD__)
#define WS_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define WS_SIMD_CLONES
#endif
