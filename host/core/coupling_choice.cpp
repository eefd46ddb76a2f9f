// host/core/coupling_choice.cpp - the coupling operator `auto` and the explicit modes choose.
#include "core/coupling_choice.hpp"

#include <cmath>

#include "qifsim/error.hpp"

namespace qifsim::detail {

WeightsFacts weights_facts(const Weights& w) {
  WeightsFacts f;
  f.kind = w.kind();
  f.rows = w.rows();
  f.cols = w.cols();
  f.stored = w.synapses();
  switch (w.kind()) {
    case Weights::Kind::None: break;
    case Weights::Kind::AllToAll:
      f.nonzeros = w.value() != 0.0 ? f.rows * f.cols : 0;
      f.uniform = true;
      f.value = w.value();
      break;
    case Weights::Kind::Dense: {
      const auto& d = w.dense().data;
      f.uniform = !d.empty();
      f.value = d.empty() ? 0.0 : d[0];
      for (double x : d) {
        f.nonzeros += x != 0.0;
        f.uniform = f.uniform && x == f.value;
      }
      break;
    }
    case Weights::Kind::Sparse: {
      // Stored entries count as nonzeros (no scan of up to 10^9 values); only a matrix that
      // stores every entry can be uniform.
      const SparseMatrix& m = w.sparse();
      f.nonzeros = m.nnz();
      f.uniform = m.nnz() == f.rows * f.cols && m.nnz() > 0;
      f.value = m.values.empty() ? 0.0 : m.values[0];
      if (f.uniform) {
        for (double x : m.values) f.uniform = f.uniform && x == f.value;
      }
      break;
    }
  }
  return f;
}

namespace {

CouplingMode stored_as(Weights::Kind k) {
  switch (k) {
    case Weights::Kind::Sparse: return CouplingMode::Sparse;
    case Weights::Kind::AllToAll: return CouplingMode::Procedural;
    default: return CouplingMode::Dense;
  }
}

// `auto`'s storage: what was given, except that a large dense J becomes procedural when all its
// entries are equal and sparse when few are nonzero.
CouplingMode auto_storage(const WeightsFacts& f) {
  if (f.kind == Weights::Kind::AllToAll) return CouplingMode::Procedural;
  if (f.kind != Weights::Kind::Dense || f.rows < kAutoMinN) return stored_as(f.kind);
  if (f.uniform) return CouplingMode::Procedural;
  const double density = static_cast<double>(f.nonzeros) / (static_cast<double>(f.rows) * static_cast<double>(f.cols));
  return density < kAutoSparseDensity ? CouplingMode::Sparse : CouplingMode::Dense;
}

}  // namespace

CouplingChoice choose_coupling(const std::string& population, const WeightsFacts& f, bool one_tau_s,
                               CouplingMode requested) {
  const std::string who = "coupling = " + to_string(requested) + ": population '" + population + "'";
  switch (requested) {
    case CouplingMode::Dense: return {CouplingMode::Dense, false};
    case CouplingMode::Sparse: return {CouplingMode::Sparse, false};
    case CouplingMode::Procedural:
      if (!f.uniform) {
        throw InvalidArgument(who + " has weights that are not all equal; procedural coupling is for all-to-all "
                                    "weights J_ij = w (use auto, dense or sparse)");
      }
      return {CouplingMode::Procedural, false};
    case CouplingMode::Events:
      if (!one_tau_s) {
        throw InvalidArgument(who + " has one tau_s per neuron; events need one tau_s per population (use auto, "
                                    "dense or sparse)");
      }
      return {stored_as(f.kind), true};
    case CouplingMode::Auto: break;
  }
  const CouplingMode storage = auto_storage(f);
  // Events pay off where a product costs far more than the neurons' own update: sparse or dense
  // storage of a large population (a procedural J s is already O(N)). A dense J is then held
  // once, transposed: the event update adds its columns and a resync sums them.
  const bool events = (storage == CouplingMode::Sparse || storage == CouplingMode::Dense) && one_tau_s &&
                      f.rows >= kAutoMinN && f.rows == f.cols;
  return {storage, events};
}

CouplingMode choose_edge_storage(const WeightsFacts& f, CouplingMode requested) {
  switch (requested) {
    case CouplingMode::Dense: return CouplingMode::Dense;
    case CouplingMode::Sparse: return CouplingMode::Sparse;
    case CouplingMode::Procedural: return f.uniform ? CouplingMode::Procedural : stored_as(f.kind);
    case CouplingMode::Events: return stored_as(f.kind);
    case CouplingMode::Auto: break;
  }
  return auto_storage(f);
}

std::string describe(const CouplingChoice& c) {
  return c.events ? "events over " + to_string(c.storage) : to_string(c.storage);
}

WeightsFacts rows_share(WeightsFacts f, double fraction) {
  if (fraction == 1.0) return f;
  const auto part = [fraction](std::int64_t v) {
    return static_cast<std::int64_t>(std::llround(fraction * static_cast<double>(v)));
  };
  f.rows = part(f.rows);
  f.stored = part(f.stored);
  f.nonzeros = part(f.nonzeros);
  return f;
}

double coupling_bytes(const WeightsFacts& f, const CouplingChoice& c, double value_bytes) {
  const double rows = static_cast<double>(f.rows);
  const double entries = rows * static_cast<double>(f.cols);
  // Made sparse from another kind, only the nonzeros are kept.
  const double stored = static_cast<double>(f.kind == Weights::Kind::Sparse ? f.stored : f.nonzeros);
  double bytes = 0.0;
  switch (c.storage) {
    case CouplingMode::Dense: bytes = entries * value_bytes; break;  // events: transposed in place
    case CouplingMode::Sparse:
      // CSR (values in the run's precision, 32-bit columns, 64-bit row pointers); events add the
      // outgoing lists (CSC): the same entries and one pointer per column (cols + 1: the whole
      // population's, also where the rows are one rank's).
      bytes = stored * (value_bytes + 4.0) + (rows + 1.0) * 8.0;
      if (c.events) bytes += stored * (value_bytes + 4.0) + (static_cast<double>(f.cols) + 1.0) * 8.0;
      break;
    default: bytes = 0.0;
  }
  return bytes;
}

}  // namespace qifsim::detail
