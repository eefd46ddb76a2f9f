// kernels/qif_step.cu - the fused step kernel of a QIF population and its launcher.
#include <algorithm>

#include "block_reduce.cuh"
#include "cuda_error.hpp"
#include "qif_step.hpp"

namespace qifsim::kernels {
namespace {

template <class T>
__device__ inline T record_value(RecordValue which, T v, T s, T x, T s_in, T in, T v_th) {
  switch (which) {
    case RecordValue::V: return v;
    case RecordValue::S: return s;
    case RecordValue::X: return x;
    case RecordValue::Spike: return qif_spikes(v, v_th) ? T(1) : T(0);
    case RecordValue::SIn: return s_in;
    case RecordValue::IExt: return in;
    default: return T(0);
  }
}

template <class T, bool Adapt>
__global__ void __launch_bounds__(kQifStepBlock) qif_step_kernel(QifStepArgs<T> a) {
  __shared__ double scratch[kQifStepBlock];
  const std::int64_t t = *a.ctrl.step;
  const bool counts = a.ctrl.counts(t);
  const bool sample = a.ctrl.is_sample(t);
  T* row = sample ? a.ring + a.ctrl.ring_row(t) * a.row_width : nullptr;
  const double inv_window = sample ? 1.0 / static_cast<double>(a.ctrl.window(t)) : 0.0;
  const T* in = a.in_from_chunk ? a.in + a.ctrl.input_row(t) * a.n : a.in;

  double local[kMaxRecordSlots];
#pragma unroll
  for (int k = 0; k < kMaxRecordSlots; ++k) local[k] = 0.0;

  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < a.n;
       i += stride) {
    T v = a.v[i];
    T s = a.s[i];
    T x = Adapt ? a.x[i] : T(0);
    const T input = in[i];
    const T s_in = a.s_in ? a.s_in[i] : T(0);
    if (a.in_from_chunk) a.in_store[i] = input;
    if (a.y_sum && counts) {  // the network output is this population's v or s now
      double acc = a.y_sum[i] + static_cast<double>(a.out_is_v ? v : s);
      if (sample) {
        if (a.out_offset >= 0) row[a.out_offset + i] = static_cast<T>(acc * inv_window);
        acc = 0.0;
      }
      a.y_sum[i] = acc;
    }
    if (sample) {
#pragma unroll
      for (int k = 0; k < kMaxRecordSlots; ++k) {
        if (k >= a.rec.count) break;
        const RecordSlot slot = a.rec.slot[k];
        const T value = record_value(slot.value, v, s, x, s_in, input, a.p.v_th[i]);
        if (slot.mean) {
          local[k] += static_cast<double>(value);
        } else {
          row[slot.offset + i] = value;
        }
      }
    }
    qif_step<T, Adapt>(v, s, x, input, s_in, a.p, static_cast<long>(i), a.dt);
    a.v[i] = v;
    a.s[i] = s;
    if (Adapt) a.x[i] = x;
  }

  if (!sample || a.rec.means == 0) return;  // uniform over the grid: same t everywhere
  // Neuron means: block sums, then the last block to finish adds them in block order
  // (deterministic, one launch, no per-neuron atomics).
  int m = 0;
  for (int k = 0; k < a.rec.count; ++k) {
    if (!a.rec.slot[k].mean) continue;
    const double total = block_sum(local[k], scratch);
    if (threadIdx.x == 0) a.partials[m * gridDim.x + blockIdx.x] = total;
    ++m;
  }
  __shared__ bool last;
  if (threadIdx.x == 0) {
    __threadfence();
    last = atomicAdd(a.blocks_done, 1u) == gridDim.x - 1;
  }
  __syncthreads();
  if (!last || threadIdx.x != 0) return;
  __threadfence();
  m = 0;
  for (int k = 0; k < a.rec.count; ++k) {
    if (!a.rec.slot[k].mean) continue;
    const volatile double* partial = a.partials + m * gridDim.x;
    double sum = 0.0;
    for (unsigned int b = 0; b < gridDim.x; ++b) sum += partial[b];
    row[a.rec.slot[k].offset] = static_cast<T>(sum / static_cast<double>(a.n));
    ++m;
  }
  *a.blocks_done = 0;
}

}  // namespace

int qif_step_grid(std::int64_t n, int block) {
  // Enough blocks to fill the GPU; beyond that the grid-stride loop takes over.
  const std::int64_t blocks = (n + block - 1) / block;
  return static_cast<int>(std::min<std::int64_t>(std::max<std::int64_t>(blocks, 1), 2048));
}

template <class T>
void launch_qif_step(const QifStepArgs<T>& args, bool adaptation, int grid, cudaStream_t stream) {
  if (adaptation) {
    qif_step_kernel<T, true><<<grid, kQifStepBlock, 0, stream>>>(args);
  } else {
    qif_step_kernel<T, false><<<grid, kQifStepBlock, 0, stream>>>(args);
  }
  QIFSIM_CUDA_CHECK_LAUNCH(qif_step_kernel);
}

template void launch_qif_step<float>(const QifStepArgs<float>&, bool, int, cudaStream_t);
template void launch_qif_step<double>(const QifStepArgs<double>&, bool, int, cudaStream_t);

}  // namespace qifsim::kernels
