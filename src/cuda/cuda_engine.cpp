// src/cuda/cuda_engine.cpp - the CUDA backend: cuBLAS coupling, one fused kernel per
// population per step, a device ring buffer of samples copied out in batches on a second
// stream (double buffered), inputs uploaded in double-buffered chunks, and CUDA Graphs
// replaying blocks of steps. Nothing is copied to the host per step.
#include <algorithm>
#include <array>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "fused_step.hpp"
#include "node_kernels.hpp"
#include "qif_step.hpp"
#include "row_coupling.hpp"
#include "cuda/cuda_blas.hpp"
#include "cuda/cuda_resources.hpp"
#include "cuda/divergence_watch.hpp"
#include "cuda/input_chunks.hpp"
#include "cuda/sample_drain.hpp"
#include "cuda/step_graph.hpp"
#include "cuda/transfers.hpp"
#include "nvtx_range.hpp"
#include "core/engine.hpp"
#include "core/node_slots.hpp"
#include "core/progress.hpp"
#include "qifsim/error.hpp"
#include "core/text.hpp"
#include "model/qif_population.hpp"

namespace qifsim::detail {
namespace {

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
using cuda::upload_expanded;

RecordValue record_value(Var v) {
  switch (v) {
    case Var::V: return RecordValue::V;
    case Var::S: return RecordValue::S;
    case Var::X: return RecordValue::X;
    case Var::Spike: return RecordValue::Spike;
    case Var::SIn: return RecordValue::SIn;
    case Var::IExt: return RecordValue::IExt;
    case Var::In: return RecordValue::In;
    case Var::Out: return RecordValue::Out;
    default: throw InvalidArgument(std::string("'") + var_name(v) + "' cannot be recorded");
  }
}

template <class T>
class CudaEngine final : public Engine {
 public:
  CudaEngine(const Graph& graph, double dt, int device)
      : anchor_(device), dt_(static_cast<T>(dt)), order_(graph.order), input_(graph.input), output_(graph.output),
        starts_(node_starts(graph)), blas_workspace_(kBlasWorkspaceBytes), step_(1), loss_sums_(3) {
    const cudaStream_t st = compute_.get();
    cuda::bind(blas_.get(), st, blas_workspace_.data(), blas_workspace_.size());
    slots_.resize(graph.nodes.size());
    for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
      const Node& node = graph.nodes[i];
      if (node.kind == NodeKind::Population) {
        slots_[i] = {true, static_cast<int>(pops_.size())};
        pops_.push_back(make_pop(node.pop, st));
      } else {
        slots_[i] = {false, static_cast<int>(funcs_.size())};
        Func f;
        f.n = node.size;
        f.act = static_cast<kernels::ActivationKind>(static_cast<int>(node.activation));
        f.in = DeviceBuffer<T>(static_cast<std::size_t>(node.size));
        f.out = DeviceBuffer<T>(static_cast<std::size_t>(node.size));
        funcs_.push_back(std::move(f));
      }
    }
    incoming_.resize(graph.nodes.size());
    for (const auto& e : graph.edges) {
      incoming_[static_cast<std::size_t>(e.target)].push_back(static_cast<int>(edges_.size()));
      edges_.push_back({e.source, e.weights.rows, e.weights.cols, upload<T>(e.weights.data, st)});
    }
    in_width_ = graph.nodes[static_cast<std::size_t>(input_)].size;
    out_width_ = graph.nodes[static_cast<std::size_t>(output_)].size;
    forward_input_ = DeviceBuffer<T>(static_cast<std::size_t>(in_width_));
    forward_staging_ = PinnedBuffer<T>(static_cast<std::size_t>(std::max(in_width_, out_width_)));
    y_sum_ = DeviceBuffer<double>(static_cast<std::size_t>(out_width_));
    reset();
    anchor_.release();  // the caller's device is current again
  }

