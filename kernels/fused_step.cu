// kernels/fused_step.cu - the fused step kernel (coupling, update, recording and the step
// counter in one launch) and its launcher.
#include <algorithm>

#include "cuda_error.hpp"
#include "nvtx_range.hpp"
#include "fused_step.hpp"
#include "population_step.cuh"
#include "row_dot.cuh"

namespace qifsim::kernels {
namespace {

static_assert(kFusedStepBlock % 32 == 0 && kFusedStepBlock <= 1024, "a block is whole warps");
// At least 8 resident blocks per SM (<= 64 registers per thread: 12 capped them at 40 and
// float64 spilled 52-92 bytes): on a 132-SM H100 or H200, 1056 blocks, so a population of
// up to 1056 neurons takes its step in one wave.
constexpr int kFusedMinBlocks = 8;

// Block b handles neurons b, b + gridDim.x, ...: the whole block sums row i of J against s,
// then thread 0 steps neuron i. Every block reads all of s at the step's start and writes
// its neurons' new s into the other buffer. The last block to finish adds the neuron means
// (all threads, fixed order), resets the arrival counter and advances t.
template <class T, bool Adapt>
__global__ void __launch_bounds__(kFusedStepBlock, kFusedMinBlocks) fused_step_kernel(FusedStepArgs<T> f) {
  __shared__ double scratch[kFusedStepBlock];
  __shared__ T warp_sums[kFusedStepBlock / 32];
  const QifStepArgs<T>& a = f.step;
  // This kernel owns the step counter: every block reads t before it arrives below, and the
  // last block to arrive advances it.
  std::int64_t* const counter = const_cast<std::int64_t*>(a.ctrl.step);
  const std::int64_t t = *counter;
  const StepView<T> w = step_view(a, t);
  const bool odd = ((t - f.run_start) & 1) != 0;
  const T* s_from = odd ? f.s_alt : a.s;
  T* s_to = odd ? a.s : f.s_alt;

  double local[kMaxRecordSlots];
#pragma unroll
  for (int k = 0; k < kMaxRecordSlots; ++k) local[k] = 0.0;

  for (std::int64_t i = blockIdx.x; i < a.n; i += gridDim.x) {
    // Neuron i's state, parameters and input are loaded first: their latency hides behind
    // the row dot instead of following it.
    LoadedNeuron<T> n{};
    if (threadIdx.x == 0) n = load_neuron<T, Adapt>(a, w, i, s_from);
    const T s_in = block_row_dot(f.J + i * a.n, s_from, a.n, warp_sums);
    if (threadIdx.x == 0) {
      f.s_in_out[i] = s_in;
      neuron_step<T, Adapt>(a, w, i, n, s_to, s_in, local);
    }
  }

  const bool means = w.sample && a.rec.means > 0;  // uniform over the grid
  if (means) write_thread0_means(a, local);  // only thread 0 stepped neurons
  if (!last_block_to_arrive(a.blocks_done)) return;
  if (means) {
    int m = 0;
    for (int k = 0; k < a.rec.count; ++k) {
      if (!a.rec.slot[k].mean) continue;
      const double* partial = a.partials + m * gridDim.x;
      double sum = 0.0;
      for (unsigned int b = threadIdx.x; b < gridDim.x; b += blockDim.x) sum += __ldcg(partial + b);
      sum = block_sum(sum, scratch);
      if (threadIdx.x == 0) w.row[a.rec.slot[k].offset] = static_cast<T>(sum / static_cast<double>(a.n));
      ++m;
    }
  }
  if (threadIdx.x == 0) {
    *a.blocks_done = 0;
    *counter = t + 1;
  }
}

}  // namespace

int fused_step_grid(std::int64_t n) {
  // One block per neuron up to 16 blocks of 128 threads per SM on a 132-SM GPU; beyond,
  // blocks loop over neurons (the grid-stride loop keeps any size correct).
  return static_cast<int>(std::min<std::int64_t>(std::max<std::int64_t>(n, 1), 32768));
}

template <class T>
void launch_fused_step(const FusedStepArgs<T>& args, bool adaptation, int grid, cudaStream_t stream) {
  const cuda::NvtxRange range("fused_step");
  if (adaptation) {
    fused_step_kernel<T, true><<<grid, kFusedStepBlock, 0, stream>>>(args);
  } else {
    fused_step_kernel<T, false><<<grid, kFusedStepBlock, 0, stream>>>(args);
  }
  QIFSIM_CUDA_CHECK_LAUNCH(fused_step_kernel);
}

template void launch_fused_step<float>(const FusedStepArgs<float>&, bool, int, cudaStream_t);
template void launch_fused_step<double>(const FusedStepArgs<double>&, bool, int, cudaStream_t);

}  // namespace qifsim::kernels
