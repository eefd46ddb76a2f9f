// host/cuda/cuda_engine_step.hpp - where a GPU step is enqueued and coupling applied: node
// inputs through the coupling operators (device_coupling.hpp: cuBLAS gemv, cuSPARSE SpMV or the
// procedural sum; or kernels/row_coupling.cu) in topological order, function nodes, the loss,
// the population kernel (kernels/qif_step.cu) or the one-launch fused step.
#pragma once

#include "cuda/cuda_engine.hpp"

namespace qifsim::detail::cuda_backend {

// Phase 1 of a step: node inputs in topological order, function outputs, couplings.
template <class T>
void CudaEngine<T>::enqueue_prepare(const StepControl& ctrl, const StepBuffers& b) {
  const cudaStream_t st = compute_.get();
  for (int node : layout_.order) {
    const Slot s = layout_.slots[static_cast<std::size_t>(node)];
    const bool is_input = node == layout_.input;
    if (!is_input) {
      bool first = true;
      for (int e : layout_.incoming[static_cast<std::size_t>(node)]) {
        EdgeW& w = edges_[static_cast<std::size_t>(e)];
        const T* x = output_values(w.source);
        if (w.stateful()) x = kernels::launch_edge_memory_step<T>(w.memory_args(), x, st);
        w.w.apply(blas_.get(), sparse_handle(), x, !first, input_values(node), st, b.reproducible);
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
    if (b.coupling == CudaCoupling::RowBlocks) {  // a dense J (run() refuses others)
      kernels::launch_row_coupling<T>(p.J.dense(), p.s.data(), p.n, p.n, p.s_in.data(), st);
    } else {
      p.J.apply(blas_.get(), sparse_handle(), p.s.data(), false, p.s_in.data(), st, b.reproducible);
    }
  }
}

// Phase 2: recording of function nodes, the loss, the fused population updates, t + 1.
template <class T>
void CudaEngine<T>::enqueue_update(const StepControl& ctrl, const StepBuffers& b, const NodeRecords& records) {
  const cudaStream_t st = compute_.get();
  for (std::size_t node = 0; node < layout_.slots.size(); ++node) {
    const Slot s = layout_.slots[node];
    if (s.pop) continue;
    const bool is_output = static_cast<int>(node) == layout_.output;
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
    kernels::launch_loss<T>(ctrl, output_values(layout_.output), layout_.out_width, b.targets, b.l1, loss_sums_.data(),
                            b.ring, b.row_width, b.loss_offset, st);
  }
  for (std::size_t node = 0; node < layout_.slots.size(); ++node) {
    const Slot s = layout_.slots[node];
    if (!s.pop) continue;
    Pop& p = pops_[static_cast<std::size_t>(s.index)];
    const kernels::QifStepArgs<T> a = step_args(node, ctrl, b, records);
    if (p.model == model::ModelId::Qif) {
      kernels::launch_qif_step<T>(a, p.adapt, p.grid, st);
      continue;
    }
    kernels::ModelStepArgs<T> m;
    m.base = a;
    m.base.x = p.holds(2) ? p.x.data() : nullptr;
    m.w = p.holds(3) ? p.w.data() : nullptr;
    m.p = p.model_params();
    m.threshold = p.threshold;
    if (p.means.size() == 2) {  // iku, ik_biexp: the population means at the step's start
      kernels::launch_population_means<T>(p.v.data(), m.p.slot[p.threshold], p.n, p.mean_partials.data(),
                                          p.means.data(), st);
      m.means = p.means.data();
    }
    kernels::launch_model_step<T>(m, p.model, p.grid, st);
  }
  kernels::launch_advance_step(step_.data(), st);
}

// The population kernel's arguments for population node `node` in this step.
template <class T>
kernels::QifStepArgs<T> CudaEngine<T>::step_args(std::size_t node, const StepControl& ctrl, const StepBuffers& b,
                                  const NodeRecords& records) {
  Pop& p = pops_[static_cast<std::size_t>(layout_.slots[node].index)];
  const bool is_input = static_cast<int>(node) == layout_.input;
  const bool is_output = static_cast<int>(node) == layout_.output;
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
template <class T>
std::string CudaEngine<T>::fused_refusal(const RunPlan& plan) const {
  if (layout_.slots.size() != 1 || !layout_.slots[0].pop) {
    return "it has " + std::to_string(layout_.slots.size()) + " nodes (populations: " + std::to_string(pops_.size()) +
           ", function nodes: " + std::to_string(funcs_.size()) + ")";
  }
  if (!pops_[0].coupled) return "its population has no coupling J";
  if (pops_[0].model != model::ModelId::Qif) return "the fused step is written for the QIF model";
  if (plan.targets) return "test() computes a loss, which the fused step does not";
  return {};
}

// One whole step of the single population as one launch (CudaCoupling::Fused).
template <class T>
void CudaEngine<T>::enqueue_fused_step(const StepControl& ctrl, const StepBuffers& b, const NodeRecords& records) {
  Pop& p = pops_[0];
  kernels::FusedStepArgs<T> f;
  f.step = step_args(0, ctrl, b, records);
  f.step.s_in = nullptr;
  f.J = p.J.dense();  // run() refuses the fused step for other storage
  f.s_alt = p.s_alt.data();
  f.s_in_out = p.s_in.data();
  f.run_start = b.run_start;
  kernels::launch_fused_step<T>(f, p.adapt, kernels::fused_step_grid(p.n), compute_.get());
}

template <class T>
void CudaEngine<T>::enqueue_step(const StepControl& ctrl, const StepBuffers& b, const NodeRecords& records) {
  if (b.coupling == CudaCoupling::Fused) {
    enqueue_fused_step(ctrl, b, records);
    return;
  }
  enqueue_prepare(ctrl, b);
  enqueue_update(ctrl, b, records);
}

}  // namespace qifsim::detail::cuda_backend