  ~CudaEngine() override {
    try {
      anchor_.enter();  // the members below are freed on the engine's device
    } catch (...) {
    }
    // Pending work must finish before the buffers it uses are freed.
    QIFSIM_CUDA_TRY_NOEXCEPT(cudaStreamSynchronize(compute_.get()));
    QIFSIM_CUDA_TRY_NOEXCEPT(cudaStreamSynchronize(transfer_.get()));
  }

  void forward(const double* x, double* y) override {
    const cuda::DeviceScope scope(anchor_.device());
    const cudaStream_t st = compute_.get();
    for (std::int64_t j = 0; j < in_width_; ++j) forward_staging_.data()[j] = static_cast<T>(x[j]);
    QIFSIM_CUDA_TRY(cudaMemcpyAsync(forward_input_.data(), forward_staging_.data(),
                                    static_cast<std::size_t>(in_width_) * sizeof(T),
                                    cudaMemcpyHostToDevice, st));
    QIFSIM_CUDA_TRY(cudaMemsetAsync(step_.data(), 0, sizeof(std::int64_t), st));
    StepControl ctrl;
    ctrl.step = step_.data();
    ctrl.record = false;
    StepBuffers buffers{forward_input_.data(), nullptr, nullptr, 0, false, 0, 0};
    enqueue_prepare(ctrl, buffers);
    QIFSIM_CUDA_TRY(cudaMemcpyAsync(forward_staging_.data(), output_values(output_),
                                    static_cast<std::size_t>(out_width_) * sizeof(T),
                                    cudaMemcpyDeviceToHost, st));
    for (Pop& p : pops_) {  // the state at the step's start, for get_var after forward
      for (auto [from, to] : {std::pair<DeviceBuffer<T>*, DeviceBuffer<T>*>{&p.v, &p.v_start}, {&p.s, &p.s_start},
                              {&p.x, &p.x_start}}) {
        if (to->size() != from->size()) *to = DeviceBuffer<T>(from->size());
        QIFSIM_CUDA_TRY(cudaMemcpyAsync(to->data(), from->data(), from->bytes(), cudaMemcpyDeviceToDevice, st));
      }
    }
    enqueue_update(ctrl, buffers, {});
    QIFSIM_CUDA_TRY(cudaStreamSynchronize(st));
    for (std::int64_t j = 0; j < out_width_; ++j) y[j] = static_cast<double>(forward_staging_.data()[j]);
  }

  void run(const RunPlan& plan, Observer& obs, RunCarry& carry) override;

  std::vector<double> get_var(int node, Var var, bool at_last_step_start) const override {
    const cuda::DeviceScope scope(anchor_.device());
    const cudaStream_t st = compute_.get();
    const Slot slot = slots_[static_cast<std::size_t>(node)];
    if (!slot.pop) {
      const Func& f = funcs_[static_cast<std::size_t>(slot.index)];
      const auto values = download(var == Var::In ? f.in.data() : f.out.data(), static_cast<std::size_t>(f.n), st);
      return std::vector<double>(values.begin(), values.end());
    }
    const Pop& p = pops_[static_cast<std::size_t>(slot.index)];
    const auto n = static_cast<std::size_t>(p.n);
    std::vector<double> out(n);
    auto expand = [&](const DeviceBuffer<T>& buf) {
      const auto values = download(buf.data(), buf.size(), st);
      for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<double>(values[values.size() == 1 ? 0 : i]);
    };
    const bool start = at_last_step_start && p.v_start.size() == p.v.size();
    const DeviceBuffer<T>& v_now = start ? p.v_start : p.v;
    switch (var) {
      case Var::V: expand(v_now); break;
      case Var::S: expand(start ? p.s_start : p.s); break;
      case Var::X: expand(start ? p.x_start : p.x); break;
      case Var::SIn: expand(p.s_in); break;
      case Var::IExt: expand(p.in); break;
      case Var::Spike: {
        const auto v = download(v_now.data(), n, st);
        const auto th = download(p.params[model::kVThreshold].data(), p.params[model::kVThreshold].size(), st);
        for (std::size_t i = 0; i < n; ++i) out[i] = v[i] >= th[th.size() == 1 ? 0 : i] ? 1.0 : 0.0;
        break;
      }
      default: expand(p.param(var)); break;
    }
    return out;
  }

