// kernels/population_step.cuh - what the step kernels of a QIF population do per neuron and
// per block (device code), shared by the population kernel (J s from cuBLAS or the
// row-block kernel) and the fused kernel (J s computed in the same launch).
#pragma once

#include <cstdint>

#include "block_reduce.cuh"
#include "model/reduction.hpp"
#include "qif_step.hpp"

namespace qifsim::kernels {

static_assert(kQifStepBlock == model::kReductionBlock, "a block steps one reduction chunk");

/// What a step derives from the step index t, the same for every neuron.
template <class T>
struct StepView {
  bool counts = false;         ///< the step counts towards the output window
  bool sample = false;         ///< the step is sampled
  T* row = nullptr;            ///< the ring row it writes, when sampled
  double inv_window = 0.0;     ///< 1 / steps in the output window, when sampled
  const T* in = nullptr;       ///< this step's external input
};

template <class T>
__device__ inline StepView<T> step_view(const QifStepArgs<T>& a, std::int64_t t) {
  StepView<T> w;
  w.counts = a.ctrl.counts(t);
  w.sample = a.ctrl.is_sample(t);
  w.row = w.sample ? a.ring + a.ctrl.ring_row(t) * a.row_width : nullptr;
  w.inv_window = w.sample ? 1.0 / static_cast<double>(a.ctrl.window(t)) : 0.0;
  w.in = a.in_from_chunk ? a.in + a.ctrl.input_row(t) * a.n : a.in;
  return w;
}

template <class T>
__device__ inline T record_value(RecordValue which, T v, T s, T x, T s_in, T in, T v_th, T dt) {
  switch (which) {
    case RecordValue::V: return v;
    case RecordValue::S: return s;
    case RecordValue::X: return x;
    case RecordValue::Spike: return spike_record(qif_spikes(v, v_th), dt);
    case RecordValue::SIn: return s_in;
    case RecordValue::IExt: return in;
    default: return T(0);
  }
}

/// The network output's window sum at neuron i when this population is the output node: `out`
/// (its v or s now) joins it on counted steps; on a sample step the window mean goes to the
/// ring row and the sum starts again.
template <class T>
__device__ inline void accumulate_output(const QifStepArgs<T>& a, const StepView<T>& w, std::int64_t i, T out) {
  if (!a.y_sum || !w.counts) return;
  double acc = a.y_sum[i] + static_cast<double>(out);
  if (w.sample) {
    if (a.out_offset >= 0) w.row[a.out_offset + i] = static_cast<T>(acc * w.inv_window);
    acc = 0.0;
  }
  a.y_sum[i] = acc;
}

/// Neuron i's recorded values on a sample step: value(which) for each record slot, into the
/// ring row, or (means) into `local`.
template <class T, class Value>
__device__ inline void record_neuron(const QifStepArgs<T>& a, const StepView<T>& w, std::int64_t i, Value value,
                                     double* local) {
#pragma unroll
  for (int k = 0; k < kMaxRecordSlots; ++k) {
    if (k >= a.rec.count) break;
    const RecordSlot slot = a.rec.slot[k];
    const T x = value(slot.value);
    if (slot.mean) {
      local[k] += static_cast<double>(x);
    } else {
      w.row[slot.offset + i] = x;
    }
  }
}

/// One value standing in for a parameter array (what load_neuron read for neuron i).
template <class T>
struct LoadedValue {
  T value;
  __device__ T operator[](long) const { return value; }
};

/// The parameters of one neuron, loaded (qif_step indexes them like QifParamRefs).
template <class T>
struct LoadedParams {
  LoadedValue<T> eta, tau, k, tau_s, v_th, v_reset, alpha, tau_x;
};

/// Everything neuron i's step reads, loaded in one place so that a kernel can issue the loads
/// early (the fused kernel issues them before its row dot, which then hides their latency).
template <class T>
struct LoadedNeuron {
  T v, s, x, input;
  LoadedParams<T> p;
};

template <class T, bool Adapt>
__device__ inline LoadedNeuron<T> load_neuron(const QifStepArgs<T>& a, const StepView<T>& w, std::int64_t i,
                                              const T* s_from) {
  const long j = static_cast<long>(i);
  LoadedNeuron<T> n;
  n.v = a.v[i];
  n.s = s_from[i];
  n.x = Adapt ? a.x[i] : T(0);
  n.input = w.in[i];
  n.p.eta.value = a.p.eta[j];
  n.p.tau.value = a.p.tau[j];
  n.p.k.value = a.p.k[j];
  n.p.tau_s.value = a.p.tau_s[j];
  n.p.v_th.value = a.p.v_th[j];
  n.p.v_reset.value = a.p.v_reset[j];
  n.p.alpha.value = Adapt ? a.p.alpha[j] : T(0);
  n.p.tau_x.value = Adapt ? a.p.tau_x[j] : T(1);
  return n;
}

/// Neuron i's whole step from its loaded values: input bookkeeping, the output window sum,
/// recording of the values at the step's start (means into `local`), then the Euler update
/// and reset. s is written to `s_to` (the array it was read from, or the fused kernel's
/// second buffer).
template <class T, bool Adapt>
__device__ inline void neuron_step(const QifStepArgs<T>& a, const StepView<T>& w, std::int64_t i,
                                   const LoadedNeuron<T>& n, T* s_to, T s_in, double* local) {
  T v = n.v;
  T s = n.s;
  T x = n.x;
  const T input = n.input;
  if (a.in_from_chunk) a.in_store[i] = input;
  accumulate_output(a, w, i, a.out_is_v ? v : s);
  if (w.sample) {
    const T v_th = n.p.v_th.value;
    record_neuron(a, w, i, [&](RecordValue which) { return record_value(which, v, s, x, s_in, input, v_th, a.dt); }, local);
  }
  qif_step<T, Adapt>(v, s, x, input, s_in, n.p, 0L, a.dt);
  a.v[i] = v;
  s_to[i] = s;
  if (Adapt) a.x[i] = x;
}

/// Runs step(i, local) once for every neuron i, chunk by chunk: chunk c (neurons c * 256 ..
/// c * 256 + 255, one per thread; blockDim.x is kReductionBlock) by block c, c + gridDim.x, ...
/// On a sample step with recorded means, each chunk's sums (the halving tree of block_sum) go
/// to a.partials[m * chunks + c], and the last block to finish adds them in chunk order: the one
/// reduction order (host/model/reduction.hpp) for any N and any grid. a.partials holds
/// kMaxRecordSlots x chunks values. Every thread must call it.
template <class T, class Step>
__device__ inline void step_by_chunks(const QifStepArgs<T>& a, const StepView<T>& w, double* scratch, Step step) {
  const bool means = w.sample && a.rec.means > 0;  // uniform over the grid: same t everywhere
  const std::int64_t chunks = (a.n + blockDim.x - 1) / blockDim.x;
  for (std::int64_t c = blockIdx.x; c < chunks; c += gridDim.x) {  // uniform over the block
    double local[kMaxRecordSlots];
#pragma unroll
    for (int k = 0; k < kMaxRecordSlots; ++k) local[k] = 0.0;
    const std::int64_t i = c * blockDim.x + threadIdx.x;
    if (i < a.n) step(i, local);
    if (!means) continue;
    int m = 0;
#pragma unroll
    for (int k = 0; k < kMaxRecordSlots; ++k) {
      if (k >= a.rec.count) break;
      if (!a.rec.slot[k].mean) continue;
      const double total = block_sum(local[k], scratch);
      if (threadIdx.x == 0) a.partials[m * chunks + c] = total;
      ++m;
    }
  }
  if (!means || !last_block_to_arrive(a.blocks_done) || threadIdx.x != 0) return;
  int m = 0;
  for (int k = 0; k < a.rec.count; ++k) {
    if (!a.rec.slot[k].mean) continue;
    const double sum = sum_in_block_order(a.partials + m * chunks, static_cast<unsigned int>(chunks));
    w.row[a.rec.slot[k].offset] = static_cast<T>(sum / static_cast<double>(a.n));
    ++m;
  }
  *a.blocks_done = 0;
}

/// The same where only thread 0 of the block holds values (the fused kernel): no block sum.
template <class T>
__device__ inline void write_thread0_means(const QifStepArgs<T>& a, const double* local) {
  if (threadIdx.x != 0) return;
  int m = 0;
#pragma unroll
  for (int k = 0; k < kMaxRecordSlots; ++k) {
    if (k >= a.rec.count) break;
    if (!a.rec.slot[k].mean) continue;
    a.partials[m * gridDim.x + blockIdx.x] = local[k];
    ++m;
  }
}

}  // namespace qifsim::kernels
