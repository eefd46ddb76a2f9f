// bench/gpu_micro.cu - micro-benchmarks of the GPU mechanisms a qifsim step can be built
// from, each measured alone on the device at hand (CUDA events, medians of repeats):
//
//   graph node    the cost of one kernel node in a captured chain, against plain launches
//   grid sync     cooperative_groups grid.sync() with 1 and 2 blocks per SM
//   row dot       J x by one block per row: the loop as it was (one load in flight per
//                 thread) against kernels/row_dot.cuh (8 loads in flight, J streamed), at
//                 N = 1024, 4096, 16384, float64 and float32; the two must agree bit for bit
//   L2 window     N = 4096 float32 J x with and without an L2 persistence window on J
//   cluster sync  a thread-block cluster barrier (sm_90), clusters of 2, 4 and 8 blocks
//   PDL           two dependent kernels, with and without programmatic dependent launch
//
//   qifsim_gpu_micro [--quick]      (one compact table on stdout; exit 1 on a failed check)
//
// Mechanisms the device lacks (no cooperative launch, no clusters before sm_90) print
// "skip" with the reason. Nothing here changes a setting of the card: the persisting-L2
// limit is a property of this process's context and is reset before the program ends.
#include <cooperative_groups.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "row_dot.cuh"

namespace cg = cooperative_groups;

namespace {

int g_failures = 0;

#define MICRO_CHECK(call)                                                                          \
  do {                                                                                             \
    const cudaError_t err_ = (call);                                                               \
    if (err_ != cudaSuccess) {                                                                     \
      std::fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(err_)); \
      std::exit(2);                                                                                \
    }                                                                                              \
  } while (0)

void row(const std::string& what, const std::string& param, double value, const char* unit,
         const std::string& note = "") {
  std::printf("%-14s %-26s %12.3f %-8s %s\n", what.c_str(), param.c_str(), value, unit, note.c_str());
}

void skip(const std::string& what, const std::string& why) {
  std::printf("%-14s %-26s %12s %-8s %s\n", what.c_str(), "-", "skip", "", why.c_str());
}

/// Median over `repeats` of the time of `body` (milliseconds), measured with events on `stream`.
template <class F>
float median_ms(cudaStream_t stream, int repeats, F&& body) {
  cudaEvent_t a, b;
  MICRO_CHECK(cudaEventCreate(&a));
  MICRO_CHECK(cudaEventCreate(&b));
  body();  // warm-up
  MICRO_CHECK(cudaStreamSynchronize(stream));
  std::vector<float> times;
  for (int r = 0; r < repeats; ++r) {
    MICRO_CHECK(cudaEventRecord(a, stream));
    body();
    MICRO_CHECK(cudaEventRecord(b, stream));
    MICRO_CHECK(cudaEventSynchronize(b));
    float ms = 0.0f;
    MICRO_CHECK(cudaEventElapsedTime(&ms, a, b));
    times.push_back(ms);
  }
  MICRO_CHECK(cudaEventDestroy(a));
  MICRO_CHECK(cudaEventDestroy(b));
  std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
  return times[times.size() / 2];
}

// ---- graph nodes --------------------------------------------------------------------------

__global__ void tiny_kernel(int* counter) {
  if (threadIdx.x == 0 && blockIdx.x == 0) ++*counter;
}

void graph_node_cost(cudaStream_t stream, bool quick) {
  int* counter = nullptr;
  MICRO_CHECK(cudaMalloc(&counter, sizeof(int)));
  for (int chain : {16, 256}) {
    cudaGraph_t graph;
    cudaGraphExec_t exec;
    MICRO_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
    for (int k = 0; k < chain; ++k) tiny_kernel<<<1, 32, 0, stream>>>(counter);
    MICRO_CHECK(cudaStreamEndCapture(stream, &graph));
    MICRO_CHECK(cudaGraphInstantiate(&exec, graph, 0));
    const int replays = quick ? 20 : 100;
    const float g = median_ms(stream, 7, [&] {
      for (int r = 0; r < replays; ++r) MICRO_CHECK(cudaGraphLaunch(exec, stream));
    });
    const float p = median_ms(stream, 7, [&] {
      for (int r = 0; r < replays; ++r) {
        for (int k = 0; k < chain; ++k) tiny_kernel<<<1, 32, 0, stream>>>(counter);
      }
    });
    row("graph node", "chain of " + std::to_string(chain), 1e3 * g / (replays * chain), "us/node");
    row("plain launch", "chain of " + std::to_string(chain), 1e3 * p / (replays * chain), "us/kernel");
    MICRO_CHECK(cudaGraphExecDestroy(exec));
    MICRO_CHECK(cudaGraphDestroy(graph));
  }
  MICRO_CHECK(cudaFree(counter));
}

