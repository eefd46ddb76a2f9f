// kernels/stochastic_input.cu - noise and Poisson input on the GPU: the kernel and its launcher
// (stochastic_input.hpp). One thread per neuron pair (2j, 2j + 1): one Box-Muller pair for both,
// as model::standard_normal draws it.
#include <algorithm>

#include "cuda_error.hpp"
#include "nvtx_range.hpp"
#include "stochastic_input.hpp"

namespace qifsim::kernels {
namespace {

constexpr int kBlock = 256;

template <class T>
__global__ void __launch_bounds__(kBlock) stochastic_input_kernel(StochasticArgs<T> a, std::int64_t pairs) {
  const std::int64_t j = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j >= pairs) return;
  const std::uint64_t pair = (static_cast<std::uint64_t>(a.first) >> 1) + static_cast<std::uint64_t>(j);
  double z[2] = {0.0, 0.0};
  if (a.sigma_sqrt_dt != nullptr) {
    const auto w = model::random_words(a.noise_seed, a.key, model::kNoiseStream, 0, pair, a.step);
    model::normal_pair(model::word64(w[0], w[1]), model::word64(w[2], w[3]), z[0], z[1]);
  }
  for (int half = 0; half < 2; ++half) {
    const std::uint64_t g = 2 * pair + static_cast<std::uint64_t>(half);  // global index
    const std::int64_t i = static_cast<std::int64_t>(g) - a.first;         // local index
    if (i < 0 || i >= a.n) continue;
    if (a.spiked != nullptr && a.spiked[i] != 0) continue;  // left at its reset
    double kick = 0.0;
    if (a.sigma_sqrt_dt != nullptr) kick = a.sigma_sqrt_dt[a.sigma_count == 1 ? 0 : i] * z[half];
    for (int k = 0; k < a.inputs; ++k) {
      const DevicePoisson& p = a.poisson[k];
      if (!(p.law.lambda > 0.0)) continue;
      // Shared input: every thread draws the one count (neuron 0's), as the CPU draws it once.
      const auto count = model::poisson_count(p.law, p.seed, a.key, model::kPoissonStream + static_cast<std::uint32_t>(k),
                                              p.shared != 0 ? 0 : g, a.step);
      kick += p.weight * static_cast<double>(count);
    }
    a.v[i] = static_cast<T>(static_cast<double>(a.v[i]) + kick);
  }
}

}  // namespace

template <class T>
void launch_stochastic_input(const StochasticArgs<T>& args, cudaStream_t stream) {
  const cuda::NvtxRange range("stochastic_input");
  if (args.n <= 0) return;
  const auto first_pair = static_cast<std::uint64_t>(args.first) >> 1;
  const auto last_pair = static_cast<std::uint64_t>(args.first + args.n - 1) >> 1;
  const auto pairs = static_cast<std::int64_t>(last_pair - first_pair + 1);
  const auto grid = static_cast<unsigned>((pairs + kBlock - 1) / kBlock);
  stochastic_input_kernel<T><<<grid, kBlock, 0, stream>>>(args, pairs);
  QIFSIM_CUDA_CHECK_LAUNCH(stochastic_input_kernel);
}

template void launch_stochastic_input<float>(const StochasticArgs<float>&, cudaStream_t);
template void launch_stochastic_input<double>(const StochasticArgs<double>&, cudaStream_t);

}  // namespace qifsim::kernels
