// host/cuda/transfers.hpp - blocking copies between host vectors and device buffers, for setup,
// get_var/set_var and error reports (never inside the step loop).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <vector>

#include "cuda/cuda_resources.hpp"
#include "qifsim/population.hpp"

namespace qifsim::cuda {

/// A device buffer holding `values` converted to T.
template <class T>
DeviceBuffer<T> upload(const std::vector<double>& values, cudaStream_t stream) {
  DeviceBuffer<T> buf(values.size());
  if (values.empty()) return buf;
  std::vector<T> host(values.begin(), values.end());
  QIFSIM_CUDA_TRY(cudaMemcpyAsync(buf.data(), host.data(), host.size() * sizeof(T),
                                  cudaMemcpyHostToDevice, stream));
  QIFSIM_CUDA_TRY(cudaStreamSynchronize(stream));  // `host` goes out of scope
  return buf;
}

/// A device buffer holding `values` as they are (no conversion).
template <class T>
DeviceBuffer<T> upload_exact(const std::vector<T>& values, cudaStream_t stream) {
  DeviceBuffer<T> buf(values.size());
  if (values.empty()) return buf;
  QIFSIM_CUDA_TRY(cudaMemcpyAsync(buf.data(), values.data(), values.size() * sizeof(T), cudaMemcpyHostToDevice,
                                  stream));
  QIFSIM_CUDA_TRY(cudaStreamSynchronize(stream));
  return buf;
}

/// n values of device memory, copied to the host.
template <class T>
std::vector<T> download(const T* device, std::size_t n, cudaStream_t stream) {
  std::vector<T> host(n);
  if (n == 0) return host;
  QIFSIM_CUDA_TRY(cudaMemcpyAsync(host.data(), device, n * sizeof(T), cudaMemcpyDeviceToHost, stream));
  QIFSIM_CUDA_TRY(cudaStreamSynchronize(stream));
  return host;
}

}  // namespace qifsim::cuda
