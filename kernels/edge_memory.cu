// kernels/edge_memory.cu - an edge's delay buffer and filter: the kernels and their launcher.
#include <algorithm>

#include "cuda_error.hpp"
#include "edge_memory.hpp"
#include "nvtx_range.hpp"

namespace qifsim::kernels {
namespace {

constexpr int kBlock = 256;
constexpr std::int64_t kMaxGrid = 2048;  // beyond, grid-stride loops take over

int grid_for(std::int64_t n) {
  return static_cast<int>(std::clamp<std::int64_t>((n + kBlock - 1) / kBlock, 1, kMaxGrid));
}

__device__ std::int64_t global_index() { return static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ std::int64_t grid_stride() { return static_cast<std::int64_t>(gridDim.x) * blockDim.x; }

// A filter alone: out_i = sum_k F[i, k] y_k + x_i.
template <class T>
__global__ void filter_alone_kernel(EdgeMemoryArgs<T> a, const T* x) {
  for (std::int64_t i = global_index(); i < a.n; i += grid_stride()) {
    const T* row = a.filter + i * a.n;
    T acc = T(0);
    for (std::int64_t k = 0; k < a.n; ++k) acc += row[k] * a.buffer[k];
    a.scratch[i] = acc + x[i];
  }
}

// With delays: scratch = F buffer, every column (the physical layout: F acts column by column).
template <class T>
__global__ void filter_columns_kernel(EdgeMemoryArgs<T> a) {
  const std::int64_t C = a.columns;
  for (std::int64_t e = global_index(); e < a.n * C; e += grid_stride()) {
    const std::int64_t i = e / C;
    const std::int64_t c = e % C;
    const T* row = a.filter + i * a.n;
    T acc = T(0);
    for (std::int64_t k = 0; k < a.n; ++k) acc += row[k] * a.buffer[k * C + c];
    a.scratch[e] = acc;
  }
}

// The new input into the buffer at the next head: row j (or, in RectiPy's write, every row r
// takes the units j = 0 .. n-1 in order).
template <class T>
__global__ void write_kernel(EdgeMemoryArgs<T> a, const T* x) {
  const std::int64_t C = a.columns;
  const std::int64_t head = (*a.advances + 1) % C;
  for (std::int64_t r = global_index(); r < a.n; r += grid_stride()) {
    if (a.rectipy_write) {
      for (std::int64_t j = 0; j < a.n; ++j) a.buffer[r * C + (head + a.delays[j]) % C] = x[j];
    } else {
      a.buffer[r * C + (head + a.delays[r]) % C] = x[r];
    }
  }
}

// One block: column `head` out, then the head moves (after every thread has read it).
template <class T>
__global__ void __launch_bounds__(kBlock) read_advance_kernel(EdgeMemoryArgs<T> a) {
  const std::int64_t C = a.columns;
  const std::int64_t advances = *a.advances;
  const std::int64_t head = (advances + 1) % C;
  for (std::int64_t i = threadIdx.x; i < a.n; i += blockDim.x) a.read[i] = a.buffer[i * C + head];
  __syncthreads();
  if (threadIdx.x == 0) *a.advances = advances + 1;
}

}  // namespace

template <class T>
const T* launch_edge_memory_step(const EdgeMemoryArgs<T>& a, const T* x, cudaStream_t stream) {
  const cuda::NvtxRange range("edge_memory_step");
  if (a.n <= 0) return a.columns == 0 ? a.buffer : a.read;
  const std::size_t values = static_cast<std::size_t>(a.n * std::max<std::int64_t>(a.columns, 1));
  if (a.columns == 0) {
    filter_alone_kernel<T><<<grid_for(a.n), kBlock, 0, stream>>>(a, x);
    QIFSIM_CUDA_CHECK_LAUNCH(filter_alone_kernel);
    QIFSIM_CUDA_TRY(cudaMemcpyAsync(a.buffer, a.scratch, values * sizeof(T), cudaMemcpyDeviceToDevice, stream));
    return a.buffer;
  }
  if (a.filter) {
    filter_columns_kernel<T><<<grid_for(a.n * a.columns), kBlock, 0, stream>>>(a);
    QIFSIM_CUDA_CHECK_LAUNCH(filter_columns_kernel);
    QIFSIM_CUDA_TRY(cudaMemcpyAsync(a.buffer, a.scratch, values * sizeof(T), cudaMemcpyDeviceToDevice, stream));
  }
  write_kernel<T><<<grid_for(a.n), kBlock, 0, stream>>>(a, x);
  QIFSIM_CUDA_CHECK_LAUNCH(write_kernel);
  read_advance_kernel<T><<<1, kBlock, 0, stream>>>(a);
  QIFSIM_CUDA_CHECK_LAUNCH(read_advance_kernel);
  return a.read;
}

template const float* launch_edge_memory_step<float>(const EdgeMemoryArgs<float>&, const float*, cudaStream_t);
template const double* launch_edge_memory_step<double>(const EdgeMemoryArgs<double>&, const double*, cudaStream_t);

}  // namespace qifsim::kernels
