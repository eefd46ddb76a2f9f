// host/model/stochastic.hpp - the random numbers of noise and Poisson input, written once for the
// CPU loop and the CUDA kernel (plain C++ under g++, __host__ __device__ under nvcc).
//
// Every number is a pure function of (seed, population, stream, neuron, step): Philox4x32-10
// from Random123 (counter-based) keyed by the seed and a hash of the population's name, its
// counter holding the neuron (or neuron pair), the stream and the step. No generator state is
// carried between steps, so the numbers do not depend on the thread count, on how the neurons
// are split over threads or ranks, or on where a run was stopped and resumed.
#pragma once

#include <Random123/philox.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "model/host_device.hpp"

namespace qifsim::model {

/// Streams of one population: white noise, then Poisson input k at kPoissonStream + k.
constexpr std::uint32_t kNoiseStream = 0;
constexpr std::uint32_t kPoissonStream = 1;
/// Neuron indices below 2^40 fit the counter beside a 24-bit stream-and-attempt field.
constexpr std::int64_t kMaxStochasticNeurons = std::int64_t(1) << 40;

/// FNV-1a of a population's name: the second key word (populations with one seed differ).
inline std::uint32_t population_key(const char* name) {
  std::uint32_t h = 2166136261u;
  for (const char* c = name; *c != '\0'; ++c) {
    h ^= static_cast<unsigned char>(*c);
    h *= 16777619u;
  }
  return h;
}

/// Four 32-bit random words for (seed, population key, stream, attempt, index, step).
/// `attempt` (0..255) numbers the draws one neuron may need in one step (Poisson rejection).
QIFSIM_HD inline r123::Philox4x32::ctr_type random_words(std::uint64_t seed, std::uint32_t population,
                                                         std::uint32_t stream, std::uint32_t attempt,
                                                         std::uint64_t index, std::uint64_t step) {
  r123::Philox4x32 rng;
  const r123::Philox4x32::key_type key = {{static_cast<std::uint32_t>(seed),
                                           static_cast<std::uint32_t>(seed >> 32) ^ population}};
  const std::uint32_t tag = ((stream & 0xffffu) << 8) | (attempt & 0xffu);  // 24 bits
  const r123::Philox4x32::ctr_type ctr = {{static_cast<std::uint32_t>(index),
                                           static_cast<std::uint32_t>(index >> 32) | (tag << 8),
                                           static_cast<std::uint32_t>(step), static_cast<std::uint32_t>(step >> 32)}};
  return rng(ctr, key);
}

QIFSIM_HD_INLINE std::uint64_t word64(std::uint32_t lo, std::uint32_t hi) {
  return static_cast<std::uint64_t>(lo) | (static_cast<std::uint64_t>(hi) << 32);
}

/// The bits of a double and back (memcpy: defined behaviour, one move after optimisation).
QIFSIM_HD_INLINE std::uint64_t double_bits(double x) {
  std::uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}
QIFSIM_HD_INLINE double bits_double(std::uint64_t b) {
  double x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}

/// A uniform number in (0, 1) from two words: (2k + 1) / 2^53 for the top 52 bits k, exact in
/// double, symmetric about 1/2 and never 0 or 1. Made from bits, not by an integer conversion
/// (x86 before AVX-512 has no vector int64-to-double): 1 + k 2^-52 has k as its fraction, less 1
/// is k 2^-52 exactly, plus 2^-53 is (2k + 1) 2^-53 exactly (2k + 1 < 2^53).
QIFSIM_HD_INLINE double uniform01(std::uint64_t word) {
  return (bits_double(0x3ff0000000000000ULL | (word >> 12)) - 1.0) + 0x1p-53;
}
QIFSIM_HD_INLINE double uniform01(std::uint32_t lo, std::uint32_t hi) { return uniform01(word64(lo, hi)); }

/// ln(u) for a normal positive u, to about 2 ulp, in plain arithmetic that vectorises and
/// gives the same bits on every CPU and GPU where a * b + c is rounded twice (no FMA
/// contraction; the library is built so): u = m 2^e with m in [sqrt(1/2), sqrt(2)), ln m =
/// 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.1716, by its series to s^23 (error below 1e-18),
/// e ln 2 added in two parts.
QIFSIM_HD_INLINE double log_normal_positive(double u) {
  const std::uint64_t b = double_bits(u);
  // The exponent field as a double without an integer conversion: 2^52 + field, less 2^52.
  double e = (bits_double(0x4330000000000000ULL | ((b >> 52) & 0x7ffu)) - 0x1p52) - 1023.0;
  double m = bits_double((b & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL);  // [1, 2)
  const bool high = m > 1.4142135623730951;
  m = high ? m * 0.5 : m;
  e = high ? e + 1.0 : e;
  const double f = m - 1.0;
  const double s = f / (2.0 + f);
  const double s2 = s * s;
  double p = 1.0 / 23.0;
  p = p * s2 + 1.0 / 21.0;
  p = p * s2 + 1.0 / 19.0;
  p = p * s2 + 1.0 / 17.0;
  p = p * s2 + 1.0 / 15.0;
  p = p * s2 + 1.0 / 13.0;
  p = p * s2 + 1.0 / 11.0;
  p = p * s2 + 1.0 / 9.0;
  p = p * s2 + 1.0 / 7.0;
  p = p * s2 + 1.0 / 5.0;
  p = p * s2 + 1.0 / 3.0;
  const double log_m = 2.0 * s + 2.0 * s * (s2 * p);
  constexpr double kLn2Hi = 0.693147180369123816490;   // ln 2, its high 33 bits (e * kLn2Hi exact)
  constexpr double kLn2Lo = 1.90821492927058770002e-10;  // ln 2 - kLn2Hi
  return e * kLn2Hi + (log_m + e * kLn2Lo);
}

/// cos(pi v) and sin(pi v) for v in [-1, 1], to a few ulp, as log_normal_positive: the nearest
/// quarter turn n / 2 taken off exactly, the rest (|t| <= pi / 4) by Taylor series to t^18 and
/// t^17 (error below 1e-18), then turned by n quarter turns (selects, no branches).
QIFSIM_HD_INLINE void cos_sin_pi(double v, double& c, double& s) {
  const double n = std::floor(2.0 * v + 0.5);  // the nearest quarter turn, -2 .. 2
  const double y = v - 0.5 * n;                 // exact, |y| <= 1/4
  const double t = 3.14159265358979323846 * y;
  const double t2 = t * t;
  double p = 1.0 / 355687428096000.0;  // 1/17!
  p = p * t2 - 1.0 / 1307674368000.0;  // 1/15!
  p = p * t2 + 1.0 / 6227020800.0;     // 1/13!
  p = p * t2 - 1.0 / 39916800.0;       // 1/11!
  p = p * t2 + 1.0 / 362880.0;         // 1/9!
  p = p * t2 - 1.0 / 5040.0;           // 1/7!
  p = p * t2 + 1.0 / 120.0;            // 1/5!
  p = p * t2 - 1.0 / 6.0;              // 1/3!
  const double sin_t = t + t * (t2 * p);
  double q = -1.0 / 6402373705728000.0;  // 1/18!
  q = q * t2 + 1.0 / 20922789888000.0;   // 1/16!
  q = q * t2 - 1.0 / 87178291200.0;      // 1/14!
  q = q * t2 + 1.0 / 479001600.0;        // 1/12!
  q = q * t2 - 1.0 / 3628800.0;          // 1/10!
  q = q * t2 + 1.0 / 40320.0;            // 1/8!
  q = q * t2 - 1.0 / 720.0;              // 1/6!
  q = q * t2 + 1.0 / 24.0;               // 1/4!
  q = q * t2 - 1.0 / 2.0;                // 1/2!
  const double cos_t = 1.0 + t2 * q;
  // theta = t + n pi/2: quarter turn k = n mod 4 maps (cos t, sin t) to (cos t, sin t),
  // (-sin t, cos t), (-cos t, -sin t), (sin t, -cos t) for k = 0, 1, 2, 3.
  const bool odd = n == 1.0 || n == -1.0;
  const bool cos_negative = n == 1.0 || n == 2.0 || n == -2.0;
  const bool sin_negative = n == 2.0 || n == -2.0 || n == -1.0;
  const double c0 = odd ? sin_t : cos_t;
  const double s0 = odd ? cos_t : sin_t;
  c = cos_negative ? -c0 : c0;
  s = sin_negative ? -s0 : s0;
}

/// A pair of independent standard normal numbers from two 64-bit words (Box-Muller): the radius
/// sqrt(-2 ln u) from the first (u uniform in (0, 1)), the angle pi v from the second (v = 2 u'
/// - 1, uniform in (-1, 1)), in log_normal_positive's and cos_sin_pi's arithmetic.
QIFSIM_HD_INLINE void normal_pair(std::uint64_t a, std::uint64_t b, double& z0, double& z1) {
  const double r = std::sqrt(-2.0 * log_normal_positive(uniform01(a)));
  double c, s;
  cos_sin_pi(2.0 * uniform01(b) - 1.0, c, s);
  z0 = r * c;
  z1 = r * s;
}

/// The standard normal number of `neuron` at `step` (noise stream): one Box-Muller pair per two
/// neurons (2j, 2j+1), each neuron taking its half, so a neuron's number is the same whichever
/// neurons are computed beside it.
QIFSIM_HD inline double standard_normal(std::uint64_t seed, std::uint32_t population, std::uint64_t neuron,
                                        std::uint64_t step) {
  const auto w = random_words(seed, population, kNoiseStream, 0, neuron >> 1, step);
  double z0, z1;
  normal_pair(word64(w[0], w[1]), word64(w[2], w[3]), z0, z1);
  return (neuron & 1u) != 0 ? z1 : z0;
}

/// Below this mean a count is drawn by inversion (a table of the distribution function with a
/// guide table into it: one or two comparisons on average), above it by transformed rejection
/// (a bounded number of uniforms whatever lambda is).
constexpr double kPoissonInversionMax = 100.0;
/// Entries of the inversion table: P(k >= 256) < 1e-36 for lambda < 100, below double rounding.
constexpr int kPoissonTable = 256;
/// Bins of the guide table: guide[b] is the smallest k with cdf[k] >= b / kPoissonGuide.
constexpr int kPoissonGuide = 64;

/// What a Poisson count with mean `lambda` per step needs beyond the draw (computed once).
struct PoissonLaw {
  double lambda = 0.0;
  /// Inversion (lambda < kPoissonInversionMax): cdf[k] = P(count <= k), the last entry 1.
  double cdf[kPoissonTable] = {};
  std::int32_t guide[kPoissonGuide] = {};
  // PTRS (Hoermann 1993, transformed rejection with squeeze) for large lambda:
  double b = 0.0, a = 0.0, inv_alpha = 0.0, v_r = 0.0, log_lambda = 0.0, log_inv_alpha = 0.0;
};

inline PoissonLaw poisson_law(double lambda) {
  PoissonLaw p;
  p.lambda = lambda;
  double pk = std::exp(-lambda), sum = pk;
  for (int k = 0; k < kPoissonTable; ++k) {
    p.cdf[k] = sum < 1.0 ? sum : 1.0;
    pk *= lambda / static_cast<double>(k + 1);
    sum += pk;
  }
  p.cdf[kPoissonTable - 1] = 1.0;
  for (int b = 0, k = 0; b < kPoissonGuide; ++b) {
    while (p.cdf[k] < static_cast<double>(b) / kPoissonGuide) ++k;  // ends: the last entry is 1
    p.guide[b] = k;
  }
  const double slam = std::sqrt(lambda);
  p.log_lambda = std::log(lambda > 0.0 ? lambda : 1.0);
  p.b = 0.931 + 2.53 * slam;
  p.a = -0.059 + 0.02483 * p.b;
  p.inv_alpha = 1.1239 + 1.1328 / (p.b - 3.4);
  p.v_r = 0.9277 - 3.6224 / (p.b - 2.0);
  p.log_inv_alpha = std::log(p.inv_alpha);
  return p;
}

/// True when `law` draws by inversion (one uniform per count, from words shared by a pair of
/// neurons: poisson_pair_words); else by rejection (poisson_count's own draws per neuron).
QIFSIM_HD inline bool poisson_inverts(const PoissonLaw& law) { return law.lambda < kPoissonInversionMax; }

/// The words the inversion of neurons 2j and 2j+1 draws from (j = neuron >> 1).
QIFSIM_HD inline r123::Philox4x32::ctr_type poisson_pair_words(std::uint64_t seed, std::uint32_t population,
                                                               std::uint32_t stream, std::uint64_t neuron,
                                                               std::uint64_t step) {
  return random_words(seed, population, stream, 0, neuron >> 1, step);
}

/// A neuron's uniform in (0, 1] from its pair's words: words 0, 1 for the even neuron, 2, 3 for
/// the odd one.
QIFSIM_HD inline double pair_uniform(const r123::Philox4x32::ctr_type& w, std::uint64_t neuron) {
  return (neuron & 1u) != 0 ? uniform01(w[2], w[3]) : uniform01(w[0], w[1]);
}

/// Inversion: the smallest k with cdf[k] >= u (u in (0, 1)), i.e. the number of entries below u
/// (the table rises): from the guide's k for u's bin (below it every entry is below u), one by
/// one. (The CPU counts the first 16 entries of the table for several neurons at
/// once instead: the same k.)
QIFSIM_HD inline std::int64_t poisson_invert(const PoissonLaw& law, double u) {
  int k = law.guide[static_cast<int>(u * kPoissonGuide)];  // u * 64 is exact, below 64
  while (k < kPoissonTable - 1 && law.cdf[k] < u) ++k;
  return k;
}

/// log(k!) for a whole k >= 0: Stirling's series for log Gamma(x) at x >= 10 (error below 2e-14),
/// smaller x raised by the recurrence log Gamma(x) = log Gamma(x + 1) - log x. (std::lgamma
/// writes the global signgam: not thread safe.) Its logarithms are log_normal_positive's, as
/// every logarithm the device code takes: the same bits on the CPU and the GPU.
QIFSIM_HD inline double log_factorial(double k) {
  double x = k + 1.0, shift = 0.0;
  while (x < 10.0) {
    shift += log_normal_positive(x);
    x += 1.0;
  }
  const double r = 1.0 / x, r2 = r * r;
  const double series = r * (1.0 / 12.0 - r2 * (1.0 / 360.0 - r2 * (1.0 / 1260.0 - r2 * (1.0 / 1680.0 - r2 / 1188.0))));
  return (x - 0.5) * log_normal_positive(x) - x + 0.91893853320467274178 + series - shift;  // + log(2 pi) / 2
}

/// The Poisson count of `neuron` (or 0 for input shared by all) at `step` in `stream`.
QIFSIM_HD inline std::int64_t poisson_count(const PoissonLaw& law, std::uint64_t seed, std::uint32_t population,
                                            std::uint32_t stream, std::uint64_t neuron, std::uint64_t step) {
  if (!(law.lambda > 0.0)) return 0;
  if (poisson_inverts(law)) {
    return poisson_invert(law, pair_uniform(poisson_pair_words(seed, population, stream, neuron, step), neuron));
  }
  // Transformed rejection (PTRS): two uniforms per attempt, accepted with probability > 0.9.
  for (std::uint32_t attempt = 0; attempt < 256; ++attempt) {
    const auto w = random_words(seed, population, stream, attempt, neuron, step);
    const double u = uniform01(w[0], w[1]) - 0.5;
    const double v = uniform01(w[2], w[3]);
    const double us = 0.5 - std::fabs(u);
    const double k = std::floor((2.0 * law.a / us + law.b) * u + law.lambda + 0.43);
    if (us >= 0.07 && v <= law.v_r) return static_cast<std::int64_t>(k);
    if (k < 0.0 || (us < 0.013 && v > us)) continue;
    const double lhs = log_normal_positive(v) + law.log_inv_alpha - log_normal_positive(law.a / (us * us) + law.b);
    const double rhs = -law.lambda + k * law.log_lambda - log_factorial(k);
    if (lhs <= rhs) return static_cast<std::int64_t>(k);
  }
  return static_cast<std::int64_t>(law.lambda);  // unreachable in practice (p < 0.1^256)
}

}  // namespace qifsim::model
