// kernels/row_coupling.cu - the row-block coupling kernel and its launcher.
#include <algorithm>

#include "cuda_error.hpp"
#include "row_coupling.hpp"

namespace qifsim::kernels {
namespace {

constexpr int kWarps = kRowCouplingBlock / 32;
static_assert(kRowCouplingBlock % 32 == 0 && kWarps <= 32, "a block is whole warps, at most 32");

template <class T>
__device__ inline T warp_sum(T value) {
  for (int offset = 16; offset > 0; offset /= 2) value += __shfl_down_sync(0xffffffffu, value, offset);
  return value;  // valid in lane 0
}

template <class T>
__global__ void __launch_bounds__(kRowCouplingBlock) row_coupling_kernel(
    const T* __restrict__ A, const T* __restrict__ x, std::int64_t rows, std::int64_t cols, T* __restrict__ y) {
  __shared__ T warp_sums[kWarps];
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const int warp = static_cast<int>(threadIdx.x) / 32;
  for (std::int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* row = A + r * cols;
    T acc = T(0);
#pragma unroll 4
    for (std::int64_t c = threadIdx.x; c < cols; c += kRowCouplingBlock) acc += row[c] * x[c];
    acc = warp_sum(acc);
    if (lane == 0) warp_sums[warp] = acc;
    __syncthreads();
    if (warp == 0) {
      T total = lane < kWarps ? warp_sums[lane] : T(0);
      total = warp_sum(total);
      if (lane == 0) y[r] = total;
    }
    __syncthreads();  // warp_sums is reused by the next row
  }
}

}  // namespace

template <class T>
void launch_row_coupling(const T* A, const T* x, std::int64_t rows, std::int64_t cols, T* y,
                         cudaStream_t stream) {
  if (rows <= 0) return;
  // One block per row up to 65535 blocks; beyond, blocks loop over rows.
  const int grid = static_cast<int>(std::min<std::int64_t>(rows, 65535));
  row_coupling_kernel<T><<<grid, kRowCouplingBlock, 0, stream>>>(A, x, rows, cols, y);
  QIFSIM_CUDA_CHECK_LAUNCH(row_coupling_kernel);
}

template void launch_row_coupling<float>(const float*, const float*, std::int64_t, std::int64_t, float*,
                                         cudaStream_t);
template void launch_row_coupling<double>(const double*, const double*, std::int64_t, std::int64_t, double*,
                                          cudaStream_t);

}  // namespace qifsim::kernels