// ---- grid.sync() ----------------------------------------------------------------------------

__global__ void grid_sync_kernel(int iterations, int* sink) {
  cg::grid_group grid = cg::this_grid();
  int x = 0;
  for (int i = 0; i < iterations; ++i) {
    x += static_cast<int>(threadIdx.x);
    grid.sync();
  }
  if (x == -1) *sink = x;  // keeps the loop
}

void grid_sync_cost(const cudaDeviceProp& prop, cudaStream_t stream) {
  if (!prop.cooperativeLaunch) {
    skip("grid sync", "no cooperative launch on this device");
    return;
  }
  int per_sm = 0;
  MICRO_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, grid_sync_kernel, 128, 0));
  int* sink = nullptr;
  MICRO_CHECK(cudaMalloc(&sink, sizeof(int)));
  for (int per : {1, 2}) {
    if (per > per_sm) {
      skip("grid sync", std::to_string(per) + " blocks per SM do not fit");
      continue;
    }
    const int blocks = per * prop.multiProcessorCount;
    int iterations = 1000;
    void* args[] = {&iterations, &sink};
    const float ms = median_ms(stream, 7, [&] {
      MICRO_CHECK(cudaLaunchCooperativeKernel(reinterpret_cast<void*>(grid_sync_kernel), dim3(blocks), dim3(128),
                                              args, 0, stream));
    });
    row("grid sync", std::to_string(blocks) + " blocks x 128", 1e3 * ms / iterations, "us/sync");
  }
  MICRO_CHECK(cudaFree(sink));
}

// ---- row dot ----------------------------------------------------------------------------------

// The loop of kernels/row_dot.cuh before it loaded 8 values per thread at once (same order).
template <class T>
__device__ T block_row_dot_one_load(const T* __restrict__ row, const T* __restrict__ x, std::int64_t cols,
                                    T* warp_sums) {
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const int warp = static_cast<int>(threadIdx.x) / 32;
  const int warps = static_cast<int>(blockDim.x) / 32;
  T acc = T(0);
#pragma unroll 4
  for (std::int64_t c = threadIdx.x; c < cols; c += blockDim.x) acc += row[c] * x[c];
  acc = qifsim::kernels::warp_sum(acc);
  if (lane == 0) warp_sums[warp] = acc;
  __syncthreads();
  T total = T(0);
  if (warp == 0) {
    total = lane < warps ? warp_sums[lane] : T(0);
    total = qifsim::kernels::warp_sum(total);
  }
  __syncthreads();
  return total;
}

template <class T, bool Batched>
__global__ void __launch_bounds__(128, 8) matvec_kernel(const T* J, const T* x, std::int64_t n, T* y) {
  __shared__ T warp_sums[4];
  for (std::int64_t r = blockIdx.x; r < n; r += gridDim.x) {
    const T total = Batched ? qifsim::kernels::block_row_dot(J + r * n, x, n, warp_sums)
                            : block_row_dot_one_load(J + r * n, x, n, warp_sums);
    if (threadIdx.x == 0) y[r] = total;
  }
}

template <class T>
__global__ void fill_kernel(T* p, std::int64_t count, std::uint32_t seed) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    std::uint32_t h = static_cast<std::uint32_t>(i) * 2654435761u ^ seed;
    h ^= h >> 15;
    h *= 2246822519u;
    h ^= h >> 13;
    p[i] = static_cast<T>(h % 10007) / static_cast<T>(10007) - static_cast<T>(0.5);
  }
}

int matvec_grid(std::int64_t n) { return static_cast<int>(std::min<std::int64_t>(n, 65535)); }

