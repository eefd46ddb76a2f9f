// host/model/model_params.hpp - how a neuron model's step sees its parameters: one ParamRef per
// declared parameter (one value for the population, stride 0, or one per neuron, stride 1),
// indexed by the parameter's slot in the model's declaration. Shared by the CPU loop and the
// CUDA kernels.
#pragma once

#include "model/host_device.hpp"

namespace qifsim::kernels {

/// A parameter array that is either one value (stride 0) or one value per neuron (stride 1).
template <class T>
struct ParamRef {
  const T* ptr;
  int stride;
  QIFSIM_HD T operator[](long i) const { return ptr[i * stride]; }
};

/// The most parameters a model declares (ik_biexp: 14).
inline constexpr int kMaxModelParams = 16;

/// Parameters of a population by declared slot: p(slot, i) is parameter `slot` of neuron i.
template <class T>
struct ModelParams {
  ParamRef<T> slot[kMaxModelParams];
  QIFSIM_HD T operator()(int a, long i) const { return slot[a][i]; }
};

/// Population means at a step's start, for models whose step reads them (iku, ik_biexp):
/// mean(v) and the fraction of neurons that spike in this step.
template <class T>
struct PopulationMeans {
  T v = 0;
  T spike = 0;
};

}  // namespace qifsim::kernels
