// host/device_status_cuda.cpp - device probing in a build with CUDA.
#include <cuda_runtime_api.h>

#include <string>

#include "memory_check.hpp"
#include "qifsim/device.hpp"
#include "text.hpp"

namespace qifsim {

DeviceStatus cuda_device_status() {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    cudaGetLastError();
    return {false, std::string("cudaGetDeviceCount failed: ") + cudaGetErrorName(e) + " (" +
                       cudaGetErrorString(e) + ")"};
  }
  if (count == 0) return {false, "no CUDA device found"};
  cudaDeviceProp prop{};
  const cudaError_t p = cudaGetDeviceProperties(&prop, 0);
  if (p != cudaSuccess) {
    cudaGetLastError();
    return {false, std::string("cudaGetDeviceProperties failed: ") + cudaGetErrorName(p)};
  }
  return {true, std::string(prop.name) + " (sm_" + std::to_string(prop.major) + std::to_string(prop.minor) +
                    ", " + detail::format_bytes(static_cast<double>(prop.totalGlobalMem)) + ")"};
}

bool built_with_cuda() { return true; }

namespace detail {

std::size_t available_device_memory() {
  std::size_t free_bytes = 0, total_bytes = 0;
  if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return free_bytes;
}

}  // namespace detail

}  // namespace qifsim
