// kernels/stochastic_input.hpp - noise and Poisson input on the GPU (launcher side): the device
// form of the CPU's add_stochastic_input (host/cpu/stochastic_input.cpp), drawing each neuron's
// numbers with the same __host__ __device__ functions (model/stochastic.hpp). Not yet called
// by the CUDA engine, which refuses such populations until this kernel has passed
// tests/test_cuda_kernels.cpp on a GPU.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "model/stochastic.hpp"

namespace qifsim::kernels {

/// One Poisson input as the kernel reads it (device memory, an array of them).
struct DevicePoisson {
  model::PoissonLaw law;
  double weight = 0.0;
  std::uint64_t seed = 0;
  std::uint32_t shared = 0;  ///< 1: one count for every neuron (drawn as neuron 0's), else one each
};

/// Everything one step's noise and Poisson input of one population reads and writes.
template <class T>
struct StochasticArgs {
  T* v = nullptr;                          ///< n values, updated in place
  std::int64_t n = 0;
  std::int64_t first = 0;                  ///< global index of local neuron 0
  std::uint64_t step = 0;                  ///< steps since compile() or reset()
  std::uint32_t key = 0;                   ///< model::population_key of the population's name
  std::uint64_t noise_seed = 0;
  const double* sigma_sqrt_dt = nullptr;   ///< sqrt(dt) * sigma: 1 or n values (null: no noise)
  std::int64_t sigma_count = 0;
  const DevicePoisson* poisson = nullptr;  ///< `inputs` of them (device memory)
  int inputs = 0;
  const unsigned char* spiked = nullptr;   ///< 1 where the neuron spiked this step (left at its reset), or null
};

/// v += sqrt(dt) sigma xi + sum weight count on every neuron that did not spike: the same
/// numbers, the same double arithmetic and the same rounding to T as the CPU loop (the library
/// builds device code with --fmad=false).
template <class T>
void launch_stochastic_input(const StochasticArgs<T>& args, cudaStream_t stream);

}  // namespace qifsim::kernels