template <class T>
void row_dot_cost(cudaStream_t stream, std::int64_t n, double copy_gbs) {
  T *J = nullptr, *x = nullptr, *y1 = nullptr, *y2 = nullptr;
  const std::size_t bytes = static_cast<std::size_t>(n) * static_cast<std::size_t>(n) * sizeof(T);
  MICRO_CHECK(cudaMalloc(&J, bytes));
  MICRO_CHECK(cudaMalloc(&x, static_cast<std::size_t>(n) * sizeof(T)));
  MICRO_CHECK(cudaMalloc(&y1, static_cast<std::size_t>(n) * sizeof(T)));
  MICRO_CHECK(cudaMalloc(&y2, static_cast<std::size_t>(n) * sizeof(T)));
  fill_kernel<T><<<1024, 256, 0, stream>>>(J, n * n, 1u);
  fill_kernel<T><<<64, 256, 0, stream>>>(x, n, 2u);
  MICRO_CHECK(cudaGetLastError());
  const int grid = matvec_grid(n);
  const float old_ms = median_ms(stream, 9, [&] { matvec_kernel<T, false><<<grid, 128, 0, stream>>>(J, x, n, y1); });
  const float new_ms = median_ms(stream, 9, [&] { matvec_kernel<T, true><<<grid, 128, 0, stream>>>(J, x, n, y2); });
  MICRO_CHECK(cudaGetLastError());
  std::vector<T> a(static_cast<std::size_t>(n)), b(static_cast<std::size_t>(n));
  MICRO_CHECK(cudaMemcpy(a.data(), y1, a.size() * sizeof(T), cudaMemcpyDeviceToHost));
  MICRO_CHECK(cudaMemcpy(b.data(), y2, b.size() * sizeof(T), cudaMemcpyDeviceToHost));
  const bool same = std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
  if (!same) ++g_failures;
  const char* type = sizeof(T) == 8 ? "f64" : "f32";
  const std::string p = std::string(type) + " N=" + std::to_string(n);
  const double gb = static_cast<double>(bytes) / 1e9;
  char note[96];
  std::snprintf(note, sizeof note, "%.0f GB/s, %.0f%% of copy", gb / (old_ms * 1e-3), 100.0 * gb / (old_ms * 1e-3) / copy_gbs);
  row("row dot 1-load", p, 1e3 * old_ms, "us", note);
  std::snprintf(note, sizeof note, "%.0f GB/s, %.0f%% of copy%s", gb / (new_ms * 1e-3),
                100.0 * gb / (new_ms * 1e-3) / copy_gbs, same ? ", same bits" : ", BITS DIFFER");
  row("row dot batch", p, 1e3 * new_ms, "us", note);
  MICRO_CHECK(cudaFree(J));
  MICRO_CHECK(cudaFree(x));
  MICRO_CHECK(cudaFree(y1));
  MICRO_CHECK(cudaFree(y2));
}

/// Device-to-device copy bandwidth, bytes read plus written (GB/s): the ceiling of the rest.
double copy_bandwidth(cudaStream_t stream) {
  const std::size_t bytes = std::size_t{2} << 30;
  void *a = nullptr, *b = nullptr;
  MICRO_CHECK(cudaMalloc(&a, bytes));
  MICRO_CHECK(cudaMalloc(&b, bytes));
  MICRO_CHECK(cudaMemsetAsync(a, 1, bytes, stream));
  const float ms = median_ms(stream, 7, [&] { MICRO_CHECK(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice, stream)); });
  MICRO_CHECK(cudaFree(a));
  MICRO_CHECK(cudaFree(b));
  const double gbs = 2.0 * static_cast<double>(bytes) / 1e9 / (ms * 1e-3);
  row("copy", "2 GiB device to device", gbs, "GB/s", "read + written");
  return gbs;
}

// ---- L2 persistence ---------------------------------------------------------------------------

