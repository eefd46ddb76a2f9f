// kernels/model_step.hpp - the per-step kernel of a population of RectiPy's other neuron models
// (model/lif.hpp, izhikevich.hpp, leaky_integrator.hpp; launcher side). It shares the QIF
// kernel's step control, recording and output window (QifStepArgs) and runs each model's one
// __host__ __device__ step, the code the CPU loop runs.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "model/rectipy_models.hpp"
#include "qif_step.hpp"

namespace qifsim::kernels {

/// Everything the step of one population of another model reads and writes.
template <class T>
struct ModelStepArgs {
  QifStepArgs<T> base;            ///< n, v (slot V), s (slot S: s, or a rate neuron's r), x (slot X, or null),
                                  ///< inputs, recording and output window as for QIF; base.p unused
  T* w = nullptr;                 ///< state slot W (ik_biexp's x), or null
  ModelParams<T> p{};             ///< parameters by declared slot
  int threshold = -1;             ///< parameter slot of the spike threshold (-1: rate model)
  const double* means = nullptr;  ///< iku, ik_biexp: mean(v) and the fraction spiking at the step's start
};

/// One step of a population of model `id` (not Qif) on `stream` (grid: qif_step_grid).
template <class T>
void launch_model_step(const ModelStepArgs<T>& args, model::ModelId id, int grid, cudaStream_t stream);

/// means[0] = mean(v), means[1] = the fraction of neurons with v >= threshold, in the one
/// reduction order (model/reduction.hpp); `partials` holds 2 * ceil(n / 256) doubles.
template <class T>
void launch_population_means(const T* v, ParamRef<T> threshold, std::int64_t n, double* partials, double* means,
                             cudaStream_t stream);

/// A rate model's r = f(v) for every neuron (after its v was set).
template <class T>
void launch_model_rates(model::ModelId id, const T* v, T* r, const ModelParams<T>& p, std::int64_t n,
                        cudaStream_t stream);

}  // namespace qifsim::kernels
