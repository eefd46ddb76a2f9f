// host/cuda/cuda_engine.cpp - the CUDA backend's engine: construction, forward(), get_var,
// set_var and reset(); its step and its run are in cuda_engine_step.hpp and cuda_engine_run.hpp.
#include "cuda/cuda_engine.hpp"
#include "core/edge_state.hpp"
#include "cuda/cuda_engine_run.hpp"
#include "cuda/cuda_engine_step.hpp"

namespace qifsim::detail {
namespace cuda_backend {

template <class T>
CudaEngine<T>::CudaEngine(const Graph& graph, double dt, int device)
    : anchor_(device), dt_(static_cast<T>(dt)), layout_(graph), blas_workspace_(kBlasWorkspaceBytes), step_(1),
      loss_sums_(3) {
  const cudaStream_t st = compute_.get();
  cuda::bind(blas_.get(), st, blas_workspace_.data(), blas_workspace_.size());
  layout_.build(
      graph, pops_, funcs_, edges_, [&](const Node& node, const StateShape& shape) { return make_pop(node, shape, st); },
      [&](const Node& node, const StateShape& shape) {
        if (!shape.is_whole()) throw BackendError("node '" + node.name + "': the CUDA engine holds whole nodes only");
        Func f;
        f.n = shape.size();
        f.act = static_cast<kernels::ActivationKind>(static_cast<int>(node.activation));
        f.in = DeviceBuffer<T>(static_cast<std::size_t>(f.n));
        f.out = DeviceBuffer<T>(static_cast<std::size_t>(f.n));
        return f;
      },
      [&](const Edge& e) { return make_edge(e, st); });
  forward_input_ = DeviceBuffer<T>(static_cast<std::size_t>(layout_.in_width));
  forward_staging_ = PinnedBuffer<T>(static_cast<std::size_t>(std::max(layout_.in_width, layout_.out_width)));
  y_sum_ = DeviceBuffer<double>(static_cast<std::size_t>(layout_.out_width));
  reset();
  set_coupling(CouplingMode::Auto, kDefaultResync);  // the weights go up as `auto` stores them
  anchor_.release();  // the caller's device is current again
}

template <class T>
void CudaEngine<T>::forward(const double* x, double* y) {
  const cuda::DeviceScope scope(anchor_.device());
  if (const std::string why = coupling_refusal(CudaCoupling::Cublas); !why.empty()) throw BackendError(why);
  const cudaStream_t st = compute_.get();
  for (std::int64_t j = 0; j < layout_.in_width; ++j) forward_staging_.data()[j] = static_cast<T>(x[j]);
  QIFSIM_CUDA_TRY(cudaMemcpyAsync(forward_input_.data(), forward_staging_.data(),
                                  static_cast<std::size_t>(layout_.in_width) * sizeof(T),
                                  cudaMemcpyHostToDevice, st));
  QIFSIM_CUDA_TRY(cudaMemsetAsync(step_.data(), 0, sizeof(std::int64_t), st));
  StepControl ctrl;
  ctrl.step = step_.data();
  ctrl.record = false;
  StepBuffers buffers{forward_input_.data(), nullptr, nullptr, 0, false, 0, 0};
  enqueue_prepare(ctrl, buffers);
  QIFSIM_CUDA_TRY(cudaMemcpyAsync(forward_staging_.data(), output_values(layout_.output),
                                  static_cast<std::size_t>(layout_.out_width) * sizeof(T),
                                  cudaMemcpyDeviceToHost, st));
  for (Pop& p : pops_) {  // the state at the step's start, for get_var after forward
    for (auto [from, to] : {std::pair<DeviceBuffer<T>*, DeviceBuffer<T>*>{&p.v, &p.v_start}, {&p.s, &p.s_start},
                            {&p.x, &p.x_start}, {&p.w, &p.w_start}}) {
      if (from->size() == 0) continue;
      if (to->size() != from->size()) *to = DeviceBuffer<T>(from->size());
      QIFSIM_CUDA_TRY(cudaMemcpyAsync(to->data(), from->data(), from->bytes(), cudaMemcpyDeviceToDevice, st));
    }
  }
  enqueue_update(ctrl, buffers, {});
  QIFSIM_CUDA_TRY(cudaStreamSynchronize(st));
  for (std::int64_t j = 0; j < layout_.out_width; ++j) y[j] = static_cast<double>(forward_staging_.data()[j]);
}

template <class T>
std::vector<double> CudaEngine<T>::get_var(int node, Var var, bool at_last_step_start) const {
  const cuda::DeviceScope scope(anchor_.device());
  const cudaStream_t st = compute_.get();
  const Slot slot = layout_.slots[static_cast<std::size_t>(node)];
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
    case Var::W: expand(start ? p.w_start : p.w); break;
    case Var::SIn: expand(p.s_in); break;
    case Var::IExt: expand(p.in); break;
    case Var::Spike: {
      const auto v = download(v_now.data(), n, st);
      const auto& th_buf = p.params[static_cast<std::size_t>(p.threshold)];
      const auto th = download(th_buf.data(), th_buf.size(), st);
      for (std::size_t i = 0; i < n; ++i) {
        out[i] = static_cast<double>(kernels::spike_record(kernels::qif_spikes(v[i], th[th.size() == 1 ? 0 : i]), dt_));
      }
      break;
    }
    default: expand(p.param(var)); break;
  }
  return out;
}

template <class T>
void CudaEngine<T>::set_var(int node, Var var, const std::vector<double>& values) {
  const cuda::DeviceScope scope(anchor_.device());
  const cudaStream_t st = compute_.get();
  QIFSIM_CUDA_TRY(cudaStreamSynchronize(st));
  const Slot slot = layout_.slots[static_cast<std::size_t>(node)];
  Pop& p = pops_[static_cast<std::size_t>(slot.index)];
  if (is_parameter(var)) {
    p.param(var) = upload_exact(local_param<T>(Param(values), p.shape), st);
    return;
  }
  p.state(var) = upload_exact(member_major<T>(Param(values), p.shape), st);
  if (p.rate) {
    update_rates(p);
    QIFSIM_CUDA_TRY(cudaStreamSynchronize(st));
  }
}

template <class T>
void CudaEngine<T>::reset() {
  const cuda::DeviceScope scope(anchor_.device());
  const cudaStream_t st = compute_.get();
  QIFSIM_CUDA_TRY(cudaStreamSynchronize(st));
  for (std::size_t i = 0; i < layout_.slots.size(); ++i) {
    const Slot slot = layout_.slots[i];
    if (slot.pop) {
      Pop& p = pops_[static_cast<std::size_t>(slot.index)];
      const NodeStart& q = layout_.starts[i];
      for (int k = 0; k < model::kStateSlots; ++k) {
        if (p.holds(k)) p.state(state_var(k)) = upload_exact(member_major<T>(q.initial[static_cast<std::size_t>(k)], p.shape), st);
      }
      if (p.rate) update_rates(p);
      QIFSIM_CUDA_TRY(cudaMemsetAsync(p.in.data(), 0, p.in.bytes(), st));
      QIFSIM_CUDA_TRY(cudaMemsetAsync(p.s_in.data(), 0, p.s_in.bytes(), st));
    } else {
      Func& f = funcs_[static_cast<std::size_t>(slot.index)];
      QIFSIM_CUDA_TRY(cudaMemsetAsync(f.in.data(), 0, f.in.bytes(), st));
      QIFSIM_CUDA_TRY(cudaMemsetAsync(f.out.data(), 0, f.out.bytes(), st));
    }
  }
  for (EdgeW& e : edges_) {  // delays and filters back to zeros
    if (!e.stateful()) continue;
    QIFSIM_CUDA_TRY(cudaMemsetAsync(e.buffer.data(), 0, e.buffer.bytes(), st));
    QIFSIM_CUDA_TRY(cudaMemsetAsync(e.read.data(), 0, e.read.bytes(), st));
    QIFSIM_CUDA_TRY(cudaMemsetAsync(e.advances.data(), 0, sizeof(std::int64_t), st));
  }
  QIFSIM_CUDA_TRY(cudaStreamSynchronize(st));
}

template <class T>
typename CudaEngine<T>::EdgeW CudaEngine<T>::make_edge(const Edge& e, cudaStream_t st) {
  EdgeW w;
  w.source = e.source;
  w.weights = e.weights;
  w.facts = weights_facts(e.weights);
  if (!e.memory.stateful()) return w;
  w.n = e.weights.cols();
  w.columns = edge_buffer_columns(e.memory);
  w.rectipy_write = e.memory.rectipy_buffer_write;
  if (!e.memory.delays.empty()) w.delays = cuda::upload_exact(e.memory.delays, st);
  if (!e.memory.filter.data.empty()) w.filter = upload<T>(e.memory.filter.data, st);
  const auto values = static_cast<std::size_t>(w.n * std::max<std::int64_t>(w.columns, 1));
  w.buffer = DeviceBuffer<T>(values);
  w.scratch = DeviceBuffer<T>(values);
  w.read = DeviceBuffer<T>(static_cast<std::size_t>(w.n));
  w.advances = DeviceBuffer<std::int64_t>(1);
  return w;  // zeroed by reset()
}

template <class T>
std::vector<double> CudaEngine<T>::edge_state(int edge) const {
  const cuda::DeviceScope scope(anchor_.device());
  const EdgeW& e = edges_.at(static_cast<std::size_t>(edge));
  if (!e.stateful()) return {};
  const cudaStream_t st = compute_.get();
  const auto buffer = download(e.buffer.data(), e.buffer.size(), st);
  const auto advances = download(e.advances.data(), 1, st);
  const std::int64_t head = e.columns > 0 ? advances[0] % e.columns : 0;
  return logical_edge_state(buffer.data(), e.n, e.columns, head);
}

template <class T>
void CudaEngine<T>::set_edge_state(int edge, const std::vector<double>& values) {
  const cuda::DeviceScope scope(anchor_.device());
  EdgeW& e = edges_.at(static_cast<std::size_t>(edge));
  if (!e.stateful()) {  // no state: only the empty one
    require_no_edge_state(values, "set_edge_state");
    return;
  }
  require_edge_state_size(values, e.n, e.columns, "set_edge_state");
  const cudaStream_t st = compute_.get();
  QIFSIM_CUDA_TRY(cudaStreamSynchronize(st));
  DeviceBuffer<T> state = upload<T>(values, st);
  QIFSIM_CUDA_TRY(cudaMemcpyAsync(e.buffer.data(), state.data(), e.buffer.bytes(), cudaMemcpyDeviceToDevice, st));
  QIFSIM_CUDA_TRY(cudaMemsetAsync(e.advances.data(), 0, sizeof(std::int64_t), st));
  QIFSIM_CUDA_TRY(cudaStreamSynchronize(st));
}

template <class T>
typename CudaEngine<T>::Pop CudaEngine<T>::make_pop(const Node& node, const StateShape& shape, cudaStream_t st) {
  // Whole populations only ({1, n, 0, n}): a member axis and row ranges need the kernels, the
  // coupling and the recordings to follow them.
  if (!shape.is_whole()) {
    throw BackendError("population '" + node.name + "': the CUDA engine holds whole populations only");
  }
  if (has_stochastic_input(node)) {
    throw BackendError("population '" + node.name + "': the CUDA engine does not run noise or Poisson input yet");
  }
  const QifPopulation& q = node.pop;
  Pop p;
  p.shape = shape;
  p.n = shape.size();
  for (int k = 0; k < model::kStateSlots; ++k) p.state_names[static_cast<std::size_t>(k)] = var_name(node, state_var(k));
  p.held = state_slots_of(node);  // the state itself: reset()
  if (const model::ModelInfo* m = other_model_of(node)) {
    p.model = m->id;
    p.rate = m->decl->kind == model::ModelKind::Rate;
    p.threshold = m->v_threshold;
    for (const Param& a : node.params) p.params.push_back(upload_exact(local_param<T>(a, shape), st));
    if (m->decl->population_means) {
      p.mean_partials = DeviceBuffer<double>(static_cast<std::size_t>(2 * ((p.n + 255) / 256)));
      p.means = DeviceBuffer<double>(2);
    }
  } else {
    for (std::size_t i = 0; i < model::kQifParamCount; ++i) {
      p.params.push_back(upload_exact(local_param<T>(q.*model::kQifParamFields[i], shape), st));
    }
  }
  p.adapt = q.adaptation && p.model == model::ModelId::Qif;
  p.coupled = !q.weights.empty();
  p.weights = q.weights;
  p.facts = weights_facts(q.weights);
  p.out_is_v = q.output_var == "v";
  p.grid = kernels::qif_step_grid(p.n, kernels::kQifStepBlock);
  p.in = DeviceBuffer<T>(static_cast<std::size_t>(p.n));
  p.s_in = DeviceBuffer<T>(static_cast<std::size_t>(p.n));
  // One sum per recorded mean and 256-neuron chunk (kernels/population_step.cuh, step_by_chunks).
  const std::int64_t chunks = (p.n + kernels::kQifStepBlock - 1) / kernels::kQifStepBlock;
  p.partials = DeviceBuffer<double>(static_cast<std::size_t>(kernels::kMaxRecordSlots * chunks));
  p.blocks_done = DeviceBuffer<unsigned int>(1);
  QIFSIM_CUDA_TRY(cudaMemsetAsync(p.blocks_done.data(), 0, sizeof(unsigned int), st));
  return p;
}

template <class T>
void CudaEngine<T>::rebuild_coupling(cuda::DeviceCoupling<T>& op, const Weights& w, const WeightsFacts& facts,
                                     CouplingMode storage) {
  const cudaStream_t st = compute_.get();
  const bool had = op.ready();
  const CouplingMode before = op.storage();
  op = cuda::DeviceCoupling<T>();  // the old operator's memory first
  try {
    op = cuda::DeviceCoupling<T>(w, facts, storage, sparse_handle(), st);
  } catch (...) {
    if (had) {
      try {
        op = cuda::DeviceCoupling<T>(w, facts, before, sparse_handle(), st);
      } catch (...) {  // the operator stays lost; run() and forward() say so
      }
    }
    throw;
  }
}

template <class T>
void CudaEngine<T>::check_coupling(CouplingMode requested) const {
  (void)coupling_choices(requested);
}

// Every population's operator for `requested`, throwing where it cannot apply (nothing is
// changed or allocated here).
template <class T>
std::vector<CouplingChoice> CudaEngine<T>::coupling_choices(CouplingMode requested) const {
  std::vector<CouplingChoice> choices(pops_.size());
  for (std::size_t node = 0; node < layout_.slots.size(); ++node) {
    if (!layout_.slots[node].pop) continue;
    const auto index = static_cast<std::size_t>(layout_.slots[node].index);
    const Pop& p = pops_[index];
    if (!p.coupled) continue;
    const std::string& name = layout_.starts[node].name;
    if (requested == CouplingMode::Events) {
      throw InvalidArgument("coupling = events: population '" + name +
                            "': events are CPU-only for now (use the CPU backend, or auto, dense, sparse or procedural)");
    }
    // One tau_s or not, `auto` takes no events here (they are CPU-only).
    choices[index] = choose_coupling(name, p.facts, /*one_tau_s=*/false, requested);
  }
  return choices;
}

template <class T>
std::string CudaEngine<T>::set_coupling(CouplingMode requested, std::int64_t resync) {
  (void)resync;  // events are CPU-only
  const cuda::DeviceScope scope(anchor_.device());
  // Every choice first (they may throw, leaving the engine unchanged), then the conversions.
  const std::vector<CouplingChoice> choices = coupling_choices(requested);
  bool sparse = false;
  for (const CouplingChoice& c : choices) sparse = sparse || c.storage == CouplingMode::Sparse;
  std::vector<CouplingMode> edge_storage;
  for (const EdgeW& e : edges_) {
    edge_storage.push_back(choose_edge_storage(e.facts, requested));
    sparse = sparse || edge_storage.back() == CouplingMode::Sparse;
  }
  QIFSIM_CUDA_TRY(cudaStreamSynchronize(compute_.get()));  // nothing in flight uses what is freed
  if (sparse && !sparse_) sparse_.emplace(compute_.get());
  std::string line;
  for (std::size_t node = 0; node < layout_.slots.size(); ++node) {
    if (!layout_.slots[node].pop) continue;
    const auto index = static_cast<std::size_t>(layout_.slots[node].index);
    Pop& p = pops_[index];
    if (!p.coupled) continue;
    const CouplingChoice c = choices[index];
    if (!p.J.ready() || p.J.storage() != c.storage) rebuild_coupling(p.J, p.weights, p.facts, c.storage);
    line += (line.empty() ? "" : "; ") + ("'" + layout_.starts[node].name + "': " + describe(c));
  }
  for (std::size_t i = 0; i < edges_.size(); ++i) {
    EdgeW& e = edges_[i];
    if (!e.w.ready() || e.w.storage() != edge_storage[i]) rebuild_coupling(e.w, e.weights, e.facts, edge_storage[i]);
  }
  return line;
}

template <class T>
std::string CudaEngine<T>::coupling_refusal(CudaCoupling how) const {
  for (std::size_t node = 0; node < layout_.slots.size(); ++node) {
    if (!layout_.slots[node].pop) continue;
    const Pop& p = pops_[static_cast<std::size_t>(layout_.slots[node].index)];
    if (!p.coupled) continue;
    const std::string& name = layout_.starts[node].name;
    if (!p.J.ready()) {
      return "population '" + name + "' lost its coupling J when a change of RunOptions::coupling failed; run with "
             "another coupling to rebuild it";
    }
    if (how != CudaCoupling::Cublas && p.J.storage() != CouplingMode::Dense) {
      return std::string("cuda_coupling ") + (how == CudaCoupling::Fused ? "Fused" : "RowBlocks") +
             " computes J s from a dense J, but population '" + name + "' is coupled " +
             to_string(p.J.storage()) + " (RunOptions::coupling); run with coupling = dense, or cuda_coupling Cublas";
    }
  }
  for (const EdgeW& e : edges_) {
    if (!e.w.ready()) {
      return "an edge lost its weights when a change of RunOptions::coupling failed; run with another coupling to "
             "rebuild them";
    }
  }
  return {};
}

}  // namespace cuda_backend

std::unique_ptr<Engine> make_cuda_engine(const Graph& graph, Precision precision, double dt, int device) {
  if (precision == Precision::Float32) return std::make_unique<cuda_backend::CudaEngine<float>>(graph, dt, device);
  return std::make_unique<cuda_backend::CudaEngine<double>>(graph, dt, device);
}

}  // namespace qifsim::detail
