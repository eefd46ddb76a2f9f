// kernels/block_reduce.cuh - sum over a thread block (device code).
#pragma once

namespace qifsim::kernels {

/// Sum of `value` over the block; every thread must call it; the result is valid in
/// thread 0. `scratch` holds blockDim.x doubles (shared memory).
__device__ inline double block_sum(double value, double* scratch) {
  scratch[threadIdx.x] = value;
  __syncthreads();
  for (unsigned int half = blockDim.x / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) scratch[threadIdx.x] += scratch[threadIdx.x + half];
    __syncthreads();
  }
  const double total = scratch[0];
  __syncthreads();  // scratch may be reused right away
  return total;
}

/// Largest `value` over the block (valid in every thread).
template <class T>
__device__ inline T block_max(T value, T* scratch) {
  scratch[threadIdx.x] = value;
  __syncthreads();
  for (unsigned int half = blockDim.x / 2; half > 0; half /= 2) {
    if (threadIdx.x < half && scratch[threadIdx.x + half] > scratch[threadIdx.x]) {
      scratch[threadIdx.x] = scratch[threadIdx.x + half];
    }
    __syncthreads();
  }
  const T top = scratch[0];
  __syncthreads();
  return top;
}

}  // namespace qifsim::kernels
