// host/core/engine.hpp - what a backend implements: one compiled network in one precision.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/graph.hpp"
#include "model/loss.hpp"
#include "qifsim/matrix.hpp"
#include "qifsim/observer.hpp"
#include "qifsim/types.hpp"
#include "core/row_source.hpp"
#include "model/sample_schedule.hpp"

namespace qifsim::detail {

class ProgressReporter;

/// One recorded variable, resolved: which node, which value, where in a sample row.
struct RecordItem {
  int node = -1;
  Var var = Var::V;
  bool mean = false;
  std::int64_t offset = 0;  // into the sample row
  std::int64_t width = 0;   // 1 for means, the chosen neurons' count, else the node size
  std::vector<std::int64_t> neurons;  // chosen neurons (empty: all)
};

/// Everything a backend needs for one run(), checked by Network beforehand.
struct RunPlan {
  std::int64_t steps = 0;
  SampleSchedule schedule;
  RowSource* inputs = nullptr;   // steps x input width
  RowSource* targets = nullptr;  // steps x output width, or null
  LossKind loss = LossKind::Mse;
  std::int64_t output_offset = -1;  // -1: output not recorded
  std::int64_t output_width = 0;    // values of the output in a sample row (per member)
  std::int64_t loss_offset = -1;    // -1: loss not recorded
  std::vector<RecordItem> vars;
  std::vector<int> spike_nodes;     // populations whose spikes are recorded (Observer spikes index order)
  std::int64_t row_width = 0;       // values per sample row
  std::int64_t batch_samples = 1;   // ring-buffer capacity (per half on the GPU)
  double flush_seconds = 0.0;       // CPU: hand a part-filled ring over after this long (0: never)
  bool cuda_graphs = true;          // GPU: replay blocks of steps as CUDA Graphs
  CudaCoupling cuda_coupling = CudaCoupling::Cublas;  // GPU: how J s is computed
  bool flush_subnormals = false;    // CPU: set s and x below the smallest normal number to 0 after each step
  bool reproducible = false;        // every product through the own fixed-order loops (RunOptions)
  std::int64_t divergence_every = 0;  // check the state for NaN/Inf every this many steps (0: never)
  const std::atomic<bool>* stop = nullptr;  // stop at the next step boundary once set
  std::int64_t stop_at = -1;        // stop before this step (-1: never)
  std::int64_t clock0 = 0;          // run step t is step clock0 + t since compile() or reset()
                                    // (what noise and Poisson input are keyed by)
  ProgressReporter* progress = nullptr;
};

/// Where a run stands between steps: enough to resume it bit for bit. The engine reads
/// it at the start of run() and writes it back when the run ends, stops or fails.
struct RunCarry {
  std::int64_t next_step = 0;       // first step not taken yet (run-local)
  std::vector<double> y_sum;        // output summed over the current window
  double loss_window = 0.0;         // loss summed over the current window
  double loss_total = 0.0;          // loss summed over all counted steps
  std::int64_t window = 0;          // steps in the current window
  std::int64_t loss_steps = 0;      // counted steps
};

/// What an ensemble keeps of member b between runs besides its state (checkpoints hold it):
/// its output window's sums and where, and why, it stopped (-1: it runs on).
struct MemberCarry {
  std::vector<double> y_sum;
  std::int64_t stopped_at = -1;
  std::string reason;
};

/// Event-driven coupling's state between steps for one population: its J s (decayed as the
/// step left it) and the neurons that spiked in the last step. With it a checkpoint resumes
/// event coupling bit for bit instead of computing J s afresh.
struct EventState {
  int node = -1;
  std::vector<double> s_in;
  std::vector<std::int64_t> spiked;  // ascending
};

/// True when the run must stop before step t.
inline bool stop_requested(const RunPlan& plan, std::int64_t t) {
  return t == plan.stop_at || (plan.stop != nullptr && plan.stop->load(std::memory_order_relaxed));
}

/// Throw qifsim::DivergenceError for `node`.`var`[index] = value found non-finite after
/// `step` steps (the state was last checked finite `since` steps before).
[[noreturn]] void throw_divergence_error(const std::string& node, const char* var, std::int64_t index,
                                         double value, std::int64_t step, std::int64_t since);

/// A compiled network on one backend. Steps, records into an Observer through a ring
/// buffer of plan.batch_samples rows, and exposes variables.
class Engine {
 public:
  virtual ~Engine() = default;
  /// One step; y receives the output (output width values). Keeps the state at the step's
  /// start for get_var(..., at_last_step_start = true).
  virtual void forward(const double* x, double* y) = 0;
  /// The step forward() takes, counted since compile() or reset() (noise and Poisson input
  /// are keyed by it); Network sets it before each forward().
  std::int64_t clock = 0;
  /// Steps carry.next_step .. plan.steps - 1 (or until a stop request), recording into
  /// obs; accumulators and the position live in `carry`, which is written back on return
  /// and on failure.
  virtual void run(const RunPlan& plan, Observer& obs, RunCarry& carry) = 0;
  /// A variable's values now (the state the next step starts from), or, with
  /// `at_last_step_start`, the state (v, s, x, spike) at the start of the step the last
  /// forward() took (RectiPy's visible state of a spiking node; valid after a forward()).
  virtual std::vector<double> get_var(int node, Var var, bool at_last_step_start = false) const = 0;
  virtual void set_var(int node, Var var, const std::vector<double>& values) = 0;
  /// The state of edge `edge` (the graph's edge order) with delays or a filter, in the form of
  /// core/edge_state.hpp; empty for an edge without. set_edge_state takes that form back.
  virtual std::vector<double> edge_state(int edge) const = 0;
  virtual void set_edge_state(int edge, const std::vector<double>& values) = 0;
  /// Initial state of every node.
  virtual void reset() = 0;
  /// Choose every coupling operator for the next runs (core/coupling_choice.hpp), converting
  /// weights once where the storage changes; `resync`: events recompute J s every this many
  /// steps. Returns one line describing the choice ("'p': events over sparse (resync 1000)").
  /// Throws InvalidArgument where the request cannot apply; the engine is then unchanged.
  virtual std::string set_coupling(CouplingMode requested, std::int64_t resync) = 0;
  /// Throws what set_coupling(requested, ...) would throw, changing and allocating nothing.
  virtual void check_coupling(CouplingMode requested) const = 0;
  /// Bytes the backend's staging for recording takes for `plan` (the ring buffer).
  virtual std::size_t staging_bytes(const RunPlan& plan) const = 0;
  /// An ensemble's members (1: a single network, which is its own member 0). A member's
  /// state is read and set through member(b)'s get_var/set_var/edge_state/set_edge_state.
  virtual std::int64_t member_count() const { return 1; }
  virtual Engine& member(std::int64_t b) { (void)b; return *this; }
  virtual const Engine& member(std::int64_t b) const { (void)b; return *this; }
  /// An ensemble's per-member carries (empty for a single network), and set back from a
  /// checkpoint (one per member, each y_sum of the output width).
  virtual std::vector<MemberCarry> member_carries() const { return {}; }
  virtual void set_member_carries(std::vector<MemberCarry> carries) { (void)carries; }
  /// Every event-coupled population's state, where it describes the last step taken (empty
  /// otherwise, and on backends without event coupling). set_event_state takes it back after
  /// set_var (which makes it stale): the next run continues from it where its populations are
  /// event-coupled again.
  virtual std::vector<EventState> event_state() const { return {}; }
  virtual void set_event_state(const std::vector<EventState>& states) { (void)states; }
};

class Exchange;
/// The CPU engine; with an `exchange` of more than one rank, this rank's part of the network
/// (cpu/cpu_engine.hpp, SplitRanks): every rank calls every method, in the same order.
std::unique_ptr<Engine> make_cpu_engine(const Graph& graph, Precision precision, double dt,
                                        Exchange* exchange = nullptr);
/// An ensemble on the CPU (cpu/cpu_ensemble.cpp): one member per graph (the same nodes, sizes
/// and weights; parameters, initial values and seeds may differ), member b's input multiplied
/// by input_scale[b] (missing entries: 1). Its run() records member after member within each
/// series of a sample row; it has no forward(), get_var() or set_var().
std::unique_ptr<Engine> make_cpu_ensemble(const std::vector<Graph>& members, Precision precision, double dt,
                                          std::vector<double> input_scale);
/// The CUDA engine on GPU `device`; only in builds with QIFSIM_HAVE_CUDA.
std::unique_ptr<Engine> make_cuda_engine(const Graph& graph, Precision precision, double dt, int device);

}  // namespace qifsim::detail
