// host/cuda/cuda_engine.hpp - the CUDA backend's engine: per-node device storage (Pop, Func,
// EdgeW), its members and the declarations of its parts. Coupling through one operator per
// population and edge (device_coupling.hpp: cuBLAS, cuSPARSE or procedural), one kernel per
// population per step, a device ring buffer of samples copied out in batches on a second
// stream, inputs uploaded in double-buffered chunks, CUDA Graphs replaying blocks of steps.
// Nothing is copied to the host per step. Construction and state access: cuda_engine.cpp;
// a step: cuda_engine_step.hpp; a run: cuda_engine_run.hpp.
#pragma once

#include <algorithm>
#include <array>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/coupling_choice.hpp"
#include "edge_memory.hpp"
#include "fused_step.hpp"
#include "model_step.hpp"
#include "node_kernels.hpp"
#include "qif_step.hpp"
#include "row_coupling.hpp"
#include "cuda/cuda_blas.hpp"
#include "cuda/cuda_resources.hpp"
#include "cuda/cuda_sparse.hpp"
#include "cuda/device_coupling.hpp"
#include "cuda/divergence_watch.hpp"
#include "cuda/input_chunks.hpp"
#include "cuda/sample_drain.hpp"
#include "cuda/step_graph.hpp"
#include "cuda/transfers.hpp"
#include "nvtx_range.hpp"
#include "core/engine.hpp"
#include "core/engine_layout.hpp"
#include "core/node_slots.hpp"
#include "core/progress.hpp"
#include "qifsim/error.hpp"
#include "core/text.hpp"
#include "model/qif_population.hpp"

namespace qifsim::detail::cuda_backend {

using cuda::DeviceBuffer;
using cuda::Event;
using cuda::PinnedBuffer;
using kernels::RecordSlots;
using kernels::RecordValue;
using kernels::StepControl;

constexpr std::int64_t kGraphSteps = 32;  // steps per captured graph
constexpr std::size_t kBlasWorkspaceBytes = std::size_t{32} << 20;

using cuda::download;
using cuda::upload;
using cuda::upload_exact;

inline RecordValue record_value(Var v) {
  switch (v) {
    case Var::V: return RecordValue::V;
    case Var::S: return RecordValue::S;
    case Var::X: return RecordValue::X;
    case Var::Spike: return RecordValue::Spike;
    case Var::SIn: return RecordValue::SIn;
    case Var::IExt: return RecordValue::IExt;
    case Var::In: return RecordValue::In;
    case Var::Out: return RecordValue::Out;
    case Var::W: return RecordValue::W;
    default: throw InvalidArgument(std::string("'") + var_name(v) + "' cannot be recorded");
  }
}

template <class T>
class CudaEngine final : public Engine {
 public:
  CudaEngine(const Graph& graph, double dt, int device);

  ~CudaEngine() override {
    try {
      anchor_.enter();  // the members below are freed on the engine's device
    } catch (...) {
    }
    // Pending work must finish before the buffers it uses are freed.
    QIFSIM_CUDA_TRY_NOEXCEPT(cudaStreamSynchronize(compute_.get()));
    QIFSIM_CUDA_TRY_NOEXCEPT(cudaStreamSynchronize(transfer_.get()));
  }

  void forward(const double* x, double* y) override;

  void run(const RunPlan& plan, Observer& obs, RunCarry& carry) override;

  std::vector<double> get_var(int node, Var var, bool at_last_step_start) const override;

  void set_var(int node, Var var, const std::vector<double>& values) override;

  void reset() override;

  std::vector<double> edge_state(int edge) const override;
  void set_edge_state(int edge, const std::vector<double>& values) override;

  std::string set_coupling(CouplingMode requested, std::int64_t resync) override;
  void check_coupling(CouplingMode requested) const override;

  std::size_t staging_bytes(const RunPlan& plan) const override {
    // Pinned host memory: two ring halves, two input chunks (and targets).
    const std::int64_t chunk = chunk_steps(plan);
    std::size_t bytes = 2 * static_cast<std::size_t>(plan.batch_samples * plan.row_width) * sizeof(T);
    bytes += 2 * static_cast<std::size_t>(chunk * layout_.in_width) * sizeof(T);
    if (plan.targets) bytes += 2 * static_cast<std::size_t>(chunk * layout_.out_width) * sizeof(double);
    return bytes;
  }

