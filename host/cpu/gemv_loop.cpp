// host/cpu/gemv_loop.cpp - the CPU backend's own matrix-vector product (see blas.hpp): a
// baseline copy and an AVX2 copy (cpu_dispatch.hpp). Both sum each row in the same eight
// partial sums in the same order, so they give the same bits.
#include <cstdint>

#include "cpu/blas.hpp"
#include "cpu/cpu_dispatch.hpp"

namespace qifsim::detail {
namespace {

// Row i's eight partial sums (lane k adds a[j + k] x[j + k] for j = 0, 8, 16, ...), then a
// fixed tree and the tail: the order that defines the result.
template <class T>
__attribute__((always_inline)) inline T finish_row(const T* acc, const T* a, const T* x, std::int64_t j,
                                                   std::int64_t cols) {
  T sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; j < cols; ++j) sum += a[j] * x[j];
  return sum;
}

constexpr int kLanes = 8;

// 32 bytes of T as one vector (GCC/Clang vector extension: one AVX register, or two SSE
// registers in the baseline copy). The eight lanes of a row are kParts such vectors; element
// k of the whole is the scalar lane k, so each lane rounds as a scalar sum would.
template <class T>
struct Vec32;
template <>
struct Vec32<double> {
  typedef double type __attribute__((vector_size(32)));
};
template <>
struct Vec32<float> {
  typedef float type __attribute__((vector_size(32)));
};
template <class T>
using V = typename Vec32<T>::type;
template <class T>
constexpr int kParts = kLanes * static_cast<int>(sizeof(T)) / 32;

// a += b * c for vectors read from memory at pb, pc (unaligned). By reference, not by
// value: no vector crosses a call boundary, whatever the copy's instruction set.
template <class T>
__attribute__((always_inline)) inline void mul_add(V<T>& a, const T* pb, const V<T>& c) {
  V<T> b;
  __builtin_memcpy(&b, pb, sizeof(b));
  a += b * c;
}
template <class T>
__attribute__((always_inline)) inline void load(V<T>& v, const T* p) {
  __builtin_memcpy(&v, p, sizeof(v));
}

// y[i] .. y[i + R - 1]: R rows share the loads of x and keep R independent chains of sums
// in flight (one row alone waits on its adds); each row's sums are exactly those of the row
// computed alone.
template <class T, int R>
__attribute__((always_inline)) inline void row_group(std::int64_t i, std::int64_t cols, const T* __restrict A,
                                                     const T* __restrict x, T beta, T* __restrict y) {
  constexpr int P = kParts<T>;
  constexpr int W = 32 / static_cast<int>(sizeof(T));  // values per vector
  const std::int64_t whole = cols - cols % kLanes;
  const T* a = A + i * cols;
  V<T> c[R][P] = {};
  for (std::int64_t j = 0; j < whole; j += kLanes) {
#pragma GCC unroll 2
    for (int q = 0; q < P; ++q) {
      V<T> xv;
      load(xv, x + j + q * W);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) mul_add(c[r][q], a + r * cols + j + q * W, xv);
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    T lanes[kLanes];
    __builtin_memcpy(lanes, c[r], sizeof(lanes));
    const T sum = finish_row(lanes, a + r * cols, x, whole, cols);
    y[i + r] = beta == T(0) ? sum : sum + beta * y[i + r];
  }
}

// y[i] for rows begin..end-1: four rows at a time, then the rest one by one.
template <class T>
__attribute__((always_inline)) inline void rows_loop(std::int64_t begin, std::int64_t end, std::int64_t cols,
                                                     const T* A, const T* x, T beta, T* y) {
  std::int64_t i = begin;
  for (; i + 4 <= end; i += 4) row_group<T, 4>(i, cols, A, x, beta, y);
  for (; i < end; ++i) row_group<T, 1>(i, cols, A, x, beta, y);
}

template <class T>
void rows_baseline(std::int64_t begin, std::int64_t end, std::int64_t cols, const T* A, const T* x, T beta, T* y) {
  rows_loop(begin, end, cols, A, x, beta, y);
}

#ifdef QIFSIM_AVX2_COPIES
template <class T>
QIFSIM_TARGET_AVX2 void rows_avx2(std::int64_t begin, std::int64_t end, std::int64_t cols, const T* A, const T* x,
                                  T beta, T* y) {
  rows_loop(begin, end, cols, A, x, beta, y);
}
#endif

template <class T>
void rows(std::int64_t begin, std::int64_t end, std::int64_t cols, const T* A, const T* x, T beta, T* y,
          bool allow_avx2) {
  if (cols < kLanes) {  // no whole lane block: the eight partial sums are +0, only the tail adds
    for (std::int64_t i = begin; i < end; ++i) {
      const T* a = A + i * cols;
      T sum = T(0);
      for (std::int64_t j = 0; j < cols; ++j) sum += a[j] * x[j];
      y[i] = beta == T(0) ? sum : sum + beta * y[i];
    }
    return;
  }
#ifdef QIFSIM_AVX2_COPIES
  if (use_avx2(allow_avx2)) {
    rows_avx2(begin, end, cols, A, x, beta, y);
    return;
  }
#endif
  rows_baseline(begin, end, cols, A, x, beta, y);
}

}  // namespace

template <class T>
void gemv_loop(std::int64_t nrows, std::int64_t cols, const T* A, const T* x, T beta, T* y, bool allow_avx2) {
  if (nrows * cols >= kParallelGemvElements) {
    constexpr std::int64_t kRows = 16;
#pragma omp parallel for schedule(static)
    for (std::int64_t b = 0; b < nrows; b += kRows) rows(b, b + kRows < nrows ? b + kRows : nrows, cols, A, x, beta, y, allow_avx2);
  } else {
    rows(0, nrows, cols, A, x, beta, y, allow_avx2);
  }
}

template <class T>
void gemv_loop_batch(std::int64_t nrows, std::int64_t cols, const T* A, const T* const* X, std::int64_t members,
                     T* const* Y, bool allow_avx2) {
  // 16 rows (16 x cols values) stay in cache while every member's x passes over them.
  constexpr std::int64_t kRows = 16;
  const bool parallel = nrows * cols * members >= kParallelGemvElements;
#pragma omp parallel for schedule(static) if (parallel)
  for (std::int64_t b = 0; b < nrows; b += kRows) {
    const std::int64_t end = b + kRows < nrows ? b + kRows : nrows;
    for (std::int64_t m = 0; m < members; ++m) rows(b, end, cols, A, X[m], T(0), Y[m], allow_avx2);
  }
}

template void gemv_loop_batch<float>(std::int64_t, std::int64_t, const float*, const float* const*, std::int64_t,
                                     float* const*, bool);
template void gemv_loop_batch<double>(std::int64_t, std::int64_t, const double*, const double* const*, std::int64_t,
                                      double* const*, bool);
template void gemv_loop<float>(std::int64_t, std::int64_t, const float*, const float*, float, float*, bool);
template void gemv_loop<double>(std::int64_t, std::int64_t, const double*, const double*, double, double*, bool);

}  // namespace qifsim::detail
