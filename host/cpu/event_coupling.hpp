// host/cpu/event_coupling.hpp - where the CPU applies event-driven coupling. With one tau_s, a
// step maps s to c s + spikes (c = 1 - dt/tau_s), so J s becomes c (J s) + the columns of J
// of the neurons that spiked: O(N) plus O(N) per spike instead of O(N^2). Each value adds its
// terms in a fixed order (ascending neuron), so the result does not depend on the thread
// count; it differs from the dense product by rounding, which the dense resync bounds.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace qifsim::detail {

// The event-driven coupling does N (1 + spikes) additions per step: threads pay off sooner.
constexpr std::int64_t kParallelCoupling = 4096;

/// y <- c y + the columns Jt[j * n ..] of every j with fired[j] != 0, in ascending j;
/// fired_list receives those j.
template <class T>
void couple_from_spikes(T* y, const T* Jt, const T* fired, std::vector<long>& fired_list, long n, T c) {
  fired_list.clear();
  for (long j = 0; j < n; ++j) {
    if (fired[static_cast<std::size_t>(j)]) fired_list.push_back(j);
  }
  const long* list = fired_list.data();
  const long spikes = static_cast<long>(fired_list.size());
  constexpr long kChunk = 1024;  // a chunk of y stays in L1 while the columns stream by
  auto chunk = [&](long begin) {
    const long end = std::min(n, begin + kChunk);
    for (long i = begin; i < end; ++i) y[i] *= c;
    for (long q = 0; q < spikes; ++q) {
      const T* col = Jt + list[q] * n;
      for (long i = begin; i < end; ++i) y[i] += col[i];
    }
  };
  if (n >= kParallelCoupling) {
#pragma omp parallel for schedule(static)
    for (long b = 0; b < n; b += kChunk) chunk(b);
  } else {
    for (long b = 0; b < n; b += kChunk) chunk(b);
  }
}

/// J's columns made contiguous (Jt[j * n + i] = J[i * n + j]), once per run.
template <class T>
void columns_of(const std::vector<T>& J, std::vector<T>& Jt, std::size_t n) {
  if (Jt.size() == n * n) return;
  Jt.resize(n * n);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) Jt[j * n + i] = J[i * n + j];
  }
}

}  // namespace qifsim::detail
