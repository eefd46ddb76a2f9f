// host/cuda/device_coupling.hpp - where coupling is applied on the GPU: one operator per
// population J and per edge W, holding the weights as the coupling choice stores them
// (core/coupling_choice.hpp) and computing y = W x (or y += W x) on the compute stream. Dense:
// cuBLAS gemv (cuda_blas.hpp); sparse: cuSPARSE SpMV (cuda_sparse.hpp); procedural (all
// weights equal): w * sum(x) in the one reduction order (kernels/coupling_kernels.cu). The
// CPU's operators are host/cpu/coupling.hpp and host/cpu/sparse_coupling.hpp.
#pragma once

#include <cublas_v2.h>
#include <cusparse.h>

#include <cstdint>
#include <memory>

#include "core/coupling_choice.hpp"
#include "coupling_kernels.hpp"
#include "fixed_order_products.hpp"
#include "cuda/cuda_blas.hpp"
#include "cuda/cuda_resources.hpp"
#include "cuda/cuda_sparse.hpp"
#include "cuda/transfers.hpp"
#include "qifsim/weights.hpp"

namespace qifsim::cuda {

/// The GPU operator of one coupling (population J or edge W, rows x cols) in precision T: move-
/// only, owning its device storage; apply() enqueues y = W x without host synchronisation.
template <class T>
class DeviceCoupling {
 public:
  /// No operator (uncoupled, or a conversion that failed).
  DeviceCoupling() = default;

  /// `w` stored as `storage` (Dense, Sparse or Procedural; facts.value is the weight of a
  /// procedural one), converted once on upload where the kind given differs. `sparse`: a
  /// cuSPARSE handle bound to `stream` (used by Sparse only). Blocks until uploaded.
  DeviceCoupling(const Weights& w, const detail::WeightsFacts& facts, CouplingMode storage,
                 cusparseHandle_t sparse, cudaStream_t stream)
      : storage_(storage), rows_(w.rows()), cols_(w.cols()), weight_(facts.value) {
    switch (storage) {
      case CouplingMode::Procedural: {
        const auto partials = static_cast<std::size_t>(kernels::procedural_partials(cols_));
        partials_ = DeviceBuffer<double>(partials);
        blocks_done_ = DeviceBuffer<unsigned int>(1);
        value_ = DeviceBuffer<T>(1);
        QIFSIM_CUDA_TRY(cudaMemsetAsync(blocks_done_.data(), 0, sizeof(unsigned int), stream));
        QIFSIM_CUDA_TRY(cudaStreamSynchronize(stream));
        break;
      }
      case CouplingMode::Sparse:
        // A matrix of one row or one column is no larger dense, and cuSPARSE releases up to
        // 12.6.2 are reported to get CSR_ALG2 wrong on such shapes: it takes gemv.
        if (rows_ <= 1 || cols_ <= 1) {
          dense_ = upload<T>(w.to_dense().data, stream);
        } else if (w.kind() == Weights::Kind::Sparse) {
          sparse_ = std::make_unique<SparseProduct<T>>(sparse, w.sparse(), stream);
        } else {
          sparse_ = std::make_unique<SparseProduct<T>>(sparse, w.to_sparse(), stream);
        }
        break;
      default:
        if (w.kind() == Weights::Kind::Dense) {
          dense_ = upload<T>(w.dense().data, stream);
        } else {
          dense_ = upload<T>(w.to_dense().data, stream);
        }
        break;
    }
    ready_ = true;
  }

  /// False where there is no operator.
  bool ready() const { return ready_; }
  /// How the weights are stored (as set_coupling chose; a one-row or one-column sparse matrix is
  /// held dense inside).
  CouplingMode storage() const { return storage_; }
  /// The row-major dense matrix where storage() is Dense, else null (the row-block and fused
  /// kernels take only this).
  const T* dense() const { return storage_ == CouplingMode::Dense ? dense_.data() : nullptr; }

  /// y = W x, or y += W x with `accumulate`, enqueued on `stream` (the handles' stream): x holds
  /// cols values and y rows values in device memory. No host synchronisation (graph capture).
  /// `fixed_order` (RunOptions::reproducible): dense and sparse products through the library's
  /// own kernels (kernels/fixed_order_products.cu), in the CPU's order, not cuBLAS or cuSPARSE.
  void apply(cublasHandle_t blas, cusparseHandle_t sparse, const T* x, bool accumulate, T* y, cudaStream_t stream,
             bool fixed_order = false) {
    if (sparse_) {
      if (fixed_order) {
        sparse_->apply_fixed_order(x, accumulate, y, stream);
      } else {
        sparse_->apply(sparse, x, accumulate, y, stream);
      }
    } else if (value_.data()) {
      kernels::ProceduralArgs<T> a;
      a.x = x;
      a.cols = cols_;
      a.y = y;
      a.rows = rows_;
      a.w = weight_;
      a.accumulate = accumulate;
      a.partials = partials_.data();
      a.blocks_done = blocks_done_.data();
      a.value = value_.data();
      kernels::launch_procedural_coupling<T>(a, stream);
    } else if (fixed_order) {
      kernels::launch_row_dot_lanes<T>(dense_.data(), x, rows_, cols_, accumulate, y, stream);
    } else {
      gemv<T>(blas, rows_, cols_, dense_.data(), x, accumulate ? T(1) : T(0), y);
    }
  }

 private:
  bool ready_ = false;
  CouplingMode storage_ = CouplingMode::Dense;
  std::int64_t rows_ = 0, cols_ = 0;
  double weight_ = 0.0;                      // procedural: the one weight
  DeviceBuffer<T> dense_;                    // dense: row-major rows x cols
  std::unique_ptr<SparseProduct<T>> sparse_;  // sparse: CSR through cuSPARSE
  DeviceBuffer<double> partials_;            // procedural: block sums of x
  DeviceBuffer<unsigned int> blocks_done_;   // ... the last-block counter
  DeviceBuffer<T> value_;                    // ... w * sum(x)
};

}  // namespace qifsim::cuda