 private:
  using Slot = NodeSlot;
  struct Pop {
    StateShape shape;  // how its arrays are laid out (core/state_shape.hpp)
    std::int64_t n = 0;  // values per state array: shape.size()
    model::ModelId model = model::ModelId::Qif;
    bool rate = false;                 // a rate model: s holds r = f(v)
    int threshold = model::kVThreshold;  // parameter slot of the spike threshold (-1: rate model)
    std::array<std::string, model::kStateSlots> state_names;  // the model's name of each state slot
    unsigned held = 0;                 // the state slots it holds (state_slots_of)
    bool adapt = false;
    bool coupled = false;
    Weights weights;     // the recurrent J as given (shared with the graph)
    WeightsFacts facts;  // the weights' kind and size (set_coupling)
    cuda::DeviceCoupling<T> J;  // J as set_coupling stores it (not ready while uncoupled)
    bool out_is_v = false;
    int grid = 1;
    DeviceBuffer<T> v, s, x, in, s_in;
    DeviceBuffer<T> w;                      // state slot W (ik_biexp's x); a slot not held is empty
    DeviceBuffer<T> v_start, s_start, x_start, w_start;  // the state at the start of the last forward()
    std::vector<DeviceBuffer<T>> params;    // declared order (model::QifParam for QIF)
    DeviceBuffer<double> mean_partials;     // iku, ik_biexp: 2 x ceil(n / 256) block sums
    DeviceBuffer<double> means;             // iku, ik_biexp: mean(v), fraction spiking
    DeviceBuffer<double> partials;          // kMaxRecordSlots x ceil(n / 256) (x the fused grid if larger)
    DeviceBuffer<unsigned int> blocks_done;
    DeviceBuffer<T> s_alt;                  // CudaCoupling::Fused: the second s buffer

    static std::size_t index(Var var) {
      if (!is_parameter(var)) throw InvalidArgument(std::string("'") + var_name(var) + "' is not a parameter");
      return static_cast<std::size_t>(param_slot(var));
    }
    DeviceBuffer<T>& param(Var var) { return params[index(var)]; }
    const DeviceBuffer<T>& param(Var var) const { return params[index(var)]; }
    kernels::QifParamRefs<T> refs() const {
      std::array<kernels::ParamRef<T>, model::kQifParamCount> slots{};
      if (model != model::ModelId::Qif) return kernels::qif_params<kernels::QifParamRefs<T>>(slots);
      for (std::size_t a = 0; a < slots.size(); ++a) slots[a] = {params[a].data(), params[a].size() == 1 ? 0 : 1};
      return kernels::qif_params<kernels::QifParamRefs<T>>(slots);
    }
    // Another model's parameters as its step reads them.
    kernels::ModelParams<T> model_params() const {
      kernels::ModelParams<T> mp{};
      for (std::size_t a = 0; a < params.size(); ++a) mp.slot[a] = {params[a].data(), params[a].size() == 1 ? 0 : 1};
      return mp;
    }
    bool holds(int slot) const { return (held >> slot & 1u) != 0; }
    DeviceBuffer<T>& state(Var var) {
      switch (var) {
        case Var::V: return v;
        case Var::S: return s;
        case Var::X: return x;
        default: return w;
      }
    }
  };
  struct Func {
    std::int64_t n = 0;
    kernels::ActivationKind act = kernels::ActivationKind::Identity;
    DeviceBuffer<T> in, out;
  };
  struct EdgeW {
    int source = -1;
    Weights weights;            // as given (shared with the graph)
    WeightsFacts facts;
    cuda::DeviceCoupling<T> w;  // as set_coupling stores it
    // Delays and a filter (kernels/edge_memory.hpp); empty buffers where the edge has none.
    std::int64_t n = 0;        // source width
    std::int64_t columns = 0;  // max delay + 1 (0: no delays)
    bool rectipy_write = false;
    DeviceBuffer<std::int64_t> delays;
    DeviceBuffer<T> filter;
    DeviceBuffer<T> buffer, scratch, read;
    DeviceBuffer<std::int64_t> advances;  // steps since the state was set (the head)
    bool stateful() const { return buffer.size() > 0; }
    kernels::EdgeMemoryArgs<T> memory_args() {
      return {n,           columns,        delays.data(), filter.size() ? filter.data() : nullptr, rectipy_write,
              buffer.data(), scratch.data(), read.data(),  advances.data()};
    }
  };
  /// Per-run buffers the step kernels use.
  struct StepBuffers {
    const T* inputs;         // input chunks (2 x chunk x in_width), or the forward() input
    const double* targets;   // target chunks, or null
    T* ring;                 // sample rows, or null
    std::int64_t row_width;
    bool l1;
    std::int64_t output_offset;
    std::int64_t loss_offset;
    CudaCoupling coupling = CudaCoupling::Cublas;
    std::int64_t run_start = 0;  // the run's first step (Fused: which s buffer is current)
    bool reproducible = false;   // products through the fixed-order kernels (RunOptions)
  };
  /// Recorded variables grouped per node.
  using NodeRecords = std::vector<RecordSlots>;

  Pop make_pop(const Node& node, const StateShape& shape, cudaStream_t st);
  EdgeW make_edge(const Edge& e, cudaStream_t st);
  // A rate model's r (slot S) from its v, on the compute stream.
  void update_rates(Pop& p) {
    kernels::launch_model_rates<T>(p.model, p.v.data(), p.s.data(), p.model_params(), p.n, compute_.get());
  }

