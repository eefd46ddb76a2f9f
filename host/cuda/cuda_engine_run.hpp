// host/cuda/cuda_engine_run.hpp - a GPU run as a loop over named parts: input chunks
// (input_chunks.hpp), the sample drain (sample_drain.hpp), the divergence watch
// (divergence_watch.hpp) and the step graph (step_graph.hpp), with the carry loaded before and
// stored after.
#pragma once

#include "cuda/cuda_engine.hpp"

namespace qifsim::detail::cuda_backend {

template <class T>
typename CudaEngine<T>::NodeRecords CudaEngine<T>::record_slots(const RunPlan& plan) const {
  NodeRecords records(layout_.slots.size());
  for (const auto& item : plan.vars) {
    RecordSlots& r = records[static_cast<std::size_t>(item.node)];
    if (r.count == kernels::kMaxRecordSlots) {
      throw InvalidArgument("the CUDA backend records at most " + std::to_string(kernels::kMaxRecordSlots) +
                            " variables per node");
    }
    if (!item.neurons.empty()) throw BackendError("the CUDA backend records whole nodes only (not chosen neurons)");
    r.slot[r.count++] = kernels::RecordSlot{record_value(item.var), item.mean, item.offset};
    if (item.mean) ++r.means;
  }
  return records;
}

template <class T>
void CudaEngine<T>::check_run_memory(const RunPlan& plan, std::int64_t chunk) const {
  // Device memory this run adds; refused before anything is allocated when it does not fit.
  const std::int64_t half = plan.batch_samples, width = plan.row_width, m = layout_.in_width, k = layout_.out_width;
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
  for (std::size_t node = 0; node < layout_.slots.size(); ++node) {
    const Slot s = layout_.slots[node];
    if (s.pop) {
      const Pop& p = pops_[static_cast<std::size_t>(s.index)];
      watched.push_back({layout_.starts[node].name, p.state_names[0].c_str(), p.v.data(), p.n});
      watched.push_back({layout_.starts[node].name, p.state_names[1].c_str(), p.s.data(), p.n,
                         fused ? p.s_alt.data() : nullptr});
      const bool x_used = p.model == model::ModelId::Qif ? p.adapt : p.holds(2);
      if (x_used) watched.push_back({layout_.starts[node].name, p.state_names[2].c_str(), p.x.data(), p.n});
      if (p.holds(3)) {
        watched.push_back({layout_.starts[node].name, p.state_names[3].c_str(), p.w.data(), p.n});
      }
    } else {
      const Func& f = funcs_[static_cast<std::size_t>(s.index)];
      watched.push_back({layout_.starts[node].name, "out", f.out.data(), f.n});
    }
  }
  return watched;
}

template <class T>
void CudaEngine<T>::load_carry(RunCarry& carry) {
  const cudaStream_t st = compute_.get();
  QIFSIM_CUDA_TRY(cudaMemcpyAsync(step_.data(), &carry.next_step, sizeof(std::int64_t), cudaMemcpyHostToDevice, st));
  carry.y_sum.resize(static_cast<std::size_t>(layout_.out_width), 0.0);
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
  carry.window = sched.window_at(t);
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
  const std::int64_t base = sched.first_index() + sched.count(start);
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
  if (plan.reproducible && plan.cuda_coupling != CudaCoupling::Cublas) {
    throw InvalidArgument(std::string("reproducible: J s goes through the fixed-order row kernel, not cuda_coupling ") +
                          (fused ? "Fused" : "RowBlocks") + " (whose sums follow another order); use CudaCoupling::Cublas");
  }
  if (const std::string why = coupling_refusal(plan.cuda_coupling); !why.empty()) throw InvalidArgument(why);
  check_run_memory(plan, chunk);

  // The run's parts, allocated before the first step.
  if (fused) prepare_fused();
  cuda::SampleDrain<T> drain(obs, half, plan.row_width, base, sched.sampling_steps, st, xfer);
  cuda::InputChunks<T> chunks(plan, chunk, layout_.in_width, layout_.out_width, start / chunk, xfer);
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
                            plan.cuda_coupling, start, plan.reproducible};
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

}  // namespace qifsim::detail::cuda_backend
