// kernels/block_reduce.cuh - sums over a thread block and over the blocks of a grid (device
// code): together they compute the one reduction order of host/model/reduction.hpp.
#pragma once

#include <cuda/atomic>

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

/// sum_{i < n} value(i) in the one reduction order (host/model/reduction.hpp) by one block of
/// 256 threads (model::kReductionBlock), for any n: each run of 256 consecutive values is summed
/// by block_sum's halving tree, and those sums are added in order, starting from 0. Every thread
/// must call it; the result is valid in every thread.
template <class F>
__device__ inline double ordered_sum_by_block(std::int64_t n, F value, double* scratch) {
  double total = 0.0;
  for (std::int64_t first = 0; first < n; first += blockDim.x) {
    const std::int64_t i = first + threadIdx.x;
    total += block_sum(i < n ? static_cast<double>(value(i)) : 0.0, scratch);
  }
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

/// sum_{b < count} partial[b], added in block order (b = 0, 1, ...) by one thread, with
/// kRowDotBatch loads in flight at a time instead of one dependent load per add. Reads
/// through L2 (__ldcg): the values were written by other blocks.
__device__ inline double sum_in_block_order(const double* partial, unsigned int count) {
  constexpr unsigned int kBatch = 8;
  double sum = 0.0;
  unsigned int b = 0;
  for (; b + kBatch <= count; b += kBatch) {
    double q[kBatch];
#pragma unroll
    for (unsigned int k = 0; k < kBatch; ++k) q[k] = __ldcg(partial + b + k);
#pragma unroll
    for (unsigned int k = 0; k < kBatch; ++k) sum += q[k];
  }
  for (; b < count; ++b) sum += __ldcg(partial + b);
  return sum;
}

/// True in every thread of the last block of the grid to get here; the writes of all other
/// blocks before their call are visible to it. Every thread must call it; `counter` starts at
/// 0 and the last block must reset it. Thread 0 arrives with a device-scope release
/// (ordering the block's writes, made before the barrier, ahead of the arrival) and only the
/// last block acquires: no block invalidates its L1 with a full fence.
__device__ inline bool last_block_to_arrive(unsigned int* counter) {
  __shared__ bool last;
  __syncthreads();  // the block's writes are issued
  if (threadIdx.x == 0) {
    ::cuda::atomic_ref<unsigned int, ::cuda::thread_scope_device> arrivals(*counter);
    last = arrivals.fetch_add(1u, ::cuda::memory_order_release) == gridDim.x - 1;
  }
  __syncthreads();
  if (last) ::cuda::atomic_thread_fence(::cuda::memory_order_acquire, ::cuda::thread_scope_device);
  return last;
}

}  // namespace qifsim::kernels