  void set_var(int node, Var var, const std::vector<double>& values) override {
    const cuda::DeviceScope scope(anchor_.device());
    const cudaStream_t st = compute_.get();
    QIFSIM_CUDA_TRY(cudaStreamSynchronize(st));
    const Slot slot = slots_[static_cast<std::size_t>(node)];
    Pop& p = pops_[static_cast<std::size_t>(slot.index)];
    if (is_parameter(var)) {
      p.param(var) = upload<T>(values, st);
      return;
    }
    DeviceBuffer<T>& dst = var == Var::V ? p.v : var == Var::S ? p.s : p.x;
    std::vector<double> expanded(static_cast<std::size_t>(p.n));
    for (std::size_t i = 0; i < expanded.size(); ++i) expanded[i] = values[values.size() == 1 ? 0 : i];
    dst = upload<T>(expanded, st);
  }

  void reset() override {
    const cuda::DeviceScope scope(anchor_.device());
    const cudaStream_t st = compute_.get();
    QIFSIM_CUDA_TRY(cudaStreamSynchronize(st));
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      const Slot slot = slots_[i];
      if (slot.pop) {
        Pop& p = pops_[static_cast<std::size_t>(slot.index)];
        const NodeStart& q = starts_[i];
        p.v = upload_expanded<T>(q.initial[static_cast<int>(Var::V)], p.n, st);
        p.s = upload_expanded<T>(q.initial[static_cast<int>(Var::S)], p.n, st);
        p.x = upload_expanded<T>(q.initial[static_cast<int>(Var::X)], p.n, st);
        QIFSIM_CUDA_TRY(cudaMemsetAsync(p.in.data(), 0, p.in.bytes(), st));
        QIFSIM_CUDA_TRY(cudaMemsetAsync(p.s_in.data(), 0, p.s_in.bytes(), st));
      } else {
        Func& f = funcs_[static_cast<std::size_t>(slot.index)];
        QIFSIM_CUDA_TRY(cudaMemsetAsync(f.in.data(), 0, f.in.bytes(), st));
        QIFSIM_CUDA_TRY(cudaMemsetAsync(f.out.data(), 0, f.out.bytes(), st));
      }
    }
    QIFSIM_CUDA_TRY(cudaStreamSynchronize(st));
  }

  std::size_t staging_bytes(const RunPlan& plan) const override {
    // Pinned host memory: two ring halves, two input chunks (and targets).
    const std::int64_t chunk = chunk_steps(plan);
    std::size_t bytes = 2 * static_cast<std::size_t>(plan.batch_samples * plan.row_width) * sizeof(T);
    bytes += 2 * static_cast<std::size_t>(chunk * in_width_) * sizeof(T);
    if (plan.targets) bytes += 2 * static_cast<std::size_t>(chunk * out_width_) * sizeof(double);
    return bytes;
  }

