// kernels/coupling_kernels.hpp - the coupling operators' own kernels besides cuBLAS and cuSPARSE
// (launcher side): the procedural product (every weight equal to w: y = w * sum(x), no matrix)
// and the sum of a separately computed product into y.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace qifsim::kernels {

/// What one procedural product reads and writes. The scratch arrays belong to one product
/// (one population's J or one edge) and are reused every step.
template <class T>
struct ProceduralArgs {
  const T* x = nullptr;        ///< cols values
  std::int64_t cols = 0;
  T* y = nullptr;              ///< rows values
  std::int64_t rows = 0;
  double w = 0.0;              ///< the one weight
  bool accumulate = false;     ///< y += w * sum(x) instead of y = w * sum(x)
  double* partials = nullptr;  ///< procedural_partials(cols) block sums
  unsigned int* blocks_done = nullptr;  ///< counter of the last-block sum (starts 0, left 0)
  T* value = nullptr;          ///< one value: w * sum(x) rounded to T
};

/// Block sums a product over `cols` inputs needs (one per 256 consecutive inputs, at least 1).
std::int64_t procedural_partials(std::int64_t cols);

/// y_i = w * sum_j x_j (or y_i += ...) on `stream`, as the CPU's ProceduralCoupling computes it:
/// sum(x) in the one reduction order (host/model/reduction.hpp: blocks of 256 consecutive
/// inputs summed as a halving tree, the block sums added in block order, in double), then
/// w * sum rounded to T once. Two launches (the sum, whose last block adds the block sums and
/// writes `value`; then the fill): no host synchronisation, so a CUDA Graph can capture it.
template <class T>
void launch_procedural_coupling(const ProceduralArgs<T>& args, cudaStream_t stream);

/// y_i += add_i for i < n on `stream` (a sparse product accumulated into y).
template <class T>
void launch_add_into(T* y, const T* add, std::int64_t n, cudaStream_t stream);

}  // namespace qifsim::kernels
