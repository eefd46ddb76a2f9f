// host/blas.hpp - dense matrix-vector products for the CPU backend, precision as a
// template: CBLAS (OpenBLAS) for large matrices where the build has it, a plain loop for
// small ones (OpenBLAS's call and threading cost more than the work below about 192 x 192)
// and where there is no CBLAS.
#pragma once

#include <cstdint>

#if QIFSIM_HAVE_CBLAS
#include <cblas.h>
#endif

namespace qifsim::detail {

/// Matrices with fewer elements go through gemv_loop. Measured with qifsim_bench on 2 cores
/// (float64, steps/s, OpenBLAS -> loop): N = 64: 892k -> 1.12M, N = 128: 180k -> 340k,
/// N = 256: 100k -> 95k (so 256 stays with OpenBLAS).
constexpr std::int64_t kSmallGemvElements = 192 * 192;
/// The loop uses threads from this many elements on.
constexpr std::int64_t kParallelGemvElements = 1 << 18;

/// y = A x + beta y for a row-major rows x cols matrix A (beta = 0: y is not read); each
/// y[i] sums its row in eight interleaved partial sums, in a fixed order.
template <class T>
void gemv_loop(std::int64_t rows, std::int64_t cols, const T* A, const T* x, T beta, T* y) {
  auto row = [&](std::int64_t i) {
    // Eight independent partial sums, so the compiler can vectorise without reassociating.
    constexpr int kLanes = 8;
    const T* a = A + i * cols;
    T acc[kLanes] = {};
    std::int64_t j = 0;
    for (; j + kLanes <= cols; j += kLanes) {
      for (int k = 0; k < kLanes; ++k) acc[k] += a[j + k] * x[j + k];
    }
    T sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; j < cols; ++j) sum += a[j] * x[j];
    y[i] = beta == T(0) ? sum : sum + beta * y[i];
  };
  if (rows * cols >= kParallelGemvElements) {
#pragma omp parallel for schedule(static)
    for (std::int64_t i = 0; i < rows; ++i) row(i);
  } else {
    for (std::int64_t i = 0; i < rows; ++i) row(i);
  }
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