 private:
  using Slot = NodeSlot;
  struct Pop {
    std::int64_t n = 0;
    bool adapt = false;
    bool coupled = false;
    bool out_is_v = false;
    int grid = 1;
    DeviceBuffer<T> J, v, s, x, in, s_in;
    DeviceBuffer<T> v_start, s_start, x_start;  // the state at the start of the last forward()
    std::array<DeviceBuffer<T>, model::kQifParamCount> params;  // model::QifParam order
    DeviceBuffer<double> partials;          // kMaxRecordSlots x grid (x the fused grid if larger)
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
      for (std::size_t a = 0; a < slots.size(); ++a) slots[a] = {params[a].data(), params[a].size() == 1 ? 0 : 1};
      return kernels::qif_params<kernels::QifParamRefs<T>>(slots);
    }
  };
  struct Func {
    std::int64_t n = 0;
    kernels::ActivationKind act = kernels::ActivationKind::Identity;
    DeviceBuffer<T> in, out;
  };
  struct EdgeW {
    int source;
    std::int64_t rows, cols;
    DeviceBuffer<T> w;
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
  };
  /// Recorded variables grouped per node.
  using NodeRecords = std::vector<RecordSlots>;

  Pop make_pop(const QifPopulation& q, cudaStream_t st) {
    Pop p;
    p.n = q.n;
    p.adapt = q.adaptation;
    p.coupled = !q.weights.data.empty();
    p.out_is_v = q.output_var == model::kQif.spike_var;
    p.grid = kernels::qif_step_grid(q.n, kernels::kQifStepBlock);
    p.J = upload<T>(q.weights.data, st);
    p.in = DeviceBuffer<T>(static_cast<std::size_t>(q.n));
    p.s_in = DeviceBuffer<T>(static_cast<std::size_t>(q.n));
    for (std::size_t i = 0; i < p.params.size(); ++i) p.params[i] = upload<T>((q.*model::kQifParamFields[i]).values, st);
    p.partials = DeviceBuffer<double>(static_cast<std::size_t>(kernels::kMaxRecordSlots * p.grid));
    p.blocks_done = DeviceBuffer<unsigned int>(1);
    QIFSIM_CUDA_TRY(cudaMemsetAsync(p.blocks_done.data(), 0, sizeof(unsigned int), st));
    return p;
  }

  T* input_values(int node) { return node_input(slots_, pops_, funcs_, node); }
  const T* output_values(int node) const { return node_output(slots_, pops_, funcs_, node); }

  static std::int64_t chunk_steps_for(std::int64_t steps, std::int64_t width) {
    // About 8 MiB of input per chunk, at most 4096 steps, never more than the run.
    const std::int64_t bytes = std::max<std::int64_t>(width, 1) * static_cast<std::int64_t>(sizeof(T));
    return std::max<std::int64_t>(1, std::min({steps, std::int64_t{4096}, (std::int64_t{8} << 20) / bytes}));
  }
  std::int64_t chunk_steps(const RunPlan& plan) const { return chunk_steps_for(plan.steps, in_width_); }

  // Phase 1 of a step: node inputs in topological order, function outputs, couplings.
  void enqueue_prepare(const StepControl& ctrl, const StepBuffers& b) {
    const cudaStream_t st = compute_.get();
    for (int node : order_) {
      const Slot s = slots_[static_cast<std::size_t>(node)];
      const bool is_input = node == input_;
      if (!is_input) {
        bool first = true;
        for (int e : incoming_[static_cast<std::size_t>(node)]) {
          const EdgeW& w = edges_[static_cast<std::size_t>(e)];
          cuda::gemv<T>(blas_.get(), w.rows, w.cols, w.w.data(), output_values(w.source),
                        first ? T(0) : T(1), input_values(node));
          first = false;
        }
      }
      if (!s.pop) {
        Func& f = funcs_[static_cast<std::size_t>(s.index)];
        kernels::launch_activation<T>(f.act, is_input ? b.inputs : f.in.data(), is_input, f.in.data(),
                                      ctrl, f.n, f.out.data(), st);
      }
    }
    for (Pop& p : pops_) {
      if (!p.coupled) continue;
      if (b.coupling == CudaCoupling::RowBlocks) {
        kernels::launch_row_coupling<T>(p.J.data(), p.s.data(), p.n, p.n, p.s_in.data(), st);
      } else {
        cuda::gemv<T>(blas_.get(), p.n, p.n, p.J.data(), p.s.data(), T(0), p.s_in.data());
      }
    }
  }

  // Phase 2: recording of function nodes, the loss, the fused population updates, t + 1.
  void enqueue_update(const StepControl& ctrl, const StepBuffers& b, const NodeRecords& records) {
    const cudaStream_t st = compute_.get();
    for (std::size_t node = 0; node < slots_.size(); ++node) {
      const Slot s = slots_[node];
      if (s.pop) continue;
      const bool is_output = static_cast<int>(node) == output_;
      const bool recorded = !records.empty() && records[node].count > 0;
      const bool accumulates = is_output && ctrl.record && b.output_offset >= 0;
      if (!recorded && !accumulates) continue;
      const Func& f = funcs_[static_cast<std::size_t>(s.index)];
      kernels::launch_function_observe<T>(ctrl, f.in.data(), f.out.data(), f.n,
                                          recorded ? records[node] : RecordSlots{}, b.ring, b.row_width,
                                          accumulates ? y_sum_.data() : nullptr,
                                          accumulates ? b.output_offset : -1, st);
    }
    if (b.targets) {
      kernels::launch_loss<T>(ctrl, output_values(output_), out_width_, b.targets, b.l1, loss_sums_.data(),
                              b.ring, b.row_width, b.loss_offset, st);
    }
    for (std::size_t node = 0; node < slots_.size(); ++node) {
      const Slot s = slots_[node];
      if (!s.pop) continue;
      const Pop& p = pops_[static_cast<std::size_t>(s.index)];
      const kernels::QifStepArgs<T> a = step_args(node, ctrl, b, records);
      kernels::launch_qif_step<T>(a, p.adapt, p.grid, st);
    }
    kernels::launch_advance_step(step_.data(), st);
  }

  // The population kernel's arguments for population node `node` in this step.
  kernels::QifStepArgs<T> step_args(std::size_t node, const StepControl& ctrl, const StepBuffers& b,
                                    const NodeRecords& records) {
    Pop& p = pops_[static_cast<std::size_t>(slots_[node].index)];
    const bool is_input = static_cast<int>(node) == input_;
    const bool is_output = static_cast<int>(node) == output_;
    kernels::QifStepArgs<T> a;
    a.n = p.n;
    a.v = p.v.data();
    a.s = p.s.data();
    a.x = p.x.data();
    a.in = is_input ? b.inputs : p.in.data();
    a.in_from_chunk = is_input;
    a.in_store = p.in.data();
    a.s_in = p.coupled ? p.s_in.data() : nullptr;
    a.p = p.refs();
    a.dt = dt_;
    a.ctrl = ctrl;
    a.ring = b.ring;
    a.row_width = b.row_width;
    if (!records.empty()) a.rec = records[node];
    a.partials = p.partials.data();
    a.blocks_done = p.blocks_done.data();
    a.y_sum = is_output && ctrl.record && b.output_offset >= 0 ? y_sum_.data() : nullptr;
    a.out_is_v = p.out_is_v;
    a.out_offset = b.output_offset;
    return a;
  }

  // CudaCoupling::Fused: why this network cannot take the fused step, or empty.
  std::string fused_refusal(const RunPlan& plan) const {
    if (slots_.size() != 1 || !slots_[0].pop) {
      return "it has " + std::to_string(slots_.size()) + " nodes (populations: " + std::to_string(pops_.size()) +
             ", function nodes: " + std::to_string(funcs_.size()) + ")";
    }
    if (!pops_[0].coupled) return "its population has no coupling J";
    if (plan.targets) return "test() computes a loss, which the fused step does not";
    return {};
  }

  // One whole step of the single population as one launch (CudaCoupling::Fused).
  void enqueue_fused_step(const StepControl& ctrl, const StepBuffers& b, const NodeRecords& records) {
    Pop& p = pops_[0];
    kernels::FusedStepArgs<T> f;
    f.step = step_args(0, ctrl, b, records);
    f.step.s_in = nullptr;
    f.J = p.J.data();
    f.s_alt = p.s_alt.data();
    f.s_in_out = p.s_in.data();
    f.run_start = b.run_start;
    kernels::launch_fused_step<T>(f, p.adapt, kernels::fused_step_grid(p.n), compute_.get());
  }

  void enqueue_step(const StepControl& ctrl, const StepBuffers& b, const NodeRecords& records) {
    if (b.coupling == CudaCoupling::Fused) {
      enqueue_fused_step(ctrl, b, records);
      return;
    }
    enqueue_prepare(ctrl, b);
    enqueue_update(ctrl, b, records);
  }

  // CudaCoupling::Fused: after `taken` steps from the run's start the current s is in s_alt
  // when `taken` is odd; copy it back so that everything outside the run reads p.s.
  // The run's named parts (run() below is the loop over them).
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

  cudaError_t settle_fused_state(std::int64_t taken) {
    if (taken % 2 == 0) return cudaSuccess;
    Pop& p = pops_[0];
    const cudaError_t copied =
        cudaMemcpyAsync(p.s.data(), p.s_alt.data(), p.s.bytes(), cudaMemcpyDeviceToDevice, compute_.get());
    return copied != cudaSuccess ? copied : cudaStreamSynchronize(compute_.get());
  }

  cuda::DeviceAnchor anchor_;  // first: the engine's GPU while its members are built and freed
  T dt_;
  std::vector<int> order_;
  int input_;
  int output_;
  std::vector<NodeStart> starts_;  // names and initial states (reset)
  std::int64_t in_width_ = 0;
  std::int64_t out_width_ = 0;
  cuda::Stream compute_;
  cuda::Stream transfer_;
  cuda::BlasHandle blas_;
  DeviceBuffer<char> blas_workspace_;  // cuBLAS's, owned here (graph capture)
  std::vector<Slot> slots_;
  std::vector<Pop> pops_;
  std::vector<Func> funcs_;
  std::vector<EdgeW> edges_;
  std::vector<std::vector<int>> incoming_;
  DeviceBuffer<std::int64_t> step_;     // the device step counter
  DeviceBuffer<double> y_sum_;          // window sum of the output
  DeviceBuffer<double> loss_sums_;      // window sum, total, counted steps
  DeviceBuffer<T> forward_input_;
  PinnedBuffer<T> forward_staging_;
};

