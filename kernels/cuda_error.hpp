// kernels/cuda_error.hpp - checked CUDA, cuBLAS and cuSPARSE calls.
//
// QIFSIM_CUDA_TRY(call) throws qifsim::BackendError naming the call, the file:line and the
// error; the _NOEXCEPT twin reports to stderr instead (for destructors). The formatting
// lives in host/cuda/cuda_error.cpp, not in the macros.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cusparse.h>

namespace qifsim::cuda {

[[noreturn]] void throw_cuda_error(cudaError_t error, const char* call, const char* file, int line);
[[noreturn]] void throw_cublas_error(cublasStatus_t status, const char* call, const char* file,
                                     int line);
[[noreturn]] void throw_cusparse_error(cusparseStatus_t status, const char* call, const char* file,
                                       int line);
void report_cuda_error(cudaError_t error, const char* call, const char* file, int line) noexcept;

}  // namespace qifsim::cuda

#define QIFSIM_CUDA_TRY(call)                                                          \
  do {                                                                                 \
    const cudaError_t qifsim_error_ = (call);                                          \
    if (qifsim_error_ != cudaSuccess)                                                  \
      ::qifsim::cuda::throw_cuda_error(qifsim_error_, #call, __FILE__, __LINE__);      \
  } while (0)

#define QIFSIM_CUDA_TRY_NOEXCEPT(call)                                                 \
  do {                                                                                 \
    const cudaError_t qifsim_error_ = (call);                                          \
    if (qifsim_error_ != cudaSuccess)                                                  \
      ::qifsim::cuda::report_cuda_error(qifsim_error_, #call, __FILE__, __LINE__);     \
  } while (0)

#define QIFSIM_CUBLAS_TRY(call)                                                        \
  do {                                                                                 \
    const cublasStatus_t qifsim_status_ = (call);                                      \
    if (qifsim_status_ != CUBLAS_STATUS_SUCCESS)                                       \
      ::qifsim::cuda::throw_cublas_error(qifsim_status_, #call, __FILE__, __LINE__);   \
  } while (0)

#define QIFSIM_CUSPARSE_TRY(call)                                                      \
  do {                                                                                 \
    const cusparseStatus_t qifsim_status_ = (call);                                    \
    if (qifsim_status_ != CUSPARSE_STATUS_SUCCESS)                                     \
      ::qifsim::cuda::throw_cusparse_error(qifsim_status_, #call, __FILE__, __LINE__); \
  } while (0)

/// After a kernel launch: a launch-configuration error names the kernel ("launch of
/// qif_step_kernel at kernels/qif_step.cu:57: ...").
#define QIFSIM_CUDA_CHECK_LAUNCH(kernel_name)                                          \
  do {                                                                                 \
    const cudaError_t qifsim_error_ = cudaGetLastError();                              \
    if (qifsim_error_ != cudaSuccess)                                                  \
      ::qifsim::cuda::throw_cuda_error(qifsim_error_, "launch of " #kernel_name,       \
                                       __FILE__, __LINE__);                            \
  } while (0)
