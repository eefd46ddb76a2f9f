// host/cuda/cuda_error.cpp - messages of failed CUDA, cuBLAS and cuSPARSE calls.
#include "cuda_error.hpp"
#include "cuda/cuda_libraries.hpp"

#include <cstdio>
#include <string>

#include "qifsim/error.hpp"

namespace qifsim::cuda {
namespace {

std::string where(const char* call, const char* file, int line) {
  return std::string(call) + " at " + file + ":" + std::to_string(line);
}

}  // namespace

void throw_cuda_error(cudaError_t error, const char* call, const char* file, int line) {
  cudaGetLastError();  // clear a sticky launch error so later calls report their own
  throw BackendError("CUDA call failed: " + where(call, file, line) + ": " +
                     cudaGetErrorName(error) + " (" + cudaGetErrorString(error) + ")");
}

void throw_cublas_error(cublasStatus_t status, const char* call, const char* file, int line) {
  throw BackendError("cuBLAS call failed: " + where(call, file, line) + ": " +
                     cublas().cublasGetStatusName(status) + " (" + cublas().cublasGetStatusString(status) + ")");
}

void throw_cusparse_error(cusparseStatus_t status, const char* call, const char* file, int line) {
  throw BackendError("cuSPARSE call failed: " + where(call, file, line) + ": " +
                     cusparse().cusparseGetErrorName(status) + " (" + cusparse().cusparseGetErrorString(status) + ")");
}

void report_cuda_error(cudaError_t error, const char* call, const char* file, int line) noexcept {
  std::fprintf(stderr, "qifsim: CUDA call failed: %s at %s:%d: %s\n", call, file, line,
               cudaGetErrorName(error));
}

}  // namespace qifsim::cuda

#include "cuda/cuda_resources.hpp"

namespace qifsim::cuda {

void throw_allocation_error(cudaError_t error, const char* what, std::size_t bytes) {
  cudaGetLastError();
  std::size_t free_bytes = 0, total_bytes = 0;
  std::string free_text = "unknown";
  if (cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess) {
    free_text = detail::format_bytes(static_cast<double>(free_bytes)) + " free of " +
                detail::format_bytes(static_cast<double>(total_bytes));
  }
  throw BackendError(std::string(what) + " of " + detail::format_bytes(static_cast<double>(bytes)) +
                     " failed: " + cudaGetErrorName(error) + "; the device has " + free_text);
}

}  // namespace qifsim::cuda