template <class T>
typename CudaEngine<T>::NodeRecords CudaEngine<T>::record_slots(const RunPlan& plan) const {
  NodeRecords records(slots_.size());
  for (const auto& item : plan.vars) {
    RecordSlots& r = records[static_cast<std::size_t>(item.node)];
    if (r.count == kernels::kMaxRecordSlots) {
      throw InvalidArgument("the CUDA backend records at most " + std::to_string(kernels::kMaxRecordSlots) +
                            " variables per node");
    }
    r.slot[r.count++] = kernels::RecordSlot{record_value(item.var), item.mean, item.offset};
    if (item.mean) ++r.means;
  }
  return records;
}

template <class T>
void CudaEngine<T>::check_run_memory(const RunPlan& plan, std::int64_t chunk) const {
  // Device memory this run adds; refused before anything is allocated when it does not fit.
  const std::int64_t half = plan.batch_samples, width = plan.row_width, m = in_width_, k = out_width_;
  const double device_bytes = static_cast<double>(2 * half * width + 2 * chunk * m) * sizeof(T) +
                              (plan.targets ? static_cast<double>(2 * chunk * k) * sizeof(double) : 0.0);
  std::size_t free_bytes = 0, total_bytes = 0;
  QIFSIM_CUDA_TRY(cudaMemGetInfo(&free_bytes, &total_bytes));
  if (device_bytes > 0.9 * static_cast<double>(free_bytes)) {
    throw MemoryBudgetError("the run needs " + format_bytes(device_bytes) + " of GPU memory (ring buffer of " +
                            std::to_string(2 * half) + " samples x " + std::to_string(width) +
                            " values, input chunks of " + std::to_string(chunk) + " steps) but the device has " +
                            format_bytes(static_cast<double>(free_bytes)) + " free of " +
                            format_bytes(static_cast<double>(total_bytes)) + "; lower batch_samples or record less");
  }
}

