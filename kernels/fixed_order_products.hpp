// kernels/fixed_order_products.hpp - the products of RunOptions::reproducible on the GPU
// (launcher side): a dense row dot in the CPU's own order (host/cpu/gemv_loop.cpp: eight lanes,
// lane k taking columns k, k + 8, ..., a fixed tree, then the tail) and a CSR row loop in
// ascending column order (host/cpu/sparse_coupling.hpp), so that the GPU gives the CPU's bits.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace qifsim::kernels {

/// y = A x (or y = A x + y with `accumulate`) for a row-major rows x cols A, each row summed
/// as gemv_loop sums it: lanes l_k = sum over j = k, k + 8, ... below cols - cols % 8 (from 0,
/// in order), then ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)), then the remaining columns
/// in order, then + y. Eight threads per row. No host synchronisation.
template <class T>
void launch_row_dot_lanes(const T* A, const T* x, std::int64_t rows, std::int64_t cols, bool accumulate, T* y,
                          cudaStream_t stream);

/// y_i = sum_k values[k] x[indices[k]] over row i's entries in stored (ascending column) order,
/// from 0 (or y_i + that sum with `accumulate`), one thread per row. I: int32 or int64.
template <class T, class I>
void launch_csr_rows(std::int64_t rows, const I* indptr, const I* indices, const T* values, const T* x,
                     bool accumulate, T* y, cudaStream_t stream);

}  // namespace qifsim::kernels
