// kernels/row_dot.cuh - a dot product of one row of a dense matrix with a vector, summed by
// one thread block in a fixed order (device code). Shared by the row-block coupling kernel
// and the fused step kernel.
#pragma once

#include <cstdint>

namespace qifsim::kernels {

template <class T>
__device__ inline T warp_sum(T value) {
  for (int offset = 16; offset > 0; offset /= 2) value += __shfl_down_sync(0xffffffffu, value, offset);
  return value;  // valid in lane 0
}

/// Loads of J per thread kept in flight by block_row_dot.
constexpr int kRowDotBatch = 8;

/// sum_c row[c] x[c] over the whole block: strided partial sums per thread, warp shuffles,
/// then the warps' sums in warp order. Every thread must call it; the result is valid in
/// thread 0. `warp_sums` is shared memory of blockDim.x / 32 values; blockDim.x is a whole
/// number of warps, at most 1024. Deterministic: the order depends only on cols and the
/// block size. Each thread adds row[c] x[c] for c = threadIdx.x, + blockDim.x, ... in that
/// order; it loads kRowDotBatch of them into registers before adding them (so that as many
/// loads are in flight at once, not one per add), and streams the row past the caches (J is
/// read once per step; x is what every block shares).
template <class T>
__device__ inline T block_row_dot(const T* __restrict__ row, const T* __restrict__ x, std::int64_t cols,
                                  T* warp_sums) {
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const int warp = static_cast<int>(threadIdx.x) / 32;
  const int warps = static_cast<int>(blockDim.x) / 32;
  const std::int64_t stride = blockDim.x;
  T acc = T(0);
  std::int64_t c = threadIdx.x;
  for (; c + (kRowDotBatch - 1) * stride < cols; c += kRowDotBatch * stride) {
    T j[kRowDotBatch];
    T xs[kRowDotBatch];
#pragma unroll
    for (int k = 0; k < kRowDotBatch; ++k) {
      j[k] = __ldcs(row + c + k * stride);
      xs[k] = x[c + k * stride];
    }
#pragma unroll
    for (int k = 0; k < kRowDotBatch; ++k) acc += j[k] * xs[k];
  }
  for (; c < cols; c += stride) acc += __ldcs(row + c) * x[c];
  acc = warp_sum(acc);
  if (lane == 0) warp_sums[warp] = acc;
  __syncthreads();
  T total = T(0);
  if (warp == 0) {
    total = lane < warps ? warp_sums[lane] : T(0);
    total = warp_sum(total);
  }
  __syncthreads();  // warp_sums may be reused right away
  return total;
}

}  // namespace qifsim::kernels
