// host/cpu/model_update.cpp - the CPU loop of RectiPy's other neuron models (model_update.hpp).
#include "cpu/model_update.hpp"

#include "cpu/neuron_update.hpp"
#include "model/reduction.hpp"

namespace qifsim::detail {
namespace {

// Calls body(i) for i in [0, n), on all threads for large populations.
template <class F>
void for_neurons(std::int64_t n, F&& body) {
  const long count = static_cast<long>(n);
  if (n >= kParallelNeurons) {
#pragma omp parallel for schedule(static)
    for (long i = 0; i < count; ++i) body(i);
  } else {
    for (long i = 0; i < count; ++i) body(i);
  }
}

template <model::IkVariant V, class T>
void update_ik(const ModelArrays<T>& a, const kernels::ModelParams<T>& p, std::int64_t n, T dt) {
  kernels::PopulationMeans<T> means;
  if constexpr (V != model::IkVariant::Ik) {
    constexpr int th = V == model::IkVariant::Biexp ? model::kIkBiexpVThreshold : model::kIkVThreshold;
    const T* v = a.slot[0];
    means.v = static_cast<T>(model::ordered_sum(n, [v](std::int64_t i) { return v[i]; }) / static_cast<double>(n));
    means.spike = static_cast<T>(
        model::ordered_sum(n, [v, &p](std::int64_t i) { return v[i] >= p(th, static_cast<long>(i)) ? 1.0 : 0.0; }) /
        static_cast<double>(n));
  }
  T* v = a.slot[0];
  T* s = a.slot[1];
  T* u = a.slot[2];
  T* x = a.slot[3];
  T* fired = a.fired;
  for_neurons(n, [&](long i) {
    T unused = 0;
    const bool spiked = kernels::ik_step<V>(v[i], u[i], s[i], V == model::IkVariant::Biexp ? x[i] : unused, a.in[i],
                                             a.s_in[i], p, i, dt, means);
    if (fired != nullptr) fired[i] = spiked ? T(1) : T(0);
  });
}

}  // namespace

template <class T>
void update_model_rates(model::ModelId id, const ModelArrays<T>& a, const kernels::ModelParams<T>& p,
                        std::int64_t n) {
  const T* v = a.slot[0];
  T* r = a.slot[1];
  if (id == model::ModelId::LeakyTanh) {
    for_neurons(n, [&](long i) { r[i] = kernels::leaky_rate<false>(v[i], p, i); });
  } else if (id == model::ModelId::LeakySigmoid) {
    for_neurons(n, [&](long i) { r[i] = kernels::leaky_rate<true>(v[i], p, i); });
  }
}

template <class T>
void update_model_neurons(model::ModelId id, const ModelArrays<T>& a, const kernels::ModelParams<T>& p,
                          std::int64_t n, T dt) {
  switch (id) {
    case model::ModelId::Lif: {
      T* v = a.slot[0];
      T* s = a.slot[1];
      T* fired = a.fired;
      for_neurons(n, [&](long i) {
        const bool spiked = kernels::lif_step(v[i], s[i], a.in[i], a.s_in[i], p, i, dt);
        if (fired != nullptr) fired[i] = spiked ? T(1) : T(0);
      });
      return;
    }
    case model::ModelId::Ik: update_ik<model::IkVariant::Ik>(a, p, n, dt); return;
    case model::ModelId::Iku: update_ik<model::IkVariant::Iku>(a, p, n, dt); return;
    case model::ModelId::IkBiexp: update_ik<model::IkVariant::Biexp>(a, p, n, dt); return;
    case model::ModelId::LeakyTanh:
    case model::ModelId::LeakySigmoid: {
      T* v = a.slot[0];
      for_neurons(n, [&](long i) { kernels::leaky_step(v[i], a.in[i], a.s_in[i], p, i, dt); });
      update_model_rates(id, a, p, n);
      return;
    }
    case model::ModelId::Qif: return;  // stepped by update_neurons
  }
}

template void update_model_neurons<float>(model::ModelId, const ModelArrays<float>&, const kernels::ModelParams<float>&,
                                          std::int64_t, float);
template void update_model_neurons<double>(model::ModelId, const ModelArrays<double>&,
                                           const kernels::ModelParams<double>&, std::int64_t, double);
template void update_model_rates<float>(model::ModelId, const ModelArrays<float>&, const kernels::ModelParams<float>&,
                                        std::int64_t);
template void update_model_rates<double>(model::ModelId, const ModelArrays<double>&,
                                         const kernels::ModelParams<double>&, std::int64_t);

}  // namespace qifsim::detail
