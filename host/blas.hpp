// host/blas.hpp - dense matrix-vector products for the CPU backend, precision as a
// template: CBLAS (OpenBLAS) where the build has it, else a plain OpenMP loop.
#pragma once

#include <cstdint>

#if QIFSIM_HAVE_CBLAS
#include <cblas.h>
#endif

namespace qifsim::detail {

/// y = A x + beta y for a row-major rows x cols matrix A (beta = 0: y is not read).
template <class T>
void gemv(std::int64_t rows, std::int64_t cols, const T* A, const T* x, T beta, T* y);

#if QIFSIM_HAVE_CBLAS

template <>
inline void gemv<double>(std::int64_t rows, std::int64_t cols, const double* A, const double* x,
                         double beta, double* y) {
  cblas_dgemv(CblasRowMajor, CblasNoTrans, static_cast<int>(rows), static_cast<int>(cols), 1.0, A,
              static_cast<int>(cols), x, 1, beta, y, 1);
}

template <>
inline void gemv<float>(std::int64_t rows, std::int64_t cols, const float* A, const float* x,
                        float beta, float* y) {
  cblas_sgemv(CblasRowMajor, CblasNoTrans, static_cast<int>(rows), static_cast<int>(cols), 1.0f, A,
              static_cast<int>(cols), x, 1, beta, y, 1);
}

#else

template <class T>
void gemv(std::int64_t rows, std::int64_t cols, const T* A, const T* x, T beta, T* y) {
#pragma omp parallel for schedule(static) if (rows * cols >= (1 << 18))
  for (std::int64_t i = 0; i < rows; ++i) {
    const T* a = A + i * cols;
    T sum = T(0);
    for (std::int64_t j = 0; j < cols; ++j) sum += a[j] * x[j];
    y[i] = beta == T(0) ? sum : sum + beta * y[i];
  }
}

#endif

}  // namespace qifsim::detail
