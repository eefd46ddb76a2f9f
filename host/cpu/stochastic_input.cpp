// host/cpu/stochastic_input.cpp - noise and Poisson input on the CPU backend (see
// stochastic_input.hpp). Built with -fno-trapping-math and -fno-math-errno (host/CMakeLists.txt):
// the selects and the square root of the number generators vectorise; values are unchanged.
#include "cpu/stochastic_input.hpp"

#include <omp.h>

#include "cpu/cpu_dispatch.hpp"

// `omp simd` is a request: where a compiler cannot honour it (clang under the sanitizers of
// scripts/fuzz) the scalar loop computes the same values, so that is no error.
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wpass-failed"
#endif

namespace qifsim::detail {

namespace {

/// The Philox words of `pairs` neuron pairs from pair `first_pair` on (4 per pair), in a loop
/// the compiler vectorises (the numbers are model::random_words', whatever the vector width).
__attribute__((always_inline)) inline void pair_words_loop(std::uint64_t seed, std::uint32_t key, std::uint32_t stream,
                                                            std::uint64_t first_pair, long pairs, std::uint64_t step,
                                                            std::uint64_t* __restrict out) {
#pragma omp simd
  for (long j = 0; j < pairs; ++j) {
    const auto w = model::random_words(seed, key, stream, 0, first_pair + static_cast<std::uint64_t>(j), step);
    out[2 * j] = model::word64(w[0], w[1]);
    out[2 * j + 1] = model::word64(w[2], w[3]);
  }
}
#ifdef QIFSIM_AVX2_COPIES
QIFSIM_TARGET_AVX2 inline void pair_words_avx2(std::uint64_t seed, std::uint32_t key, std::uint32_t stream,
                                               std::uint64_t first_pair, long pairs, std::uint64_t step, std::uint64_t* out) {
  pair_words_loop(seed, key, stream, first_pair, pairs, step, out);
}
#endif
inline void pair_words(std::uint64_t seed, std::uint32_t key, std::uint32_t stream, std::uint64_t first_pair, long pairs,
                       std::uint64_t step, std::uint64_t* out) {
#ifdef QIFSIM_AVX2_COPIES
  if (use_avx2(true)) {
    pair_words_avx2(seed, key, stream, first_pair, pairs, step, out);
    return;
  }
#endif
  pair_words_loop(seed, key, stream, first_pair, pairs, step, out);
}

/// The normal pairs of `pairs` pairs' words (model::normal_pair) into z0, z1, in a vector loop.
__attribute__((always_inline)) inline void normal_pairs_loop(const std::uint64_t* __restrict words, long pairs,
                                                              double* __restrict z0, double* __restrict z1) {
#pragma omp simd
  for (long j = 0; j < pairs; ++j) model::normal_pair(words[2 * j], words[2 * j + 1], z0[j], z1[j]);
}
#ifdef QIFSIM_AVX2_COPIES
QIFSIM_TARGET_AVX2 inline void normal_pairs_avx2(const std::uint64_t* words, long pairs, double* z0, double* z1) {
  normal_pairs_loop(words, pairs, z0, z1);
}
#endif
inline void normal_pairs(const std::uint64_t* words, long pairs, double* z0, double* z1) {
#ifdef QIFSIM_AVX2_COPIES
  if (use_avx2(true)) {
    normal_pairs_avx2(words, pairs, z0, z1);
    return;
  }
#endif
  normal_pairs_loop(words, pairs, z0, z1);
}

/// weight * count added to kick[0..len-1] for the span's neurons (global indices g0 + i) by
/// inversion from their pairs' words (pair g >> 1 at words + 2 * ((g >> 1) - pair0)): the vector
/// form of model::poisson_invert (the same counts: entries below u, the first 16 compared for
/// several neurons at once, the rest one by one where u is beyond them).
__attribute__((always_inline)) inline void add_inverted_counts(const model::PoissonLaw& law, double weight,
                                                                const std::uint64_t* words, std::uint64_t g0,
                                                                std::uint64_t pair0, long len, double* __restrict kick) {
  alignas(64) double u[kNeuronSpan];
  alignas(64) double count[kNeuronSpan];
  for (long i = 0; i < len; ++i) {
    const std::uint64_t g = g0 + static_cast<std::uint64_t>(i);
    const std::uint64_t* w = words + 2 * static_cast<long>((g >> 1) - pair0);
    u[i] = model::uniform01(w[(g & 1u) != 0 ? 1 : 0]);
  }
  double cdf[16];
  for (int j = 0; j < 16; ++j) cdf[j] = law.cdf[j];
#pragma omp simd
  for (long i = 0; i < len; ++i) {
    double c = 0.0;
    for (int j = 0; j < 16; ++j) c += cdf[j] < u[i] ? 1.0 : 0.0;
    count[i] = c;
  }
  for (long i = 0; i < len; ++i) {
    if (count[i] == 16.0) count[i] = static_cast<double>(model::poisson_invert(law, u[i]));
    kick[i] += weight * count[i];
  }
}

inline void add_inverted_counts_baseline(const model::PoissonLaw& law, double weight, const std::uint64_t* words,
                                         std::uint64_t g0, std::uint64_t pair0, long len, double* kick) {
  add_inverted_counts(law, weight, words, g0, pair0, len, kick);
}
#ifdef QIFSIM_AVX2_COPIES
QIFSIM_TARGET_AVX2 inline void add_inverted_counts_avx2(const model::PoissonLaw& law, double weight,
                                                        const std::uint64_t* words, std::uint64_t g0,
                                                        std::uint64_t pair0, long len, double* kick) {
  add_inverted_counts(law, weight, words, g0, pair0, len, kick);
}
#endif

}  // namespace

/// Adds the input of step `step` (counted since compile() or reset()) to v[0..n-1], then sets the
/// neurons in `spiked` (ascending local indices) back to their reset value: reset[0] for all
/// when reset_scalar, else reset[i]. reset == nullptr: no spikes (a rate model). Each neuron's
/// numbers are model::standard_normal's and model::poisson_count's; the words of a span's neuron
/// pairs are drawn first, in one vector loop, then turned into numbers.
template <class T>
void add_stochastic_input(const CpuStochasticInput& d, T* v, std::int64_t n, std::int64_t step,
                          const std::vector<long>& spiked, const T* reset, bool reset_scalar) {
  const auto t = static_cast<std::uint64_t>(step);
  // Shared Poisson input: one count per input for the whole population this step.
  std::vector<double>& shared = d.shared_kick;
  for (std::size_t k = 0; k < d.poisson.size(); ++k) {
    const auto& p = d.poisson[k];
    if (p.shared) {
      shared[k] = p.weight * static_cast<double>(model::poisson_count(p.law, p.seed, d.key,
                                                                      model::kPoissonStream + static_cast<std::uint32_t>(k), 0, t));
    }
  }
  const auto span = [&](long begin, long end) {
    double kick[kNeuronSpan];
    std::uint64_t words[kNeuronSpan + 4];  // 2 per pair
    const long len = end - begin;
    const auto g0 = static_cast<std::uint64_t>(d.first + begin);  // global index of the span's first neuron
    const std::uint64_t pair0 = g0 >> 1;
    const long pairs = static_cast<long>(((g0 + static_cast<std::uint64_t>(len) - 1) >> 1) - pair0 + 1);
    if (d.noise) {
      pair_words(d.noise_seed, d.key, model::kNoiseStream, pair0, pairs, t, words);
      alignas(64) double z0[kNeuronSpan / 2 + 2];
      alignas(64) double z1[kNeuronSpan / 2 + 2];
      normal_pairs(words, pairs, z0, z1);  // model::standard_normal: one pair per two neurons
      const bool scalar = d.sigma_sqrt_dt.size() == 1;
      for (long i = 0; i < len; ++i) {
        const std::uint64_t g = g0 + static_cast<std::uint64_t>(i);
        const long j = static_cast<long>((g >> 1) - pair0);
        const double z = (g & 1u) != 0 ? z1[j] : z0[j];
        kick[i] = (scalar ? d.sigma_sqrt_dt[0] : d.sigma_sqrt_dt[static_cast<std::size_t>(begin + i)]) * z;
      }
    } else {
      for (long i = 0; i < len; ++i) kick[i] = 0.0;
    }
    for (std::size_t k = 0; k < d.poisson.size(); ++k) {
      const auto& p = d.poisson[k];
      if (p.shared) {
        for (long i = 0; i < len; ++i) kick[i] += shared[k];
        continue;
      }
      if (!(p.law.lambda > 0.0)) continue;
      const std::uint32_t stream = model::kPoissonStream + static_cast<std::uint32_t>(k);
      if (model::poisson_inverts(p.law)) {  // model::poisson_count's inversion, the words drawn first
        pair_words(p.seed, d.key, stream, pair0, pairs, t, words);
#ifdef QIFSIM_AVX2_COPIES
        if (use_avx2(true)) {
          add_inverted_counts_avx2(p.law, p.weight, words, g0, pair0, len, kick);
          continue;
        }
#endif
        add_inverted_counts_baseline(p.law, p.weight, words, g0, pair0, len, kick);
      } else {
        for (long i = 0; i < len; ++i) {
          kick[i] += p.weight * static_cast<double>(model::poisson_count(p.law, p.seed, d.key, stream, g0 + static_cast<std::uint64_t>(i), t));
        }
      }
    }
    for (long i = 0; i < len; ++i) v[begin + i] = static_cast<T>(static_cast<double>(v[begin + i]) + kick[i]);
  };
  const long count = static_cast<long>(n);
  if (count >= kParallelNeurons) {
#pragma omp parallel for schedule(static)
    for (long b = 0; b < count; b += kNeuronSpan) span(b, b + kNeuronSpan < count ? b + kNeuronSpan : count);
  } else {
    for (long b = 0; b < count; b += kNeuronSpan) span(b, b + kNeuronSpan < count ? b + kNeuronSpan : count);
  }
  if (reset != nullptr) {
    for (long i : spiked) v[i] = reset_scalar ? reset[0] : reset[i];
  }
}

template void add_stochastic_input<float>(const CpuStochasticInput&, float*, std::int64_t, std::int64_t,
                                          const std::vector<long>&, const float*, bool);
template void add_stochastic_input<double>(const CpuStochasticInput&, double*, std::int64_t, std::int64_t,
                                           const std::vector<long>&, const double*, bool);

}  // namespace qifsim::detail
