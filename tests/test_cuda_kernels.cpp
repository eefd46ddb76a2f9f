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

#include "qifsim/device.hpp"
#include "row_coupling.hpp"

namespace {

#define REQUIRE_GPU()                                                              \
  do {                                                                             \
    const qifsim::DeviceStatus status_ = qifsim::cuda_device_status();            \
    if (!status_.usable) GTEST_SKIP() << "no usable GPU: " << status_.description; \
  } while (0)

#define CUDA_OK(call) ASSERT_EQ((call), cudaSuccess) << #call

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

}  // namespace
