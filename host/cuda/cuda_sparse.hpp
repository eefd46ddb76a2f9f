// host/cuda/cuda_sparse.hpp - y = A x for a CSR matrix through cuSPARSE: one owner per cuSPARSE
// resource (the handle, the matrix and vector descriptors; the workspace is a DeviceBuffer) and
// the product itself, always with the deterministic algorithm CUSPARSE_SPMV_CSR_ALG2.
#pragma once

#include <cusparse.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "coupling_kernels.hpp"
#include "fixed_order_products.hpp"
#include "cuda/cuda_resources.hpp"
#include "cuda_error.hpp"
#include "cuda/cuda_libraries.hpp"
#include "qifsim/sparse_matrix.hpp"

namespace qifsim::cuda {

/// The SpMV algorithm of every sparse product. cuSPARSE documents CUSPARSE_SPMV_CSR_ALG2 as
/// giving deterministic (bit-wise) results for each run (cusparseSpMV, "cusparseSpMVAlg_t");
/// CSR_ALG1 and the default may not. Bit-for-bit repeatable runs and CUDA Graph replays equal
/// to plain launches depend on it.
constexpr cusparseSpMVAlg_t kSpMVAlgorithm = CUSPARSE_SPMV_CSR_ALG2;

struct SparseRelease {
  static void release(cusparseHandle_t h) noexcept { cusparse().cusparseDestroy(h); }
};
struct SparseMatrixRelease {
  static void release(cusparseConstSpMatDescr_t d) noexcept { cusparse().cusparseDestroySpMat(d); }
};
struct DenseVectorRelease {
  static void release(cusparseDnVecDescr_t d) noexcept { cusparse().cusparseDestroyDnVec(d); }
};

/// A cuSPARSE handle bound to `stream`, taking alpha and beta from device memory: a captured
/// CUDA Graph then holds no host addresses.
class SparseHandle : public Handle<cusparseHandle_t, SparseRelease> {
 public:
  explicit SparseHandle(cudaStream_t stream) {
    QIFSIM_CUSPARSE_TRY(cusparse().cusparseCreate(&handle_));
    QIFSIM_CUSPARSE_TRY(cusparse().cusparseSetStream(handle_, stream));
    QIFSIM_CUSPARSE_TRY(cusparse().cusparseSetPointerMode(handle_, CUSPARSE_POINTER_MODE_DEVICE));
  }
};

template <class T>
constexpr cudaDataType value_type() {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "float or double");
  return std::is_same_v<T, double> ? CUDA_R_64F : CUDA_R_32F;
}

/// A CSR matrix descriptor over device arrays (which must outlive it).
class SparseMatrixDescriptor : public Handle<cusparseConstSpMatDescr_t, SparseMatrixRelease> {
 public:
  SparseMatrixDescriptor() = default;
  SparseMatrixDescriptor(std::int64_t rows, std::int64_t cols, std::int64_t nnz, const void* indptr,
                         const void* indices, const void* values, cusparseIndexType_t index_type,
                         cudaDataType type) {
    QIFSIM_CUSPARSE_TRY(cusparse().cusparseCreateConstCsr(&handle_, rows, cols, nnz, indptr, indices, values, index_type,
                                               index_type, CUSPARSE_INDEX_BASE_ZERO, type));
  }
};

/// A dense vector descriptor; set_values() points it at another array of the same size.
class DenseVectorDescriptor : public Handle<cusparseDnVecDescr_t, DenseVectorRelease> {
 public:
  DenseVectorDescriptor() = default;
  DenseVectorDescriptor(std::int64_t size, void* values, cudaDataType type) {
    QIFSIM_CUSPARSE_TRY(cusparse().cusparseCreateDnVec(&handle_, size, values, type));
  }
  void set_values(void* values) { QIFSIM_CUSPARSE_TRY(cusparse().cusparseDnVecSetValues(handle_, values)); }
};

/// y = A x (or y += A x) for a CSR matrix held on the device in T, through cusparseSpMV with
/// kSpMVAlgorithm. Row pointers and columns are 32-bit where the matrix allows (nnz, rows and
/// cols below 2^31), else both 64-bit (cuSPARSE takes one index type for both).
template <class T>
class SparseProduct {
 public:
  /// Uploads `m` on `stream` (blocking) and sizes the workspace with `handle`.
  SparseProduct(cusparseHandle_t handle, const SparseMatrix& m, cudaStream_t stream)
      : rows_(m.rows), cols_(m.cols), nnz_(m.nnz()) {
    scratch_ = DeviceBuffer<T>(static_cast<std::size_t>(rows_ + cols_));
    QIFSIM_CUDA_TRY(cudaMemsetAsync(scratch_.data(), 0, scratch_.bytes(), stream));
    if (nnz_ == 0) {
      QIFSIM_CUDA_TRY(cudaStreamSynchronize(stream));
      return;  // y = 0: no product to run
    }
    constexpr std::int64_t kMax32 = std::numeric_limits<std::int32_t>::max();
    const bool wide = nnz_ > kMax32 || rows_ > kMax32 || cols_ > kMax32;
    const void* indptr = nullptr;
    const void* indices = nullptr;
    if (wide) {
      indptr64_ = upload_as<std::int64_t>(m.indptr, stream);
      indices64_ = upload_as<std::int64_t>(m.indices, stream);
      indptr = indptr64_.data();
      indices = indices64_.data();
    } else {
      indptr32_ = upload_as<std::int32_t>(m.indptr, stream);
      indices32_ = upload_as<std::int32_t>(m.indices, stream);
      indptr = indptr32_.data();
      indices = indices32_.data();
    }
    values_ = upload_as<T>(m.values, stream);
    const T scalars[2] = {T(1), T(0)};  // alpha, beta
    scalars_ = DeviceBuffer<T>(2);
    QIFSIM_CUDA_TRY(cudaMemcpyAsync(scalars_.data(), scalars, sizeof(scalars), cudaMemcpyHostToDevice, stream));
    QIFSIM_CUDA_TRY(cudaStreamSynchronize(stream));  // `scalars` goes out of scope
    A_ = SparseMatrixDescriptor(rows_, cols_, nnz_, indptr, indices, values_.data(),
                                wide ? CUSPARSE_INDEX_64I : CUSPARSE_INDEX_32I, value_type<T>());
    // The vector descriptors start on the scratch array (apply() points them at its vectors).
    x_ = DenseVectorDescriptor(cols_, scratch_.data() + rows_, value_type<T>());
    y_ = DenseVectorDescriptor(rows_, scratch_.data(), value_type<T>());
    std::size_t bytes = 0;
    QIFSIM_CUSPARSE_TRY(cusparse().cusparseSpMV_bufferSize(handle, CUSPARSE_OPERATION_NON_TRANSPOSE, alpha(), A_.get(),
                                                x_.get(), beta(), y_.get(), value_type<T>(), kSpMVAlgorithm,
                                                &bytes));
    workspace_ = DeviceBuffer<char>(std::max<std::size_t>(bytes, 16));
    // One product now, outside any stream capture: whatever cuSPARSE sets up on a first call
    // (and any error) happens here, not while a CUDA Graph is being captured.
    apply(handle, scratch_.data() + rows_, false, scratch_.data(), stream);
    QIFSIM_CUDA_TRY(cudaStreamSynchronize(stream));
  }

