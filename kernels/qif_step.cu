// kernels/qif_step.cu - the fused step kernel of a QIF population and its launcher.
#include <algorithm>

#include "cuda_error.hpp"
#include "nvtx_range.hpp"
#include "population_step.cuh"
#include "qif_step.hpp"

namespace qifsim::kernels {
namespace {

template <class T, bool Adapt>
__global__ void __launch_bounds__(kQifStepBlock, 3) qif_step_kernel(QifStepArgs<T> a) {
  __shared__ double scratch[kQifStepBlock];
  const std::int64_t t = *a.ctrl.step;
  const StepView<T> w = step_view(a, t);

  // Neuron means: chunk sums, then the last block to finish adds them in chunk order (the one
  // reduction order for any N; one launch, no per-neuron atomics).
  step_by_chunks(a, w, scratch, [&](std::int64_t i, double* local) {
    neuron_step<T, Adapt>(a, w, i, load_neuron<T, Adapt>(a, w, i, a.s), a.s, a.s_in ? a.s_in[i] : T(0), local);
  });
}

}  // namespace

int qif_step_grid(std::int64_t n, int block) {
  // Enough blocks to fill the GPU; beyond that the grid-stride loop takes over.
  const std::int64_t blocks = (n + block - 1) / block;
  return static_cast<int>(std::min<std::int64_t>(std::max<std::int64_t>(blocks, 1), 2048));
}

template <class T>
void launch_qif_step(const QifStepArgs<T>& args, bool adaptation, int grid, cudaStream_t stream) {
  const cuda::NvtxRange range("qif_step");
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
