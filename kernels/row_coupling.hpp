// kernels/row_coupling.hpp - y = A x for a dense row-major A, one thread block per row
// (launcher side). An alternative to cuBLAS's gemv for the population coupling J s,
// chosen per run with RunOptions::cuda_coupling.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace qifsim::kernels {

constexpr int kRowCouplingBlock = 128;

/// y[r] = sum_c A[r * cols + c] x[c] for r < rows, on `stream`. Each row is summed by one
/// block of kRowCouplingBlock threads in a fixed order (strided partial sums, then warp
/// shuffles, then the warps' sums in order): deterministic, no atomics. Many blocks keep
/// many loads in flight, which matters where cuBLAS's one-warp-per-row gemv is latency
/// bound (N of a few thousand and below; see bench/RESULTS.md, section 6).
template <class T>
void launch_row_coupling(const T* A, const T* x, std::int64_t rows, std::int64_t cols, T* y,
                         cudaStream_t stream);

}  // namespace qifsim::kernels