template <class T>
std::vector<typename cuda::DivergenceWatch<T>::Watched> CudaEngine<T>::watched_arrays(bool fused) const {
  std::vector<typename cuda::DivergenceWatch<T>::Watched> watched;
  for (std::size_t node = 0; node < slots_.size(); ++node) {
    const Slot s = slots_[node];
    if (s.pop) {
      const Pop& p = pops_[static_cast<std::size_t>(s.index)];
      watched.push_back({starts_[node].name, var_name(Var::V), p.v.data(), p.n});
      watched.push_back({starts_[node].name, var_name(Var::S), p.s.data(), p.n, fused ? p.s_alt.data() : nullptr});
      if (p.adapt) watched.push_back({starts_[node].name, var_name(Var::X), p.x.data(), p.n});
    } else {
      const Func& f = funcs_[static_cast<std::size_t>(s.index)];
      watched.push_back({starts_[node].name, "out", f.out.data(), f.n});
    }
  }
  return watched;
}

template <class T>
void CudaEngine<T>::load_carry(RunCarry& carry) {
  const cudaStream_t st = compute_.get();
  QIFSIM_CUDA_TRY(cudaMemcpyAsync(step_.data(), &carry.next_step, sizeof(std::int64_t), cudaMemcpyHostToDevice, st));
  carry.y_sum.resize(static_cast<std::size_t>(out_width_), 0.0);
  QIFSIM_CUDA_TRY(cudaMemcpyAsync(y_sum_.data(), carry.y_sum.data(), y_sum_.bytes(), cudaMemcpyHostToDevice, st));
  const double sums_in[3] = {carry.loss_window, carry.loss_total, static_cast<double>(carry.loss_steps)};
  QIFSIM_CUDA_TRY(cudaMemcpyAsync(loss_sums_.data(), sums_in, sizeof(sums_in), cudaMemcpyHostToDevice, st));
  QIFSIM_CUDA_TRY(cudaStreamSynchronize(st));  // the host values above go out of scope
}

