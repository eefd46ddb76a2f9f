// host/blas.hpp - dense matrix-vector products through CBLAS, precision as a template.
#pragma once

#include <cblas.h>

#include <cstdint>

namespace qifsim::detail {

/// y = A x + beta y for a row-major rows x cols matrix A.
template <class T>
void gemv(std::int64_t rows, std::int64_t cols, const T* A, const T* x, T beta, T* y);

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

}  // namespace qifsim::detail
