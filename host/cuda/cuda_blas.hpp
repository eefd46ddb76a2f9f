// host/cuda/cuda_blas.hpp - cuBLAS gemv for row-major matrices, precision as a template.
#pragma once

#include <cublas_v2.h>

#include <cstddef>
#include <cstdint>

#include "cuda_error.hpp"
#include "cuda/cuda_libraries.hpp"

namespace qifsim::cuda {

/// Bind a handle to its stream and a user-owned workspace, once. (cublasSetStream resets
/// the workspace to cuBLAS's pool, whose lazy allocations break CUDA Graph capture, so
/// the stream is not set again per call.)
inline void bind(cublasHandle_t handle, cudaStream_t stream, void* workspace, std::size_t bytes) {
  QIFSIM_CUBLAS_TRY(cublas().cublasSetStream(handle, stream));
  QIFSIM_CUBLAS_TRY(cublas().cublasSetWorkspace(handle, workspace, bytes));
}

/// y = A x + beta y on the handle's stream, A row-major rows x cols in device memory. A
/// row-major matrix is its column-major transpose, hence CUBLAS_OP_T with lda = cols.
template <class T>
void gemv(cublasHandle_t handle, std::int64_t rows, std::int64_t cols, const T* A, const T* x,
          T beta, T* y);

template <>
inline void gemv<double>(cublasHandle_t handle, std::int64_t rows, std::int64_t cols,
                         const double* A, const double* x, double beta, double* y) {
  const double one = 1.0;
  QIFSIM_CUBLAS_TRY(cublas().cublasDgemv(handle, CUBLAS_OP_T, static_cast<int>(cols), static_cast<int>(rows),
                                &one, A, static_cast<int>(cols), x, 1, &beta, y, 1));
}

template <>
inline void gemv<float>(cublasHandle_t handle, std::int64_t rows, std::int64_t cols,
                        const float* A, const float* x, float beta, float* y) {
  const float one = 1.0f;
  QIFSIM_CUBLAS_TRY(cublas().cublasSgemv(handle, CUBLAS_OP_T, static_cast<int>(cols), static_cast<int>(rows),
                                &one, A, static_cast<int>(cols), x, 1, &beta, y, 1));
}

}  // namespace qifsim::cuda