template <class T>
void CudaEngine<T>::store_carry(RunCarry& carry, std::int64_t t, const SampleSchedule& sched) {
  // Position and window sums back into the carry (exact: the same doubles).
  const cudaStream_t st = compute_.get();
  carry.next_step = t;
  QIFSIM_CUDA_TRY(cudaMemcpyAsync(carry.y_sum.data(), y_sum_.data(), y_sum_.bytes(), cudaMemcpyDeviceToHost, st));
  double sums[3];
  QIFSIM_CUDA_TRY(cudaMemcpyAsync(sums, loss_sums_.data(), sizeof(sums), cudaMemcpyDeviceToHost, st));
  QIFSIM_CUDA_TRY(cudaStreamSynchronize(st));
  carry.loss_window = sums[0];
  carry.loss_total = sums[1];
  carry.loss_steps = static_cast<std::int64_t>(sums[2]);
  // Counted steps since the last sample (the CPU backend counts them one by one).
  const std::int64_t last_sample = sched.count(t) > 0 ? ((t - 1) / sched.sampling_steps) * sched.sampling_steps : -1;
  carry.window = t <= sched.cutoff ? 0 : (last_sample >= sched.cutoff ? t - 1 - last_sample : t - sched.cutoff);
}

template <class T>
void CudaEngine<T>::run(const RunPlan& plan, Observer& obs, RunCarry& carry) {
  const cuda::NvtxRange range("qifsim run");
  const cuda::DeviceScope scope(anchor_.device());
  const cudaStream_t st = compute_.get();
  const cudaStream_t xfer = transfer_.get();
  const std::int64_t steps = plan.steps;
  const std::int64_t half = plan.batch_samples;  // samples per ring half = per batch
  const std::int64_t chunk = chunk_steps(plan);
  const SampleSchedule& sched = plan.schedule;
  const std::int64_t start = carry.next_step;
  // Samples of this run are numbered from 0; sample j is taken at step (base + j) * S.
  const std::int64_t base = (sched.cutoff + sched.sampling_steps - 1) / sched.sampling_steps + sched.count(start);
  const std::int64_t run_samples = sched.count(steps) - sched.count(start);
  const NodeRecords records = record_slots(plan);
  const bool fused = plan.cuda_coupling == CudaCoupling::Fused;
  if (fused) {
    const std::string why = fused_refusal(plan);
    if (!why.empty()) {
      throw InvalidArgument("cuda_coupling Fused needs a network of one coupled QIF population (its input and "
                            "output node) run with run(); this run cannot take it: " + why +
                            ". Use CudaCoupling::RowBlocks or Cublas");
    }
  }
  check_run_memory(plan, chunk);

  // The run's parts, allocated before the first step.
  if (fused) prepare_fused();
  cuda::SampleDrain<T> drain(obs, half, plan.row_width, base, sched.sampling_steps, st, xfer);
  cuda::InputChunks<T> chunks(plan, chunk, in_width_, out_width_, start / chunk, xfer);
  cuda::DivergenceWatch<T> watch(watched_arrays(fused), plan.divergence_every, st);
  load_carry(carry);
  StepControl ctrl;
  ctrl.step = step_.data();
  ctrl.cutoff = sched.cutoff;
  ctrl.sampling = sched.sampling_steps;
  ctrl.first_sample = base;
  ctrl.ring_rows = 2 * half;
  ctrl.chunk_steps = chunk;
  ctrl.record = true;
  const StepBuffers buffers{chunks.inputs(), chunks.targets(), drain.ring(), plan.row_width,
                            plan.loss == LossKind::L1, plan.output_offset, plan.loss_offset,
                            plan.cuda_coupling, start};
  const auto step = [&] { enqueue_step(ctrl, buffers, records); };
  const cuda::StepGraph graph(plan.cuda_graphs && steps - start >= kGraphSteps, kGraphSteps, st, step);

  // The loop: blocks of steps up to the end of an input chunk, the run, the step that fills
  // a ring half, the next divergence check or a requested stop.
  std::int64_t t = start;
  std::int64_t found = -1;
  try {
    chunks.start();
    while (t < steps) {
      if (stop_requested(plan, t)) break;
      if ((found = watch.found(false)) >= 0) break;
      const std::int64_t c = t / chunk;
      if (t == start || t == c * chunk) chunks.enter(c, st);
      std::int64_t end = std::min(steps, (c + 1) * chunk);
      const std::int64_t fill_sample = (drain.flushed() / half + 1) * half - 1;  // this run's index
      const std::int64_t fill_step = (base + fill_sample) * sched.sampling_steps;
      if (fill_sample < run_samples && fill_step < end) end = fill_step + 1;
      end = watch.limit(t, end);
      if (plan.stop_at > t) end = std::min(end, plan.stop_at);
      graph.enqueue(end - t, st, step);
      t = end;
      if (fill_sample < run_samples && t == fill_step + 1) drain.flush(half);
      if (t == (c + 1) * chunk || t == steps) chunks.finished(c, st);
      watch.check(t, start, step_.data(), st);
      if (plan.progress) plan.progress->tick(t);
    }
    // Samples taken so far, then everything back to the host.
    const std::int64_t taken = sched.count(t) - sched.count(start);
    if (drain.flushed() < taken) drain.flush(taken - drain.flushed());
    QIFSIM_CUDA_TRY(cudaStreamSynchronize(st));
    QIFSIM_CUDA_TRY(cudaStreamSynchronize(xfer));
    drain.deliver_all();
    if (found < 0) found = watch.found(true);
  } catch (...) {
    carry.next_step = t;
    cudaStreamSynchronize(st);
    cudaStreamSynchronize(xfer);
    if (fused) settle_fused_state(t - start);  // best effort: the run failed already
    throw;
  }
  if (fused) QIFSIM_CUDA_TRY(settle_fused_state(t - start));
  store_carry(carry, t, sched);
  if (found >= 0) watch.throw_found(found, st);
}

}  // namespace

std::unique_ptr<Engine> make_cuda_engine(const Graph& graph, Precision precision, double dt, int device) {
  if (precision == Precision::Float32) return std::make_unique<CudaEngine<float>>(graph, dt, device);
  return std::make_unique<CudaEngine<double>>(graph, dt, device);
}

}  // namespace qifsim::detail
