// kernels/fixed_order_products.cu - the fixed-order products of RunOptions::reproducible: the
// kernels and their launchers.
#include <algorithm>

#include "cuda_error.hpp"
#include "fixed_order_products.hpp"
#include "nvtx_range.hpp"

namespace qifsim::kernels {
namespace {

constexpr int kLanes = 8;        // the CPU loop's partial sums per row
constexpr int kBlock = 256;      // 32 rows of 8 lanes
constexpr std::int64_t kMaxGrid = 65535;

// Thread k of a row's eight sums columns j = k, k + 8, ... below the last whole group of
// eight; the tree of shuffles adds (l0 + l1), (l2 + l3), ... then pairs of those, then the two
// halves: the CPU's ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)). Lane 0 adds the tail.
template <class T>
__global__ void __launch_bounds__(kBlock) row_dot_lanes_kernel(const T* A, const T* x, std::int64_t rows,
                                                               std::int64_t cols, bool accumulate, T* y) {
  const int lane = static_cast<int>(threadIdx.x % kLanes);
  const std::int64_t whole = cols - cols % kLanes;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * (blockDim.x / kLanes);
  // Every thread of a warp runs the same number of iterations (the shuffles need them all).
  const std::int64_t first = static_cast<std::int64_t>(blockIdx.x) * (blockDim.x / kLanes) + threadIdx.x / kLanes;
  const std::int64_t warp_first = first - (threadIdx.x % 32) / kLanes;
  for (std::int64_t base = warp_first; base < rows; base += stride) {
    const std::int64_t r = base + (threadIdx.x % 32) / kLanes;
    const bool live = r < rows;
    T acc = T(0);
    if (live) {
      const T* a = A + r * cols;
      for (std::int64_t j = lane; j < whole; j += kLanes) acc += a[j] * x[j];
    }
    acc += __shfl_down_sync(0xffffffffu, acc, 1, kLanes);
    acc += __shfl_down_sync(0xffffffffu, acc, 2, kLanes);
    acc += __shfl_down_sync(0xffffffffu, acc, 4, kLanes);
    if (live && lane == 0) {
      const T* a = A + r * cols;
      T sum = acc;
      for (std::int64_t j = whole; j < cols; ++j) sum += a[j] * x[j];
      y[r] = accumulate ? sum + y[r] : sum;
    }
  }
}

template <class T, class I>
__global__ void csr_rows_kernel(std::int64_t rows, const I* indptr, const I* indices, const T* values, const T* x,
                                bool accumulate, T* y) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < rows; i += stride) {
    T acc = T(0);
    for (std::int64_t k = indptr[i]; k < static_cast<std::int64_t>(indptr[i + 1]); ++k) acc += values[k] * x[indices[k]];
    y[i] = accumulate ? y[i] + acc : acc;
  }
}

}  // namespace

template <class T>
void launch_row_dot_lanes(const T* A, const T* x, std::int64_t rows, std::int64_t cols, bool accumulate, T* y,
                          cudaStream_t stream) {
  const cuda::NvtxRange range("row_dot_lanes");
  if (rows <= 0) return;
  constexpr std::int64_t kRowsPerBlock = kBlock / kLanes;
  const int grid = static_cast<int>(std::clamp<std::int64_t>((rows + kRowsPerBlock - 1) / kRowsPerBlock, 1, kMaxGrid));
  row_dot_lanes_kernel<T><<<grid, kBlock, 0, stream>>>(A, x, rows, cols, accumulate, y);
  QIFSIM_CUDA_CHECK_LAUNCH(row_dot_lanes_kernel);
}

template <class T, class I>
void launch_csr_rows(std::int64_t rows, const I* indptr, const I* indices, const T* values, const T* x,
                     bool accumulate, T* y, cudaStream_t stream) {
  const cuda::NvtxRange range("csr_rows");
  if (rows <= 0) return;
  const int grid = static_cast<int>(std::clamp<std::int64_t>((rows + kBlock - 1) / kBlock, 1, kMaxGrid));
  csr_rows_kernel<T, I><<<grid, kBlock, 0, stream>>>(rows, indptr, indices, values, x, accumulate, y);
  QIFSIM_CUDA_CHECK_LAUNCH(csr_rows_kernel);
}

template void launch_row_dot_lanes<float>(const float*, const float*, std::int64_t, std::int64_t, bool, float*,
                                          cudaStream_t);
template void launch_row_dot_lanes<double>(const double*, const double*, std::int64_t, std::int64_t, bool, double*,
                                           cudaStream_t);
template void launch_csr_rows<float, std::int32_t>(std::int64_t, const std::int32_t*, const std::int32_t*,
                                                   const float*, const float*, bool, float*, cudaStream_t);
template void launch_csr_rows<float, std::int64_t>(std::int64_t, const std::int64_t*, const std::int64_t*,
                                                   const float*, const float*, bool, float*, cudaStream_t);
template void launch_csr_rows<double, std::int32_t>(std::int64_t, const std::int32_t*, const std::int32_t*,
                                                    const double*, const double*, bool, double*, cudaStream_t);
template void launch_csr_rows<double, std::int64_t>(std::int64_t, const std::int64_t*, const std::int64_t*,
                                                    const double*, const double*, bool, double*, cudaStream_t);

}  // namespace qifsim::kernels
