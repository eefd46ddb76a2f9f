// host/cpu/blas.hpp - dense matrix-vector products for the CPU backend, precision as a
// template: CBLAS (OpenBLAS) for large matrices where the build has it, a plain loop for
// small ones (OpenBLAS's call and threading cost more than the work below about 192 x 192)
// and where there is no CBLAS.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#if QIFSIM_HAVE_CBLAS
#include <cblas.h>
#endif

namespace qifsim::detail {

/// Matrices with fewer elements go through gemv_loop. Measured with qifsim_bench on 2 cores
/// (float64, steps/s, OpenBLAS -> loop): N = 64: 892k -> 1.12M, N = 128: 180k -> 340k,
/// N = 256: 100k -> 95k (so 256 stayed with OpenBLAS). With the 4-row AVX2 loop the
/// threshold was retried at 400 x 400: N = 256 within the machine's run-to-run noise
/// (bench/RESULTS.md 4c), so it stays.
constexpr std::int64_t kSmallGemvElements = std::int64_t{192} * 192;
/// The loop uses threads from this many elements on.
constexpr std::int64_t kParallelGemvElements = 1 << 18;

/// y = A x + beta y for a row-major rows x cols matrix A (beta = 0: y is not read). Row i
/// is summed in eight partial sums, lane k taking A[i][j] x[j] for j = k, k + 8, ... (j below
/// cols - cols % 8) in order, then ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)), then the
/// remaining columns in order, then + beta y[i]: the same bits on every CPU
/// (host/cpu/gemv_loop.cpp runs an AVX2 copy where the CPU has AVX2, unless allow_avx2 is false).
template <class T>
void gemv_loop(std::int64_t rows, std::int64_t cols, const T* A, const T* x, T beta, T* y, bool allow_avx2 = true);

/// Y[m] = A X[m] for members m = 0 .. members - 1, each row summed as gemv_loop sums it (the
/// same bits), the rows taken in blocks read once for every member.
template <class T>
void gemv_loop_batch(std::int64_t rows, std::int64_t cols, const T* A, const T* const* X, std::int64_t members,
                     T* const* Y, bool allow_avx2 = true);

/// Y[m] = A X[m] for members m = 0 .. members - 1 as one GEMM (X and Y packed through `pack`):
/// false, doing nothing, where the build has no CBLAS.
template <class T>
bool gemm_batch(std::int64_t rows, std::int64_t cols, const T* A, const T* const* X, std::int64_t members,
                T* const* Y, std::vector<T>& pack) {
#if QIFSIM_HAVE_CBLAS
  const auto b = static_cast<std::size_t>(members);
  const auto c = static_cast<std::size_t>(cols), r = static_cast<std::size_t>(rows);
  pack.resize(b * (c + r));
  T* xp = pack.data();  // members x cols, row m = X[m]
  T* yp = xp + b * c;   // members x rows, row m = Y[m]
  for (std::size_t m = 0; m < b; ++m) std::copy(X[m], X[m] + c, xp + m * c);
  // Y^T = X^T-major product: (members x cols) times A^T (cols x rows).
  if constexpr (sizeof(T) == sizeof(double)) {
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(members), static_cast<int>(rows),
                static_cast<int>(cols), 1.0, xp, static_cast<int>(cols), A, static_cast<int>(cols), 0.0, yp,
                static_cast<int>(rows));
  } else {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(members), static_cast<int>(rows),
                static_cast<int>(cols), 1.0f, xp, static_cast<int>(cols), A, static_cast<int>(cols), 0.0f, yp,
                static_cast<int>(rows));
  }
  for (std::size_t m = 0; m < b; ++m) std::copy(yp + m * r, yp + (m + 1) * r, Y[m]);
  return true;
#else
  (void)rows, (void)cols, (void)A, (void)X, (void)members, (void)Y, (void)pack;
  return false;
#endif
}

/// y = A x + beta y for a row-major rows x cols matrix A (beta = 0: y is not read).
template <class T>
void gemv(std::int64_t rows, std::int64_t cols, const T* A, const T* x, T beta, T* y) {
#if QIFSIM_HAVE_CBLAS
  if (rows * cols >= kSmallGemvElements) {
    if constexpr (sizeof(T) == sizeof(double)) {
      cblas_dgemv(CblasRowMajor, CblasNoTrans, static_cast<int>(rows), static_cast<int>(cols), 1.0, A,
                  static_cast<int>(cols), x, 1, beta, y, 1);
    } else {
      cblas_sgemv(CblasRowMajor, CblasNoTrans, static_cast<int>(rows), static_cast<int>(cols), 1.0f, A,
                  static_cast<int>(cols), x, 1, beta, y, 1);
    }
    return;
  }
#endif
  gemv_loop(rows, cols, A, x, beta, y);
}

}  // namespace qifsim::detail
