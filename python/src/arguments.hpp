// python/src/arguments.hpp - what the bindings (module.cpp) take from Python and give back:
// NumPy arrays in and out, weights and inputs, populations, run options, the sink's
// reservation before a run. Definitions: arguments.cpp.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "numpy_sink.hpp"
#include "qifsim/qifsim.hpp"

namespace qifsim::python {

namespace nb = nanobind;

// Inputs: float64, C-contiguous, on the CPU. The Python layer converts anything else once
// (np.ascontiguousarray), so a float64 array arrives here without a copy.
using In1 = nb::ndarray<const double, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using In2 = nb::ndarray<const double, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
using Index1 = nb::ndarray<const std::int64_t, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using Out1 = nb::ndarray<nb::numpy, double, nb::ndim<1>>;
using View2 = nb::ndarray<nb::numpy, const double, nb::ndim<2>>;
using StepsView = nb::ndarray<nb::numpy, const std::int64_t, nb::ndim<1>>;

/// A NumPy array that owns `values` (moved, not copied).
Out1 to_numpy(std::vector<double>&& values);
using OutInt1 = nb::ndarray<nb::numpy, std::int64_t, nb::ndim<1>>;
/// The values as a NumPy array that owns them (no copy).
OutInt1 to_numpy(std::vector<std::int64_t>&& values);
using OutI32 = nb::ndarray<nb::numpy, std::int32_t, nb::ndim<1>>;
/// The same for 32-bit integers (CSR column indices).
OutI32 to_numpy(std::vector<std::int32_t>&& values);

std::vector<double> to_vector(const In1& a);

/// A copy the engine keeps (weights); refused beforehand when the machine cannot hold it.
Matrix to_matrix(const In2& a, const std::string& what);

/// A sparse copy the engine keeps, from SciPy's CSR arrays (int64 indptr and indices, float64
/// data), refused beforehand when the machine cannot hold it.
SparseMatrix to_sparse(std::int64_t rows, std::int64_t cols, const Index1& indptr, const Index1& indices,
                       const In1& data, const std::string& what);

/// A run's inputs (or targets) from Python, fetched piece by piece as the run goes by calling
/// `fetch(first, count)` (the GIL taken for each copy).
InputSource python_rows(std::int64_t rows, std::int64_t cols, nb::callable fetch, const char* what);

/// Holds an Observer for one run: two runs cannot record into it at once.
class ObserverHold {
 public:
  explicit ObserverHold(PyObserver& o) : owner_(o.owner) { owner_.enter("Network.run", "the observer"); }
  ~ObserverHold() { owner_.leave(); }
  ObserverHold(const ObserverHold&) = delete;
  ObserverHold& operator=(const ObserverHold&) = delete;

 private:
  detail::CallOwner& owner_;
};

/// A capsule that keeps a sink block alive for as long as a NumPy array views it.
nb::capsule keep_alive(const std::shared_ptr<const void>& owner);

Progress parse_progress(const std::string& name);

std::string format_bytes(double bytes);

/// A population of another model without its weights, from the Python layer's values.
NeuronPopulation make_model_population(const std::string& model, std::int64_t n,
                                       const std::map<std::string, In1>& values, const std::string& output_var);

/// A population without its weights, from the Python layer's parameters.
QifPopulation make_population(std::int64_t n, const std::map<std::string, In1>& params, bool adaptation,
                              const std::string& output_var);

Subnormals parse_subnormals(const std::string& name);

/// A sweep as Python hands it over: keys, each key's values (one or one per neuron), each
/// value's label ("" for numbers), and the mode ("zip" or "grid").
using SweepArgs = std::tuple<std::vector<std::string>, std::vector<std::vector<std::vector<double>>>,
                             std::vector<std::vector<std::string>>, std::string>;
/// The Sweep of `args` (empty without keys); InvalidArgument for a mode that is not zip or grid.
Sweep make_sweep(const SweepArgs& args);

/// Run options shared by run() and test().
RunOptions make_options(std::int64_t sampling_steps, std::int64_t cutoff, const std::string& progress,
                        std::size_t memory_budget, std::int64_t batch_samples, bool cuda_graphs,
                        std::int64_t event_coupling, const std::string& subnormals, const std::string& coupling,
                        std::int64_t resync, bool reproducible);

/// After a run that Ctrl-C stopped: KeyboardInterrupt, saying how to go on (GIL held).
[[noreturn]] void raise_interrupted(const Network& net, std::int64_t steps);

/// Before a run into `into`: reserve the samples it will add in the sink and check them
/// against the memory budget; returns the budget to restore afterwards.
std::size_t prepare_sink(const Network& net, std::int64_t steps, std::int64_t cols, const RunOptions& opt,
                         PyObserver& into);

}  // namespace qifsim::python
