// host/cpu/neuron_update.hpp - the CPU backend's per-neuron loop: kernels::qif_step over a whole
// population, vectorised (and threaded for large populations).
#pragma once

#include <cstdint>
#include <vector>

#include "model/qif.hpp"

namespace qifsim::detail {

/// The neurons that spiked in one step, ascending (what event-driven coupling adds): the loop
/// lists them per thread (each thread steps one contiguous range of spans, in order), then
/// `all` holds the lists one after the other. No N-length array is written or scanned.
struct SpikeLists {
  std::vector<std::vector<long>> per_thread;
  std::vector<long> all;
};

/// Means of values at the step's start that a run records this step, summed inside the loop's
/// pass (each 256-neuron block as model::ordered_block_sum sums it, while the span is in cache):
/// partials[k][b] receives block b's sum of value kind[k].
struct LoopMeans {
  static constexpr int kMax = 4;
  enum Kind : int { V, S, X, Spike };
  int count = 0;
  Kind kind[kMax] = {};
  double* partials[kMax] = {};
};

/// One population's arrays for the step loop.
template <class T>
struct NeuronArrays {
  T* v;
  T* s;
  T* x;               ///< adaptation only (not touched otherwise)
  const T* in;        ///< this step's external input
  T* s_in;            ///< this step's coupling input J s; with Events, decay * J s afterwards
  SpikeLists* spikes = nullptr;  ///< receives the neurons that spiked (with Events always; else
                                 ///< where not null: spike events recorded)
  /// With Events: s_in[i] <- s_in[i] * decay after neuron i's step, the event coupling's
  /// (1 - dt/tau_s) J s done in this pass (the next step adds its spikes' columns to it).
  T decay = T(1);
  /// `in` / `s_in` hold min(n, kNeuronSpan) copies of one value, read again for every span (a
  /// population whose input / coupling input is one value per step: all-to-all weights).
  bool in_repeats = false;
  bool s_in_repeats = false;
  LoopMeans means{};  ///< block sums to take this step (count 0: none)
};

/// tau and tau_s where each is one power of two for every neuron: their inverses (else 0), so
/// that the loop multiplies instead of dividing, with the same bits (kernels::ExactDivisor).
template <class T>
struct ExactInverses {
  T tau = T(0);
  T tau_s = T(0);
};

/// Populations at least this large update on all OpenMP threads; smaller ones on one
/// (below it the fork/join costs more than the work).
constexpr std::int64_t kParallelNeurons = 16384;
/// The loop runs over spans of this many neurons (a thread's unit of work).
constexpr std::int64_t kNeuronSpan = 4096;
static_assert(kNeuronSpan % 256 == 0, "spans start at reduction blocks (LoopMeans)");

/// Steps neurons 0..n-1 (kernels::qif_step, the same arithmetic as the GPU kernel). The loop
/// is compiled with -fno-trapping-math (floating-point traps are never enabled here), which
/// lets the compiler turn the spike test and reset into vector selects; rounding is unchanged.
/// On x86-64 CPUs with AVX2 an AVX2 copy of the loop runs unless allow_avx2 is false (the
/// tests check both copies against a scalar reference). Bit a of scalar_slots (model::QifParam
/// a) says that parameter's pointer holds min(n, kNeuronSpan) copies of one value, read again
/// for every span, instead of n values: a population's scalar parameters then cost no memory
/// traffic. `inverses`: tau and/or tau_s as one power of two (the default 1 is one), divided by
/// as a multiplication by the exact inverse: the same bits, about twice the speed where the
/// loop's data is in cache (bench/RESULTS.md). `flush` (Subnormals::Flush): s (and x) below
/// the smallest normal T become 0 in the same pass, right after each neuron's step.
/// a.in_repeats, a.s_in_repeats: see NeuronArrays.
template <class T, bool Adapt, bool Events>
void update_neurons(const NeuronArrays<T>& a, const kernels::QifParamPtrs<T>& p, std::int64_t n, T dt,
                    bool allow_avx2 = true, std::uint32_t scalar_slots = 0, ExactInverses<T> inverses = {},
                    bool flush = false);

}  // namespace qifsim::detail
