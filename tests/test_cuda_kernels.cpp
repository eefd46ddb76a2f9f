// tests/test_cuda_kernels.cpp - the GPU coupling kernel called through its launcher, against
// its documented summation order emulated here on the host (kernels/row_dot.cuh: each of the
// block's threads adds row[c] x[c] for c = thread, thread + block, ... in order; warp
// shuffles add lanes l and l + 16, 8, 4, 2, 1; warp 0 adds the warps' sums the same way).
// With --fmad=false every product and sum rounds as written, so the emulation must give the
// same bits. Skips, with the reason, where no GPU is usable.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "cpu/stochastic_input.hpp"
#include "qifsim/device.hpp"
#include "row_coupling.hpp"
#include "stochastic_input.hpp"

namespace {

#define REQUIRE_GPU()                                                              \
  do {                                                                             \
    const qifsim::DeviceStatus status_ = qifsim::cuda_device_status();            \
    if (!status_.usable) GTEST_SKIP() << "no usable GPU: " << status_.description; \
  } while (0)

#define CUDA_OK(call) ASSERT_EQ((call), cudaSuccess) << #call

// A device copy of a host vector, freed at scope end.
template <class T>
struct DeviceVector {
  T* ptr = nullptr;
  explicit DeviceVector(const std::vector<T>& host) {
    if (cudaMalloc(reinterpret_cast<void**>(&ptr), std::max<std::size_t>(1, host.size()) * sizeof(T)) != cudaSuccess) ptr = nullptr;
    if (ptr != nullptr && !host.empty()) cudaMemcpy(ptr, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice);
  }
  ~DeviceVector() { cudaFree(ptr); }
  DeviceVector(const DeviceVector&) = delete;
  DeviceVector& operator=(const DeviceVector&) = delete;
  std::vector<T> to_host(std::size_t n) const {
    std::vector<T> out(n);
    cudaMemcpy(out.data(), ptr, n * sizeof(T), cudaMemcpyDeviceToHost);
    return out;
  }
};

// The tree that five __shfl_down_sync steps leave in lane 0.
template <class T>
T warp_tree(std::vector<T> lanes) {
  for (int offset = 16; offset > 0; offset /= 2) {
    for (int l = 0; l < offset; ++l) lanes[static_cast<std::size_t>(l)] = lanes[static_cast<std::size_t>(l)] + lanes[static_cast<std::size_t>(l + offset)];
  }
  return lanes[0];
}

// One row as a block of `block` threads sums it (row_dot.cuh's documented order).
template <class T>
T block_row_dot_order(const T* row, const T* x, std::int64_t cols, int block) {
  std::vector<T> thread(static_cast<std::size_t>(block), T(0));
  for (int t = 0; t < block; ++t) {
    T acc = T(0);
    for (std::int64_t c = t; c < cols; c += block) {
      const T product = row[c] * x[c];
      acc = acc + product;
    }
    thread[static_cast<std::size_t>(t)] = acc;
  }
  const int warps = block / 32;
  std::vector<T> warp_sums(32, T(0));
  for (int w = 0; w < warps; ++w) {
    warp_sums[static_cast<std::size_t>(w)] =
        warp_tree(std::vector<T>(thread.begin() + w * 32, thread.begin() + (w + 1) * 32));
  }
  return warp_tree(warp_sums);
}

template <class T>
void check_rows(std::int64_t rows, std::int64_t cols) {
  std::mt19937 rng(static_cast<unsigned>(rows * 31 + cols));
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<T> A(static_cast<std::size_t>(rows * cols)), x(static_cast<std::size_t>(cols));
  for (T& a : A) a = static_cast<T>(u(rng));
  for (T& v : x) v = static_cast<T>(u(rng));
  T *dA = nullptr, *dx = nullptr, *dy = nullptr;
  CUDA_OK(cudaMalloc(reinterpret_cast<void**>(&dA), A.size() * sizeof(T)));
  CUDA_OK(cudaMalloc(reinterpret_cast<void**>(&dx), x.size() * sizeof(T)));
  CUDA_OK(cudaMalloc(reinterpret_cast<void**>(&dy), static_cast<std::size_t>(rows) * sizeof(T)));
  CUDA_OK(cudaMemcpy(dA, A.data(), A.size() * sizeof(T), cudaMemcpyHostToDevice));
  CUDA_OK(cudaMemcpy(dx, x.data(), x.size() * sizeof(T), cudaMemcpyHostToDevice));
  CUDA_OK(cudaMemset(dy, 0xff, static_cast<std::size_t>(rows) * sizeof(T)));  // NaN: every row must be written
  qifsim::kernels::launch_row_coupling<T>(dA, dx, rows, cols, dy, nullptr);
  CUDA_OK(cudaDeviceSynchronize());
  std::vector<T> y(static_cast<std::size_t>(rows));
  CUDA_OK(cudaMemcpy(y.data(), dy, y.size() * sizeof(T), cudaMemcpyDeviceToHost));
  cudaFree(dA);
  cudaFree(dx);
  cudaFree(dy);
  std::int64_t differ = 0, first = -1;
  for (std::int64_t r = 0; r < rows; ++r) {
    const T want = block_row_dot_order(A.data() + r * cols, x.data(), cols, qifsim::kernels::kRowCouplingBlock);
    if (std::memcmp(&want, &y[static_cast<std::size_t>(r)], sizeof(T)) != 0) {
      if (first < 0) first = r;
      ++differ;
    }
  }
  EXPECT_EQ(differ, 0) << differ << " of " << rows << " rows differ from the documented order; first: row " << first;
}

// 70000 rows: more than the 65535 blocks of the launch, so blocks loop over rows; 37 columns:
// fewer than the block's threads (most threads add nothing).
TEST(CudaKernels, RowCouplingMoreRowsThanBlocksFollowsTheDocumentedOrder) {
  REQUIRE_GPU();
  check_rows<double>(70000, 37);
  check_rows<float>(70000, 37);
}

// Columns around the 8-load batches of each thread (block 128: 1024 columns per batch round):
// whole batches, a remainder, and both.
TEST(CudaKernels, RowCouplingBatchesAndRemaindersFollowTheDocumentedOrder) {
  REQUIRE_GPU();
  for (std::int64_t cols : {1, 127, 1024, 1025, 3000, 8192, 10007}) {
    check_rows<double>(64, cols);
    check_rows<float>(64, cols);
  }
}

// Noise and Poisson input: the kernel against the CPU loop (host/cpu/stochastic_input.cpp) on
// the same state, bit for bit: per-neuron sigma, independent Poisson inputs by inversion
// (lambda 0.6 and 25) and by rejection (lambda 200), and a shared one; local ranges that start at an
// even and at an odd global index (a pair split over two ranges); every 7th neuron spiked (the
// CPU resets it to its value before the step, the kernel leaves it).
template <class T>
void check_stochastic_input(std::int64_t first, std::int64_t n, std::uint64_t step) {
  qifsim::detail::Node node;
  node.name = "pop";
  node.size = first + n + 3;
  std::vector<double> sigma(static_cast<std::size_t>(node.size));
  for (std::size_t i = 0; i < sigma.size(); ++i) sigma[i] = 0.1 + 0.01 * static_cast<double>(i % 97);
  node.noise = {sigma, 11};
  node.poisson = {{30.0, 0.25, 2, false, 3}, {1250.0, -0.01, 2, false, 4}, {8.0, 0.5, 1, true, 5},
                  {10000.0, 0.001, 2, false, 6}};  // lambda 0.6, 25 (inversion), 0.08 (shared), 200 (rejection)
  const double dt = 0.01;
  const qifsim::detail::StateShape shape{1, node.size, first, first + n};
  const qifsim::detail::CpuStochasticInput cpu = qifsim::detail::make_stochastic_input(node, shape, dt);
  std::mt19937 rng(static_cast<unsigned>(first + n));
  std::uniform_real_distribution<double> u(-3.0, 3.0);
  std::vector<T> v(static_cast<std::size_t>(n));
  for (T& x : v) x = static_cast<T>(u(rng));
  std::vector<long> spiked;
  std::vector<unsigned char> flags(static_cast<std::size_t>(n), 0);
  for (std::int64_t i = 0; i < n; i += 7) {
    spiked.push_back(static_cast<long>(i));
    flags[static_cast<std::size_t>(i)] = 1;
  }
  const std::vector<T> before = v;
  std::vector<T> want = v;
  qifsim::detail::add_stochastic_input<T>(cpu, want.data(), n, static_cast<std::int64_t>(step), spiked, before.data(), false);

  std::vector<qifsim::kernels::DevicePoisson> inputs;
  for (const auto& p : cpu.poisson) inputs.push_back({p.law, p.weight, p.seed, p.shared ? 1u : 0u});
  DeviceVector<T> d_v(v);
  DeviceVector<double> d_sigma(cpu.sigma_sqrt_dt);
  DeviceVector<qifsim::kernels::DevicePoisson> d_inputs(inputs);
  DeviceVector<unsigned char> d_flags(flags);
  ASSERT_NE(d_v.ptr, nullptr);
  qifsim::kernels::StochasticArgs<T> a;
  a.v = d_v.ptr;
  a.n = n;
  a.first = first;
  a.step = step;
  a.key = cpu.key;
  a.noise_seed = cpu.noise_seed;
  a.sigma_sqrt_dt = d_sigma.ptr;
  a.sigma_count = static_cast<std::int64_t>(cpu.sigma_sqrt_dt.size());
  a.poisson = d_inputs.ptr;
  a.inputs = static_cast<int>(inputs.size());
  a.spiked = d_flags.ptr;
  qifsim::kernels::launch_stochastic_input<T>(a, nullptr);
  CUDA_OK(cudaDeviceSynchronize());
  const std::vector<T> got = d_v.to_host(static_cast<std::size_t>(n));
  std::int64_t differ = 0, first_differ = -1;
  for (std::int64_t i = 0; i < n; ++i) {
    if (std::memcmp(&got[static_cast<std::size_t>(i)], &want[static_cast<std::size_t>(i)], sizeof(T)) != 0) {
      if (first_differ < 0) first_differ = i;
      ++differ;
    }
  }
  EXPECT_EQ(differ, 0) << differ << " of " << n << " neurons differ from the CPU's; first: local " << first_differ;
  EXPECT_NE(got, before);  // the input did something
}

TEST(CudaKernels, StochasticInputDrawsTheCpusNumbersBitForBit) {
  REQUIRE_GPU();
  for (std::int64_t first : {0, 1, 4097}) {
    check_stochastic_input<double>(first, 10001, 17);
    check_stochastic_input<float>(first, 10001, 123456789);
  }
}

}  // namespace
