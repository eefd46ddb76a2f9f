// host/cpu/make_coupling.hpp - the CPU operator for weights stored as a coupling choice asks
// (core/coupling_choice.hpp): converting them once where the storage differs from the kind given.
#pragma once

#include <memory>

#include "core/coupling_choice.hpp"
#include "cpu/coupling.hpp"
#include "cpu/sparse_coupling.hpp"
#include "qifsim/weights.hpp"

namespace qifsim::detail {

template <class T>
std::unique_ptr<Coupling<T>> make_coupling(const Weights& w, const WeightsFacts& facts, CouplingMode storage) {
  switch (storage) {
    case CouplingMode::Procedural:
      return std::make_unique<ProceduralCoupling<T>>(w.rows(), w.cols(), facts.value);
    case CouplingMode::Sparse:
      if (w.kind() == Weights::Kind::Sparse) return std::make_unique<SparseCoupling<T>>(w.sparse_shared());
      return std::make_unique<SparseCoupling<T>>(std::make_shared<const SparseMatrix>(w.to_sparse()));
    default:
      if (w.kind() == Weights::Kind::Dense) {
        const auto& d = w.dense().data;
        return std::make_unique<DenseCoupling<T>>(w.rows(), w.cols(), std::vector<T>(d.begin(), d.end()));
      }
      const Matrix d = w.to_dense();
      return std::make_unique<DenseCoupling<T>>(w.rows(), w.cols(), std::vector<T>(d.data.begin(), d.data.end()));
  }
}

}  // namespace qifsim::detail