  // Replaces `op` by `w` stored as `storage` (the old one freed first); where the new one cannot
  // be built, rebuilds the old one (best effort) and rethrows.
  void rebuild_coupling(cuda::DeviceCoupling<T>& op, const Weights& w, const WeightsFacts& facts,
                        CouplingMode storage);
  // The cuSPARSE handle (created by set_coupling where a sparse operator needs it), or null.
  cusparseHandle_t sparse_handle() const { return sparse_ ? sparse_->get() : nullptr; }
  // Why cuda_coupling `how` cannot apply to the coupling operators, or empty: RowBlocks
  // and Fused take a dense J; an operator lost in a failed set_coupling takes nothing.
  // Every population's operator for a coupling request (throws where it cannot apply).
  std::vector<CouplingChoice> coupling_choices(CouplingMode requested) const;
  std::string coupling_refusal(CudaCoupling how) const;

  T* input_values(int node) { return node_input(layout_.slots, pops_, funcs_, node); }
  const T* output_values(int node) const { return node_output(layout_.slots, pops_, funcs_, node); }

  static std::int64_t chunk_steps_for(std::int64_t steps, std::int64_t width) {
    // About 8 MiB of input per chunk, at most 4096 steps, never more than the run.
    const std::int64_t bytes = std::max<std::int64_t>(width, 1) * static_cast<std::int64_t>(sizeof(T));
    return std::max<std::int64_t>(1, std::min({steps, std::int64_t{4096}, (std::int64_t{8} << 20) / bytes}));
  }
  std::int64_t chunk_steps(const RunPlan& plan) const { return chunk_steps_for(plan.steps, layout_.in_width); }

  // Phase 1 of a step: node inputs in topological order, function outputs, couplings.
  void enqueue_prepare(const StepControl& ctrl, const StepBuffers& b);

  // Phase 2: recording of function nodes, the loss, the fused population updates, t + 1.
  void enqueue_update(const StepControl& ctrl, const StepBuffers& b, const NodeRecords& records);

  // The population kernel's arguments for population node `node` in this step.
  kernels::QifStepArgs<T> step_args(std::size_t node, const StepControl& ctrl, const StepBuffers& b,
                                    const NodeRecords& records);

  // CudaCoupling::Fused: why this network cannot take the fused step, or empty.
  std::string fused_refusal(const RunPlan& plan) const;

  // One whole step of the single population as one launch (CudaCoupling::Fused).
  void enqueue_fused_step(const StepControl& ctrl, const StepBuffers& b, const NodeRecords& records);

  void enqueue_step(const StepControl& ctrl, const StepBuffers& b, const NodeRecords& records);

  // The run's named parts (cuda_engine_run.hpp; run() is the loop over them).
  NodeRecords record_slots(const RunPlan& plan) const;
  void check_run_memory(const RunPlan& plan, std::int64_t chunk) const;
  std::vector<typename cuda::DivergenceWatch<T>::Watched> watched_arrays(bool fused) const;
  void load_carry(RunCarry& carry);
  void store_carry(RunCarry& carry, std::int64_t t, const SampleSchedule& sched);
  // CudaCoupling::Fused: the second s buffer and the fused grid's partial sums.
  void prepare_fused() {
    Pop& p = pops_[0];
    if (p.s_alt.size() != static_cast<std::size_t>(p.n)) p.s_alt = DeviceBuffer<T>(static_cast<std::size_t>(p.n));
    const auto partials = static_cast<std::size_t>(kernels::kMaxRecordSlots) *
                          static_cast<std::size_t>(kernels::fused_step_grid(p.n));
    if (p.partials.size() < partials) p.partials = DeviceBuffer<double>(partials);
  }

  // CudaCoupling::Fused: after `taken` steps from the run's start the current s is in s_alt
  // when `taken` is odd; copy it back so that everything outside the run reads p.s.
  cudaError_t settle_fused_state(std::int64_t taken) {
    if (taken % 2 == 0) return cudaSuccess;
    Pop& p = pops_[0];
    const cudaError_t copied =
        cudaMemcpyAsync(p.s.data(), p.s_alt.data(), p.s.bytes(), cudaMemcpyDeviceToDevice, compute_.get());
    return copied != cudaSuccess ? copied : cudaStreamSynchronize(compute_.get());
  }

  cuda::DeviceAnchor anchor_;  // first: the engine's GPU while its members are built and freed
  T dt_;
  EngineLayout layout_;  // order, input and output, slots, incoming edges, initial states
  cuda::Stream compute_;
  cuda::Stream transfer_;
  cuda::BlasHandle blas_;
  DeviceBuffer<char> blas_workspace_;  // cuBLAS's, owned here (graph capture)
  std::optional<cuda::SparseHandle> sparse_;  // on the compute stream, once an operator is sparse
  std::vector<Pop> pops_;
  std::vector<Func> funcs_;
  std::vector<EdgeW> edges_;
  DeviceBuffer<std::int64_t> step_;     // the device step counter
  DeviceBuffer<double> y_sum_;          // window sum of the output
  DeviceBuffer<double> loss_sums_;      // window sum, total, counted steps
  DeviceBuffer<T> forward_input_;
  PinnedBuffer<T> forward_staging_;
};

}  // namespace qifsim::detail::cuda_backend
