// host/cuda/device_status_cuda.cpp - device probing in a build with CUDA.
#include <cuda_runtime_api.h>

#include <string>

#include "core/memory_check.hpp"
#include "qifsim/device.hpp"
#include "core/text.hpp"

namespace qifsim {

namespace {

// What a failed cudaGetDeviceCount means, in the user's words, with the call and its error.
std::string no_device_reason(cudaError_t e) {
  const std::string call = std::string(" (cudaGetDeviceCount: ") + cudaGetErrorName(e) + ")";
  switch (e) {
    case cudaErrorNoDevice: return "no NVIDIA GPU was found" + call;
    case cudaErrorInsufficientDriver:
      return "no NVIDIA driver was found, or it is older than the CUDA runtime this qifsim was built with" + call;
    case cudaErrorNotPermitted:
    case cudaErrorDevicesUnavailable: return "the GPUs are busy or not available to this process" + call;
    default: return std::string("the CUDA runtime reports ") + cudaGetErrorString(e) + call;
  }
}

}  // namespace

int cuda_device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return count;
}

DeviceStatus cuda_device_status(int device) {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    cudaGetLastError();
    return {false, no_device_reason(e)};
  }
  if (count == 0) return {false, "no NVIDIA GPU was found"};
  if (device < 0 || device >= count) {
    return {false, "there is no GPU " + std::to_string(device) + ": this machine has " + std::to_string(count) +
                       (count == 1 ? " (GPU 0)" : " (GPUs 0 to " + std::to_string(count - 1) + ")")};
  }
  cudaDeviceProp prop{};
  const cudaError_t p = cudaGetDeviceProperties(&prop, device);
  if (p != cudaSuccess) {
    cudaGetLastError();
    return {false, std::string("cudaGetDeviceProperties failed: ") + cudaGetErrorName(p)};
  }
  return {true, std::string(prop.name) + " (GPU " + std::to_string(device) + ", sm_" + std::to_string(prop.major) +
                    std::to_string(prop.minor) + ", " + detail::format_bytes(static_cast<double>(prop.totalGlobalMem)) + ")"};
}

bool built_with_cuda() { return true; }

namespace detail {

std::size_t available_device_memory(int device) {
  int previous = 0;
  if (cudaGetDevice(&previous) != cudaSuccess || cudaSetDevice(device) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  std::size_t free_bytes = 0, total_bytes = 0;
  const cudaError_t e = cudaMemGetInfo(&free_bytes, &total_bytes);
  cudaSetDevice(previous);
  if (e != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return free_bytes;
}

}  // namespace detail

}  // namespace qifsim
