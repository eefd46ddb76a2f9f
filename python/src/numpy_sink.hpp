// python/src/numpy_sink.hpp - where a recording lands for Python: a SampleSink that stores
// each batch the engine hands to the Observer into blocks that NumPy arrays share.
//
// The C++ Observer passes every batch from the engine's ring buffer to its sinks; this one
// copies the batch once, into per-series blocks (samples x width, row-major). A NumPy array
// handed to Python views a block and holds a reference to it, so no recording is copied on
// the way out, and an array stays valid when the sink moves on to a bigger block.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "qifsim/network.hpp"
#include "qifsim/observer.hpp"

namespace qifsim::python {

/// One allocation of `capacity` rows of `width` values (uninitialised storage). NumPy arrays
/// share ownership of it.
template <class T>
struct Block {
  struct Free {
    void operator()(T* p) const noexcept { std::free(p); }
  };
  std::unique_ptr<T, Free> owned;  // from allocate_block (malloc'd; 2 MiB pages where large)
  T* data = nullptr;
  std::int64_t capacity = 0;  // rows
};

/// What a NumPy array needs to view the first `rows` rows of one series.
struct SeriesView {
  std::shared_ptr<const void> owner;  // keeps the block alive
  const void* data = nullptr;
  std::int64_t rows = 0;
  std::int64_t width = 0;
};

/// The sink: one growing samples x width array per series (Observer::keys() order) plus the
/// step indices. Thread-safe: a run fills it with the GIL released.
class NumpySink final : public SampleSink {
 public:
  /// The series of `obs` ("out", "loss", "node.var"... in its order), with the widths it
  /// knows already (1 for the loss and neuron means).
  explicit NumpySink(const Observer& obs);

  void write(const Observer& obs, std::int64_t count, const std::int64_t* steps,
             const std::vector<const double*>& series) override;
  /// Spike events: kept per population (spec().spikes order), in arrival order.
  void write_spikes(const Observer& obs, std::size_t pop, std::int64_t count, const std::int64_t* steps,
                    const std::int64_t* neurons) override;
  /// An ensemble's spike events, with the member of each.
  void write_member_spikes(const Observer& obs, std::size_t pop, std::int64_t count, const std::int64_t* steps,
                           const std::int64_t* members, const std::int64_t* neurons) override;
  /// Copies of population `pop`'s spike steps and neurons.
  std::pair<std::vector<std::int64_t>, std::vector<std::int64_t>> spikes(std::size_t pop) const;
  /// A copy of the member of each of population `pop`'s spikes (empty for a single network).
  std::vector<std::int64_t> spike_members(std::size_t pop) const;

  /// Make room for `total` samples in all (one allocation per series instead of growth).
  /// `widths` are the series widths in key order; ignored when they differ from the widths
  /// already fixed (the run then refuses the observer itself).
  void reserve(std::int64_t total, const std::vector<std::int64_t>& widths);

  std::int64_t samples() const;
  /// Batches received since construction (a run with batch_samples = b sends ceil(n / b)).
  std::int64_t batches() const;
  const std::vector<std::string>& keys() const { return keys_; }
  /// Width of series i (0 until known).
  std::int64_t width(std::size_t i) const;
  /// Bytes held by the stored values and step indices (capacity not yet used excluded).
  std::size_t bytes_held() const;

  SeriesView series(std::size_t i) const;  // float64 values
  SeriesView steps() const;                // int64 step indices, width 1

 private:
  template <class T>
  struct Column {
    std::int64_t width = -1;  // -1: not known yet
    std::shared_ptr<Block<T>> block;
  };
  template <class T>
  static void grow(Column<T>& c, std::int64_t rows, std::int64_t used);
  void fix_widths(const std::vector<std::int64_t>& widths);  // lock held
  void ensure(std::int64_t rows);                             // lock held

  std::vector<std::string> keys_;
  mutable std::mutex mutex_;
  std::vector<Column<double>> columns_;
  Column<std::int64_t> steps_;
  std::vector<std::vector<std::int64_t>> spike_steps_, spike_neurons_;  // per recorded population
  std::vector<std::vector<std::int64_t>> spike_members_;  // an ensemble's, per recorded population
  std::int64_t rows_ = 0;
  std::int64_t batches_ = 0;
};

/// An Observer whose samples go to a NumpySink only (the C++ side keeps no second copy).
struct PyObserver {
  PyObserver(double dt, bool record_output, bool record_loss, std::vector<RecordVar> vars,
             std::vector<std::string> spikes = {}, std::int64_t members = 1);
  Observer obs;
  std::shared_ptr<NumpySink> sink;
  detail::CallOwner owner;  // one run records into it at a time
};

}  // namespace qifsim::python