  std::int64_t rows() const { return rows_; }
  std::int64_t cols() const { return cols_; }

  /// y = A x, or y += A x with `accumulate` (the product goes through the scratch array and is
  /// then added: SpMV's own beta = 1 is not used), enqueued on `stream`, the handle's stream.
  /// x holds cols values and y rows values, in device memory. No host synchronisation.
  void apply(cusparseHandle_t handle, const T* x, bool accumulate, T* y, cudaStream_t stream) {
    if (nnz_ == 0) {
      if (!accumulate) QIFSIM_CUDA_TRY(cudaMemsetAsync(y, 0, static_cast<std::size_t>(rows_) * sizeof(T), stream));
      return;
    }
    T* out = accumulate ? scratch_.data() : y;
    // beta = 0 sits in device memory, so SpMV may read `out` (as 0 * out): cleared first, no NaN
    // left there by an earlier step can come back.
    QIFSIM_CUDA_TRY(cudaMemsetAsync(out, 0, static_cast<std::size_t>(rows_) * sizeof(T), stream));
    x_.set_values(const_cast<T*>(x));  // cuSPARSE only reads x
    y_.set_values(out);
    QIFSIM_CUSPARSE_TRY(cusparse().cusparseSpMV(handle, CUSPARSE_OPERATION_NON_TRANSPOSE, alpha(), A_.get(), x_.get(), beta(),
                                     y_.get(), value_type<T>(), kSpMVAlgorithm, workspace_.data()));
    if (accumulate) kernels::launch_add_into<T>(y, out, rows_, stream);
  }

  /// The same product in a fixed order (RunOptions::reproducible): each row's entries in
  /// ascending column order from 0, one thread per row (kernels/fixed_order_products.cu), as
  /// the CPU's sparse row loop sums them.
  void apply_fixed_order(const T* x, bool accumulate, T* y, cudaStream_t stream) {
    if (nnz_ == 0) {
      if (!accumulate) QIFSIM_CUDA_TRY(cudaMemsetAsync(y, 0, static_cast<std::size_t>(rows_) * sizeof(T), stream));
      return;
    }
    if (indptr64_.size() > 0) {
      kernels::launch_csr_rows<T, std::int64_t>(rows_, indptr64_.data(), indices64_.data(), values_.data(), x,
                                                accumulate, y, stream);
    } else {
      kernels::launch_csr_rows<T, std::int32_t>(rows_, indptr32_.data(), indices32_.data(), values_.data(), x,
                                                accumulate, y, stream);
    }
  }

 private:
  template <class To, class From>
  static DeviceBuffer<To> upload_as(const std::vector<From>& values, cudaStream_t stream) {
    DeviceBuffer<To> buf(values.size());
    if (values.empty()) return buf;
    std::vector<To> host(values.begin(), values.end());
    QIFSIM_CUDA_TRY(cudaMemcpyAsync(buf.data(), host.data(), host.size() * sizeof(To), cudaMemcpyHostToDevice,
                                    stream));
    QIFSIM_CUDA_TRY(cudaStreamSynchronize(stream));  // `host` goes out of scope
    return buf;
  }
  const T* alpha() const { return scalars_.data(); }
  const T* beta() const { return scalars_.data() + 1; }

  std::int64_t rows_, cols_, nnz_;
  DeviceBuffer<std::int32_t> indptr32_, indices32_;  // 32-bit indices
  DeviceBuffer<std::int64_t> indptr64_, indices64_;  // or 64-bit
  DeviceBuffer<T> values_;
  DeviceBuffer<T> scalars_;  // alpha = 1, beta = 0
  DeviceBuffer<T> scratch_;  // rows + cols values: the product when accumulated (rows), zeros (cols)
  // Declared after the arrays they point into, so destroyed before them.
  SparseMatrixDescriptor A_;
  DenseVectorDescriptor x_, y_;
  DeviceBuffer<char> workspace_;
};

}  // namespace qifsim::cuda
