// kernels/row_coupling.cu - the row-block coupling kernel and its launcher.
#include <algorithm>

#include "cuda_error.hpp"
#include "nvtx_range.hpp"
#include "row_dot.cuh"
#include "row_coupling.hpp"

namespace qifsim::kernels {
namespace {

constexpr int kWarps = kRowCouplingBlock / 32;
// 8 resident blocks per SM leave 64 registers per thread: room for the row dot's batch of
// loads (at the 32 registers of full occupancy ptxas kept only two elements in flight).
constexpr int kRowCouplingMinBlocks = 8;
static_assert(kRowCouplingBlock % 32 == 0 && kWarps <= 32, "a block is whole warps, at most 32");

template <class T>
__global__ void __launch_bounds__(kRowCouplingBlock, kRowCouplingMinBlocks) row_coupling_kernel(
    const T* __restrict__ A, const T* __restrict__ x, std::int64_t rows, std::int64_t cols, T* __restrict__ y) {
  __shared__ T warp_sums[kWarps];
  for (std::int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T total = block_row_dot(A + r * cols, x, cols, warp_sums);
    if (threadIdx.x == 0) y[r] = total;
  }
}

}  // namespace

template <class T>
void launch_row_coupling(const T* A, const T* x, std::int64_t rows, std::int64_t cols, T* y,
                         cudaStream_t stream) {
  const cuda::NvtxRange range("row_coupling");
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
