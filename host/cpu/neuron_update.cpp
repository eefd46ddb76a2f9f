// host/cpu/neuron_update.cpp - the CPU backend's per-neuron loop (see neuron_update.hpp). Built
// with -fno-trapping-math (host/CMakeLists.txt).
#include "cpu/neuron_update.hpp"

#include "cpu/cpu_dispatch.hpp"

// `omp simd` is a request: where a compiler cannot honour it (clang under the sanitizers of
// scripts/fuzz, for one) the scalar loop computes the same values, so that is no error.
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wpass-failed"
#endif

namespace qifsim::detail {

namespace {

// Neurons begin..end-1 as one vector loop; everything it reads is a local here, so the
// compiler sees plain arrays with no aliasing.
template <class T, bool Adapt, bool Events>
__attribute__((always_inline)) inline void span_loop(long begin, long end, const NeuronArrays<T>& a,
                                                     const kernels::QifParamPtrs<T>& prm, const T dt) {
  T* __restrict v = a.v;
  T* __restrict s = a.s;
  T* __restrict x = a.x;
  const T* __restrict in = a.in;
  const T* __restrict s_in = a.s_in;
  T* __restrict fired = a.fired;
#pragma omp simd
  for (long i = begin; i < end; ++i) {
    const bool spiked = kernels::qif_step<T, Adapt>(v[i], s[i], x[i], in[i], s_in[i], prm, i, dt);
    if constexpr (Events) fired[i] = spiked ? T(1) : T(0);
  }
}

template <class T, bool Adapt, bool Events>
void span_baseline(long begin, long end, const NeuronArrays<T> a, const kernels::QifParamPtrs<T> prm, const T dt) {
  span_loop<T, Adapt, Events>(begin, end, a, prm, dt);
}

// The AVX2 copy (4 doubles per instruction instead of 2; cpu_dispatch.hpp).
#ifdef QIFSIM_AVX2_COPIES
template <class T, bool Adapt, bool Events>
QIFSIM_TARGET_AVX2 void span_avx2(long begin, long end, const NeuronArrays<T> a,
                                               const kernels::QifParamPtrs<T> prm, const T dt) {
  span_loop<T, Adapt, Events>(begin, end, a, prm, dt);
}
#endif

// Neurons begin..end-1 (at most kNeuronSpan): the arrays from `begin` on; a parameter whose bit
// is set in scalar_slots is read from its own first kNeuronSpan values (one value repeated),
// so that it stays in cache instead of streaming N copies from memory.
template <class T, bool Adapt, bool Events>
void update_span(long begin, long end, const NeuronArrays<T>& a, const kernels::QifParamPtrs<T>& prm, T dt,
                 bool allow_avx2, std::uint32_t scalar_slots) {
  const NeuronArrays<T> at{a.v + begin, a.s + begin, Adapt ? a.x + begin : a.x, a.in + begin, a.s_in + begin,
                           Events ? a.fired + begin : nullptr};
  using P = kernels::QifParamPtrs<T>;
  P q = prm;
  const T* P::*members[] = {&P::eta, &P::tau, &P::k, &P::tau_s, &P::v_th, &P::v_reset, &P::alpha, &P::tau_x};
  const int slots[] = {model::kEta, model::kTau, model::kK, model::kTauS, model::kVThreshold, model::kVReset, model::kAlpha, model::kTauX};
  for (int m = 0; m < 8; ++m) {
    if (!((scalar_slots >> slots[m]) & 1u) && q.*members[m] != nullptr) q.*members[m] += begin;
  }
  const long len = end - begin;
#ifdef QIFSIM_AVX2_COPIES
  if (use_avx2(allow_avx2)) {
    span_avx2<T, Adapt, Events>(0, len, at, q, dt);
    return;
  }
#endif
  span_baseline<T, Adapt, Events>(0, len, at, q, dt);
}

}  // namespace

template <class T, bool Adapt, bool Events>
void update_neurons(const NeuronArrays<T>& a, const kernels::QifParamPtrs<T>& p, std::int64_t count, T dt,
                    bool allow_avx2, std::uint32_t scalar_slots) {
  const long n = static_cast<long>(count);
  constexpr long kSpan = kNeuronSpan;
  // A plain branch, not an OpenMP if() clause: that clause costs a team fork even when false.
  if (n >= kParallelNeurons) {
#pragma omp parallel for schedule(static)
    for (long b = 0; b < n; b += kSpan) {
      update_span<T, Adapt, Events>(b, b + kSpan < n ? b + kSpan : n, a, p, dt, allow_avx2, scalar_slots);
    }
  } else {
    for (long b = 0; b < n; b += kSpan) {
      update_span<T, Adapt, Events>(b, b + kSpan < n ? b + kSpan : n, a, p, dt, allow_avx2, scalar_slots);
    }
  }
}

#define QIFSIM_UPDATE_NEURONS(T, A, E) \
  template void update_neurons<T, A, E>(const NeuronArrays<T>&, const kernels::QifParamPtrs<T>&, std::int64_t, T, bool, \
                                        std::uint32_t);
QIFSIM_UPDATE_NEURONS(float, false, false)
QIFSIM_UPDATE_NEURONS(float, false, true)
QIFSIM_UPDATE_NEURONS(float, true, false)
QIFSIM_UPDATE_NEURONS(float, true, true)
QIFSIM_UPDATE_NEURONS(double, false, false)
QIFSIM_UPDATE_NEURONS(double, false, true)
QIFSIM_UPDATE_NEURONS(double, true, false)
QIFSIM_UPDATE_NEURONS(double, true, true)
#undef QIFSIM_UPDATE_NEURONS

}  // namespace qifsim::detail
