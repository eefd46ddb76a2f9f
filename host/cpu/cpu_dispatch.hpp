// host/cpu/cpu_dispatch.hpp - hot CPU loops built twice, a baseline copy and an AVX2 copy, the
// latter chosen at run time where the CPU has AVX2 (x86-64 with GCC or Clang). The AVX2 copy
// has no FMA (-ffp-contract=off, host/CMakeLists.txt), so both copies round alike.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__)
#define QIFSIM_AVX2_COPIES 1
#define QIFSIM_TARGET_AVX2 __attribute__((target("avx2")))
#endif

namespace qifsim::detail {

/// True where the AVX2 copy should run: the CPU has AVX2 and the caller allows it (tests
/// run the baseline copy on any CPU by passing false).
inline bool use_avx2(bool allow) {
#ifdef QIFSIM_AVX2_COPIES
  static const bool has = __builtin_cpu_supports("avx2");
  return allow && has;
#else
  (void)allow;
  return false;
#endif
}

}  // namespace qifsim::detail
