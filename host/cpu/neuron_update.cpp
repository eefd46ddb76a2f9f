// host/cpu/neuron_update.cpp - the CPU backend's per-neuron loop (see neuron_update.hpp). Built
// with -fno-trapping-math (host/CMakeLists.txt).
#include "cpu/neuron_update.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "cpu/cpu_dispatch.hpp"
#include "model/reduction.hpp"

// `omp simd` is a request: where a compiler cannot honour it (clang under the sanitizers of
// scripts/fuzz, for one) the scalar loop computes the same values, so that is no error.
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wpass-failed"
#endif

namespace qifsim::detail {

namespace {

// The step's parameters with tau and/or tau_s as one exact divisor (kernels::ExactDivisor).
template <class T, bool TauInv, bool TauSInv>
struct SpanParams {
  const T* eta;
  std::conditional_t<TauInv, kernels::ExactDivisorParam<T>, const T*> tau;
  const T* k;
  std::conditional_t<TauSInv, kernels::ExactDivisorParam<T>, const T*> tau_s;
  const T *v_th, *v_reset;
  const T *alpha, *tau_x;
};

template <class T, bool TauInv, bool TauSInv>
SpanParams<T, TauInv, TauSInv> span_params(const kernels::QifParamPtrs<T>& p, ExactInverses<T> inv) {
  SpanParams<T, TauInv, TauSInv> q{};
  q.eta = p.eta;
  if constexpr (TauInv) {
    q.tau = kernels::ExactDivisorParam<T>{inv.tau};
  } else {
    q.tau = p.tau;
  }
  q.k = p.k;
  if constexpr (TauSInv) {
    q.tau_s = kernels::ExactDivisorParam<T>{inv.tau_s};
  } else {
    q.tau_s = p.tau_s;
  }
  q.v_th = p.v_th;
  q.v_reset = p.v_reset;
  q.alpha = p.alpha;
  q.tau_x = p.tau_x;
  return q;
}

// Neurons begin..end-1 as one vector loop; everything it reads is a local here, so the
// compiler sees plain arrays with no aliasing.
// One span's arrays (from its first neuron on) and its spike flags (bytes, in L1).
template <class T>
struct SpanArrays {
  T* v;
  T* s;
  T* x;
  const T* in;
  T* s_in;
  unsigned char* flags;  // Mode kFlags, kEvents: 1 where the neuron spiked
  T decay;               // Mode kEvents: s_in <- s_in * decay after the step
};

// What a span's loop does besides the step: nothing, flag its spikes (spike events recorded),
// or flag them and decay J s (event coupling).
constexpr int kPlain = 0, kFlags = 1, kEvents = 2;

template <class T, bool Adapt, int Mode, bool Flush, class Params>
__attribute__((always_inline)) inline void span_loop(long begin, long end, const SpanArrays<T>& a,
                                                     const Params& prm, const T dt) {
  constexpr T kTiny = std::numeric_limits<T>::min();
  T* __restrict v = a.v;
  T* __restrict s = a.s;
  T* __restrict x = a.x;
  const T* __restrict in = a.in;
  T* __restrict s_in = a.s_in;
  const T decay = a.decay;
  unsigned char* __restrict flags = a.flags;
#pragma omp simd
  for (long i = begin; i < end; ++i) {
    const bool spiked = kernels::qif_step<T, Adapt>(v[i], s[i], x[i], in[i], s_in[i], prm, i, dt);
    if constexpr (Mode != kPlain) flags[i] = spiked ? 1 : 0;
    if constexpr (Mode == kEvents) s_in[i] = s_in[i] * decay;  // J s decays in this pass; the next step adds the spikes
    if constexpr (Flush) {  // Subnormals::Flush, in the same pass (s and x only decay there)
      s[i] = std::fabs(s[i]) < kTiny ? T(0) : s[i];
      if constexpr (Adapt) x[i] = std::fabs(x[i]) < kTiny ? T(0) : x[i];
    }
  }
}

template <class T, bool Adapt, int Mode, bool Flush, class Params>
void span_baseline(long begin, long end, const SpanArrays<T> a, const Params prm, const T dt) {
  span_loop<T, Adapt, Mode, Flush>(begin, end, a, prm, dt);
}

// The AVX2 copy (4 doubles per instruction instead of 2; cpu_dispatch.hpp).
#ifdef QIFSIM_AVX2_COPIES
template <class T, bool Adapt, int Mode, bool Flush, class Params>
QIFSIM_TARGET_AVX2 void span_avx2(long begin, long end, const SpanArrays<T> a, const Params prm, const T dt) {
  span_loop<T, Adapt, Mode, Flush>(begin, end, a, prm, dt);
}
#endif

template <class T, bool Adapt, int Mode, bool Flush, class Params>
void run_span_as(long len, const SpanArrays<T>& at, const Params& q, T dt, bool allow_avx2) {
#ifdef QIFSIM_AVX2_COPIES
  if (use_avx2(allow_avx2)) {
    span_avx2<T, Adapt, Mode, Flush>(0, len, at, q, dt);
    return;
  }
#endif
  span_baseline<T, Adapt, Mode, Flush>(0, len, at, q, dt);
}

template <class T, bool Adapt, int Mode, class Params>
void run_span(long len, const SpanArrays<T>& at, const Params& q, T dt, bool allow_avx2, bool flush) {
  if (flush) {
    run_span_as<T, Adapt, Mode, true>(len, at, q, dt, allow_avx2);
  } else {
    run_span_as<T, Adapt, Mode, false>(len, at, q, dt, allow_avx2);
  }
}

// The span's loop with tau and/or tau_s as exact divisors where they are one power of two.
template <class T, bool Adapt, int Mode>
void run_span_params(long len, const SpanArrays<T>& at, const kernels::QifParamPtrs<T>& q, ExactInverses<T> inv, T dt,
                     bool allow_avx2, bool flush) {
  const bool tau_inv = inv.tau != T(0), tau_s_inv = inv.tau_s != T(0);
  if (tau_inv && tau_s_inv) {
    run_span<T, Adapt, Mode>(len, at, span_params<T, true, true>(q, inv), dt, allow_avx2, flush);
  } else if (tau_inv) {
    run_span<T, Adapt, Mode>(len, at, span_params<T, true, false>(q, inv), dt, allow_avx2, flush);
  } else if (tau_s_inv) {
    run_span<T, Adapt, Mode>(len, at, span_params<T, false, true>(q, inv), dt, allow_avx2, flush);
  } else {
    run_span<T, Adapt, Mode>(len, at, q, dt, allow_avx2, flush);
  }
}

// The recorded means' 256-blocks of neurons begin..end-1 (LoopMeans): each block's values in
// double, zeros past `end`, then model::halving_tree, as model::ordered_block_sum sums a block
// (the same bits); written out here so that the loads and the tree inline and vectorise.
// `v_th` is the span's threshold (its first value is neuron `begin`'s).
template <class T>
__attribute__((always_inline)) inline void span_block_sums(long begin, long end, const NeuronArrays<T>& a,
                                                           const T* v_th, T dt) {
  constexpr long kBlock = model::kReductionBlock;
  const double rate = static_cast<double>(kernels::spike_record(true, dt));  // a spike's record, 1/dt
  alignas(64) double lane[kBlock];
  for (int k = 0; k < a.means.count; ++k) {
    const LoopMeans::Kind kind = a.means.kind[k];
    const T* src = kind == LoopMeans::S ? a.s : kind == LoopMeans::X ? a.x : a.v;
    double* out = a.means.partials[k];
    for (long first = begin; first < end; first += kBlock) {
      const long len = end - first < kBlock ? end - first : kBlock;
      const T* x = src + first;
      const T* th = v_th + (first - begin);
      const auto value = [&](long j) {
        return kind == LoopMeans::Spike ? (kernels::qif_spikes(x[j], th[j]) ? rate : 0.0) : static_cast<double>(x[j]);
      };
      if (len == kBlock) {  // a whole block: the tree's first level as the values are read
        if (kind == LoopMeans::Spike) {
          for (long j = 0; j < kBlock / 2; ++j) {
            lane[j] = (kernels::qif_spikes(x[j], th[j]) ? rate : 0.0) +
                      (kernels::qif_spikes(x[j + kBlock / 2], th[j + kBlock / 2]) ? rate : 0.0);
          }
        } else {
          for (long j = 0; j < kBlock / 2; ++j) lane[j] = static_cast<double>(x[j]) + static_cast<double>(x[j + kBlock / 2]);
        }
        out[first / kBlock] = model::halving_tree_after_first_level(lane);
      } else {  // the population's last block: zeros past its end
        for (long j = 0; j < kBlock; ++j) lane[j] = j < len ? value(j) : 0.0;
        out[first / kBlock] = model::halving_tree(lane);
      }
    }
  }
}

template <class T>
void span_block_sums_baseline(long begin, long end, const NeuronArrays<T>& a, const T* v_th, T dt) {
  span_block_sums(begin, end, a, v_th, dt);
}

#ifdef QIFSIM_AVX2_COPIES
// The AVX2 copy: the trees' adds four doubles at a time (the same adds in the same order).
template <class T>
QIFSIM_TARGET_AVX2 void span_block_sums_avx2(long begin, long end, const NeuronArrays<T>& a, const T* v_th, T dt) {
  span_block_sums(begin, end, a, v_th, dt);
}
#endif

template <class T>
void sum_span_blocks(long begin, long end, const NeuronArrays<T>& a, const T* v_th, T dt, bool allow_avx2) {
#ifdef QIFSIM_AVX2_COPIES
  if (use_avx2(allow_avx2)) {
    span_block_sums_avx2<T>(begin, end, a, v_th, dt);
    return;
  }
#endif
  span_block_sums_baseline<T>(begin, end, a, v_th, dt);
}

// Neurons begin..end-1 (at most kNeuronSpan): the arrays from `begin` on; a parameter whose bit
// is set in scalar_slots is read from its own first kNeuronSpan values (one value repeated),
// so that it stays in cache instead of streaming N copies from memory.
template <class T, bool Adapt, bool Events>
void update_span(long begin, long end, const NeuronArrays<T>& a, const kernels::QifParamPtrs<T>& prm, T dt,
                 bool allow_avx2, std::uint32_t scalar_slots, ExactInverses<T> inv, bool flush,
                 std::vector<long>* spikes) {
  unsigned char flags[kNeuronSpan];
  const SpanArrays<T> at{a.v + begin, a.s + begin, Adapt ? a.x + begin : a.x, a.in_repeats ? a.in : a.in + begin,
                         a.s_in_repeats ? a.s_in : a.s_in + begin, spikes != nullptr ? flags : nullptr, a.decay};
  using P = kernels::QifParamPtrs<T>;
  P q = prm;
  const T* P::*members[] = {&P::eta, &P::tau, &P::k, &P::tau_s, &P::v_th, &P::v_reset, &P::alpha, &P::tau_x};
  const int slots[] = {model::kEta, model::kTau, model::kK, model::kTauS, model::kVThreshold, model::kVReset, model::kAlpha, model::kTauX};
  for (int m = 0; m < 8; ++m) {
    if (!((scalar_slots >> slots[m]) & 1u) && q.*members[m] != nullptr) q.*members[m] += begin;
  }
  const long len = end - begin;
  // Recorded means: the span's 256-blocks summed before its update (the values at the step's
  // start, read from cache by the update right after). Spans start at multiples of 256.
  if (a.means.count > 0) sum_span_blocks<T>(begin, end, a, q.v_th, dt, allow_avx2);
  // Event coupling flags the spikes and decays J s; recorded spike events only flag them.
  if constexpr (Events) {
    run_span_params<T, Adapt, kEvents>(len, at, q, inv, dt, allow_avx2, flush);
  } else if (spikes != nullptr) {
    run_span_params<T, Adapt, kFlags>(len, at, q, inv, dt, allow_avx2, flush);
  } else {
    run_span_params<T, Adapt, kPlain>(len, at, q, inv, dt, allow_avx2, flush);
  }
  if (spikes != nullptr) {  // the span's flags (in L1) to ascending indices, 8 at a time
    long i = 0;
    for (; i + 8 <= len; i += 8) {
      std::uint64_t word;
      std::memcpy(&word, flags + i, sizeof word);
      if (word == 0) continue;
      for (long k = i; k < i + 8; ++k) {
        if (flags[k] != 0) spikes->push_back(begin + k);
      }
    }
    for (; i < len; ++i) {
      if (flags[i] != 0) spikes->push_back(begin + i);
    }
  }
}

}  // namespace

template <class T, bool Adapt, bool Events>
void update_neurons(const NeuronArrays<T>& a, const kernels::QifParamPtrs<T>& p, std::int64_t count, T dt,
                    bool allow_avx2, std::uint32_t scalar_slots, ExactInverses<T> inverses, bool flush) {
  const long n = static_cast<long>(count);
  constexpr long kSpan = kNeuronSpan;
  SpikeLists* lists = a.spikes;  // events, or spike events recorded (null: no list)
  // A plain branch, not an OpenMP if() clause: that clause costs a team fork even when false.
  if (n >= kParallelNeurons) {
    if (lists) {
      lists->per_thread.resize(static_cast<std::size_t>(omp_get_max_threads()));
      for (auto& l : lists->per_thread) l.clear();
    }
    // schedule(static): each thread one contiguous range of spans, thread 0 the first, so
    // the per-thread lists follow one another in ascending order.
#pragma omp parallel for schedule(static)
    for (long b = 0; b < n; b += kSpan) {
      std::vector<long>* mine = lists ? &lists->per_thread[static_cast<std::size_t>(omp_get_thread_num())] : nullptr;
      update_span<T, Adapt, Events>(b, b + kSpan < n ? b + kSpan : n, a, p, dt, allow_avx2, scalar_slots, inverses, flush,
                                    mine);
    }
  } else {
    if (lists) {
      lists->per_thread.resize(1);
      lists->per_thread[0].clear();
    }
    std::vector<long>* mine = lists ? &lists->per_thread[0] : nullptr;
    for (long b = 0; b < n; b += kSpan) {
      update_span<T, Adapt, Events>(b, b + kSpan < n ? b + kSpan : n, a, p, dt, allow_avx2, scalar_slots, inverses, flush,
                                    mine);
    }
  }
  if (lists) {
    lists->all.clear();
    for (const auto& l : lists->per_thread) lists->all.insert(lists->all.end(), l.begin(), l.end());
    if (!std::is_sorted(lists->all.begin(), lists->all.end())) std::sort(lists->all.begin(), lists->all.end());
  }
}

#define QIFSIM_UPDATE_NEURONS(T, A, E) \
  template void update_neurons<T, A, E>(const NeuronArrays<T>&, const kernels::QifParamPtrs<T>&, std::int64_t, T, bool, \
                                        std::uint32_t, ExactInverses<T>, bool);
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