void l2_window(const cudaDeviceProp& prop, cudaStream_t stream) {
  std::printf("%-14s l2CacheSize %d B, persistingL2CacheMaxSize %d B, accessPolicyMaxWindowSize %d B\n", "L2",
              prop.l2CacheSize, prop.persistingL2CacheMaxSize, prop.accessPolicyMaxWindowSize);
  if (prop.persistingL2CacheMaxSize <= 0 || prop.accessPolicyMaxWindowSize <= 0) {
    skip("L2 window", "no persisting L2 on this device");
    return;
  }
  const std::int64_t n = 4096;
  const std::size_t bytes = static_cast<std::size_t>(n * n) * sizeof(float);
  float *J = nullptr, *x = nullptr, *y = nullptr;
  MICRO_CHECK(cudaMalloc(&J, bytes));
  MICRO_CHECK(cudaMalloc(&x, static_cast<std::size_t>(n) * sizeof(float)));
  MICRO_CHECK(cudaMalloc(&y, static_cast<std::size_t>(n) * sizeof(float)));
  fill_kernel<float><<<1024, 256, 0, stream>>>(J, n * n, 3u);
  fill_kernel<float><<<16, 256, 0, stream>>>(x, n, 4u);
  const int grid = matvec_grid(n);
  auto product = [&] {
    for (int r = 0; r < 10; ++r) matvec_kernel<float, true><<<grid, 128, 0, stream>>>(J, x, n, y);
  };
  const float plain = median_ms(stream, 7, product);
  MICRO_CHECK(cudaDeviceSetLimit(cudaLimitPersistingL2CacheSize, static_cast<std::size_t>(prop.persistingL2CacheMaxSize)));
  cudaStreamAttrValue attr{};
  const std::size_t window = std::min<std::size_t>(bytes, static_cast<std::size_t>(prop.accessPolicyMaxWindowSize));
  attr.accessPolicyWindow.base_ptr = J;
  attr.accessPolicyWindow.num_bytes = window;
  attr.accessPolicyWindow.hitRatio =
      std::min(1.0f, static_cast<float>(prop.persistingL2CacheMaxSize) / static_cast<float>(window));
  attr.accessPolicyWindow.hitProp = cudaAccessPropertyPersisting;
  attr.accessPolicyWindow.missProp = cudaAccessPropertyStreaming;
  MICRO_CHECK(cudaStreamSetAttribute(stream, cudaStreamAttributeAccessPolicyWindow, &attr));
  const float persisting = median_ms(stream, 7, product);
  attr.accessPolicyWindow.num_bytes = 0;
  MICRO_CHECK(cudaStreamSetAttribute(stream, cudaStreamAttributeAccessPolicyWindow, &attr));
  MICRO_CHECK(cudaCtxResetPersistingL2Cache());
  MICRO_CHECK(cudaDeviceSetLimit(cudaLimitPersistingL2CacheSize, 0));
  char note[96];
  std::snprintf(note, sizeof note, "J 64 MiB, window %zu MiB, hitRatio %.2f", window >> 20,
                static_cast<double>(attr.accessPolicyWindow.hitRatio));
  row("L2 window", "f32 N=4096, none", 1e3 * plain / 10, "us", "");
  row("L2 window", "f32 N=4096, persisting", 1e3 * persisting / 10, "us", note);
  MICRO_CHECK(cudaFree(J));
  MICRO_CHECK(cudaFree(x));
  MICRO_CHECK(cudaFree(y));
}

// ---- cluster barrier --------------------------------------------------------------------------

__global__ void cluster_sync_kernel(int iterations, int* sink) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  cg::cluster_group cluster = cg::this_cluster();
  int x = 0;
  for (int i = 0; i < iterations; ++i) {
    x += static_cast<int>(cluster.block_rank());
    cluster.sync();
  }
  if (x == -1) *sink = x;
#else
  if (iterations < 0) *sink = 0;
#endif
}

