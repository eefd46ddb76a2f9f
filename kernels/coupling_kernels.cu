// kernels/coupling_kernels.cu - the procedural product and the sum of a product into y: the
// kernels and their launchers.
#include <algorithm>

#include "block_reduce.cuh"
#include "coupling_kernels.hpp"
#include "cuda_error.hpp"
#include "model/reduction.hpp"
#include "nvtx_range.hpp"

namespace qifsim::kernels {
namespace {

constexpr int kSumBlock = model::kReductionBlock;  // one block sums 256 consecutive inputs
constexpr int kFillBlock = 256;
constexpr std::int64_t kMaxGrid = 2048;  // beyond, grid-stride loops take over

// Block sums of 256 consecutive x (chunk c at partials[c]); the last block to finish adds them
// in block order and writes w * sum, rounded to T, to *value.
template <class T>
__global__ void __launch_bounds__(kSumBlock) procedural_sum_kernel(ProceduralArgs<T> a, std::int64_t chunks) {
  __shared__ double scratch[kSumBlock];
  for (std::int64_t c = blockIdx.x; c < chunks; c += gridDim.x) {
    const std::int64_t j = c * kSumBlock + threadIdx.x;
    const double total = block_sum(j < a.cols ? static_cast<double>(a.x[j]) : 0.0, scratch);
    if (threadIdx.x == 0) a.partials[c] = total;
  }
  if (!last_block_to_arrive(a.blocks_done) || threadIdx.x != 0) return;
  const double sum = sum_in_block_order(a.partials, static_cast<unsigned int>(chunks));
  *a.value = static_cast<T>(a.w * sum);
  *a.blocks_done = 0;
}

template <class T>
__global__ void procedural_fill_kernel(T* y, std::int64_t rows, const T* value, bool accumulate) {
  const T v = *value;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < rows; i += stride) {
    y[i] = accumulate ? y[i] + v : v;
  }
}

template <class T>
__global__ void add_into_kernel(T* y, const T* add, std::int64_t n) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    y[i] += add[i];
  }
}

int fill_grid(std::int64_t n) {
  return static_cast<int>(std::clamp<std::int64_t>((n + kFillBlock - 1) / kFillBlock, 1, kMaxGrid));
}

}  // namespace

std::int64_t procedural_partials(std::int64_t cols) {
  return std::max<std::int64_t>(1, (cols + kSumBlock - 1) / kSumBlock);
}

template <class T>
void launch_procedural_coupling(const ProceduralArgs<T>& args, cudaStream_t stream) {
  const cuda::NvtxRange range("procedural_coupling");
  // cols == 0 still takes one block: the last block writes w * 0.
  const std::int64_t chunks = (args.cols + kSumBlock - 1) / kSumBlock;
  const int grid = static_cast<int>(std::clamp<std::int64_t>(chunks, 1, kMaxGrid));
  procedural_sum_kernel<T><<<grid, kSumBlock, 0, stream>>>(args, chunks);
  QIFSIM_CUDA_CHECK_LAUNCH(procedural_sum_kernel);
  if (args.rows <= 0) return;
  procedural_fill_kernel<T><<<fill_grid(args.rows), kFillBlock, 0, stream>>>(args.y, args.rows, args.value,
                                                                            args.accumulate);
  QIFSIM_CUDA_CHECK_LAUNCH(procedural_fill_kernel);
}

template <class T>
void launch_add_into(T* y, const T* add, std::int64_t n, cudaStream_t stream) {
  const cuda::NvtxRange range("add_into");
  if (n <= 0) return;
  add_into_kernel<T><<<fill_grid(n), kFillBlock, 0, stream>>>(y, add, n);
  QIFSIM_CUDA_CHECK_LAUNCH(add_into_kernel);
}

template void launch_procedural_coupling<float>(const ProceduralArgs<float>&, cudaStream_t);
template void launch_procedural_coupling<double>(const ProceduralArgs<double>&, cudaStream_t);
template void launch_add_into<float>(float*, const float*, std::int64_t, cudaStream_t);
template void launch_add_into<double>(double*, const double*, std::int64_t, cudaStream_t);

}  // namespace qifsim::kernels
