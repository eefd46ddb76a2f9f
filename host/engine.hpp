// host/engine.hpp - what a backend implements: one compiled network in one precision.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "graph.hpp"
#include "loss.hpp"
#include "qifsim/matrix.hpp"
#include "qifsim/observer.hpp"
#include "qifsim/types.hpp"
#include "sample_schedule.hpp"

namespace qifsim::detail {

class ProgressReporter;

/// One recorded variable, resolved: which node, which value, where in a sample row.
struct RecordItem {
  int node = -1;
  Var var = Var::V;
  bool mean = false;
  std::int64_t offset = 0;  // into the sample row
  std::int64_t width = 0;   // 1 for means, else the node size
};

/// Everything a backend needs for one run(), checked by Network beforehand.
struct RunPlan {
  std::int64_t steps = 0;
  SampleSchedule schedule;
  const Matrix* inputs = nullptr;   // steps x input width
  const Matrix* targets = nullptr;  // steps x output width, or null
  LossKind loss = LossKind::Mse;
  std::int64_t output_offset = -1;  // -1: output not recorded
  std::int64_t loss_offset = -1;    // -1: loss not recorded
  std::vector<RecordItem> vars;
  std::int64_t row_width = 0;       // values per sample row
  std::int64_t batch_samples = 1;   // ring-buffer capacity (per half on the GPU)
  bool cuda_graphs = true;          // GPU: replay blocks of steps as CUDA Graphs
  ProgressReporter* progress = nullptr;
};

/// A compiled network on one backend. Steps, records into an Observer through a ring
/// buffer of plan.batch_samples rows, and exposes variables.
class Engine {
 public:
  virtual ~Engine() = default;
  /// One step; y receives the output (output width values).
  virtual void forward(const double* x, double* y) = 0;
  /// A whole run; returns the mean per-step loss over steps >= cutoff (0 without targets).
  virtual double run(const RunPlan& plan, Observer& obs) = 0;
  virtual std::vector<double> get_var(int node, Var var) const = 0;
  virtual void set_var(int node, Var var, const std::vector<double>& values) = 0;
  /// Initial state of every node.
  virtual void reset() = 0;
  /// Bytes the backend's staging for recording takes for `plan` (the ring buffer).
  virtual std::size_t staging_bytes(const RunPlan& plan) const = 0;
};

std::unique_ptr<Engine> make_cpu_engine(const Graph& graph, Precision precision, double dt);
/// The CUDA engine on device 0; only in builds with QIFSIM_HAVE_CUDA.
std::unique_ptr<Engine> make_cuda_engine(const Graph& graph, Precision precision, double dt);

}  // namespace qifsim::detail