void cluster_sync_cost(const cudaDeviceProp& prop, cudaStream_t stream) {
  if (prop.major < 9) {
    skip("cluster sync", "thread-block clusters need sm_90");
    return;
  }
  int* sink = nullptr;
  MICRO_CHECK(cudaMalloc(&sink, sizeof(int)));
  for (unsigned int size : {2u, 4u, 8u}) {
    cudaLaunchConfig_t config{};
    const unsigned int sms = static_cast<unsigned int>(prop.multiProcessorCount);
    config.gridDim = dim3(sms - sms % size);  // one block per SM, whole clusters
    config.blockDim = dim3(128);
    config.stream = stream;
    cudaLaunchAttribute attribute{};
    attribute.id = cudaLaunchAttributeClusterDimension;
    attribute.val.clusterDim.x = size;
    attribute.val.clusterDim.y = 1;
    attribute.val.clusterDim.z = 1;
    config.attrs = &attribute;
    config.numAttrs = 1;
    int iterations = 1000;
    const float ms = median_ms(stream, 7, [&] {
      MICRO_CHECK(cudaLaunchKernelEx(&config, cluster_sync_kernel, iterations, sink));
    });
    row("cluster sync", "clusters of " + std::to_string(size), 1e3 * ms / iterations, "us/sync");
  }
  MICRO_CHECK(cudaFree(sink));
}

// ---- programmatic dependent launch --------------------------------------------------------

__global__ void producer_kernel(float* data, int n) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) data[i] = data[i] * 0.5f + 1.0f;
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  cudaTriggerProgrammaticLaunchCompletion();
#endif
}

__global__ void consumer_kernel(float* data, int n) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  cudaGridDependencySynchronize();
#endif
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) data[i] = data[i] * 2.0f - 2.0f;
}

void pdl_cost(const cudaDeviceProp& prop, cudaStream_t stream, bool quick) {
  if (prop.major < 9) {
    skip("PDL", "programmatic dependent launch needs sm_90");
    return;
  }
  const int n = 132 * 256;
  float* data = nullptr;
  MICRO_CHECK(cudaMalloc(&data, n * sizeof(float)));
  MICRO_CHECK(cudaMemsetAsync(data, 0, n * sizeof(float), stream));
  const int pairs = quick ? 200 : 1000;
  for (bool pdl : {false, true}) {
    cudaLaunchConfig_t config{};
    config.gridDim = dim3(n / 256);
    config.blockDim = dim3(256);
    config.stream = stream;
    cudaLaunchAttribute attribute{};
    attribute.id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attribute.val.programmaticStreamSerializationAllowed = 1;
    config.attrs = pdl ? &attribute : nullptr;
    config.numAttrs = pdl ? 1 : 0;
    const float ms = median_ms(stream, 7, [&] {
      for (int p = 0; p < pairs; ++p) {
        producer_kernel<<<n / 256, 256, 0, stream>>>(data, n);
        MICRO_CHECK(cudaLaunchKernelEx(&config, consumer_kernel, data, n));
      }
    });
    row("PDL", pdl ? "dependent pair, PDL" : "dependent pair, plain", 1e3 * ms / pairs, "us/pair");
  }
  MICRO_CHECK(cudaFree(data));
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    std::printf("qifsim_gpu_micro: no usable GPU\n");
    return 0;
  }
  cudaDeviceProp prop{};
  MICRO_CHECK(cudaGetDeviceProperties(&prop, 0));
  std::printf("qifsim_gpu_micro on %s: sm_%d%d, %d SMs, %.1f GiB, L2 %d MiB\n", prop.name, prop.major, prop.minor,
              prop.multiProcessorCount, static_cast<double>(prop.totalGlobalMem) / (1 << 30), prop.l2CacheSize >> 20);
  std::printf("%-14s %-26s %12s %-8s %s\n", "mechanism", "case", "value", "unit", "note");
  cudaStream_t stream;
  MICRO_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  const double copy_gbs = copy_bandwidth(stream);
  graph_node_cost(stream, quick);
  grid_sync_cost(prop, stream);
  for (std::int64_t n : {1024, 4096, 16384}) {
    row_dot_cost<double>(stream, n, copy_gbs);
    row_dot_cost<float>(stream, n, copy_gbs);
  }
  l2_window(prop, stream);
  cluster_sync_cost(prop, stream);
  pdl_cost(prop, stream, quick);
  MICRO_CHECK(cudaStreamSynchronize(stream));
  MICRO_CHECK(cudaStreamDestroy(stream));
  if (g_failures) std::printf("qifsim_gpu_micro: %d check(s) failed\n", g_failures);
  return g_failures ? 1 : 0;
}
