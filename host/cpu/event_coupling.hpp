// host/cpu/event_coupling.hpp - where the CPU applies event-driven coupling. With one tau_s, a
// step maps s to c s + spikes (c = 1 - dt/tau_s), so J s becomes c (J s) + the columns of J
// of the neurons that spiked: O(N) plus O(N) per spike instead of O(N^2). Each value adds its
// terms in a fixed order (ascending neuron), so the result does not depend on the thread
// count; it differs from the dense product by rounding, which the dense resync bounds.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace qifsim::detail {

// The event-driven coupling does N (1 + spikes) additions per step: threads pay off sooner.
constexpr std::int64_t kParallelCoupling = 4096;

/// y <- c y + the columns Jt[j * n ..] of every j in `fired` (ascending), in that order.
template <class T>
void couple_from_spikes(T* y, const T* Jt, const std::vector<long>& fired, long n, T c) {
  const long* list = fired.data();
  const long spikes = static_cast<long>(fired.size());
  constexpr long kChunk = 1024;  // a chunk of y stays in L1 while the columns stream by
  auto chunk = [&](long begin) {
    const long end = std::min(n, begin + kChunk);
    if (c != T(1)) {
      for (long i = begin; i < end; ++i) y[i] *= c;
    }
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

/// y = J x (y + J x with `accumulate`) from J's columns (Jt[j * rows + i] = J[i][j]), each y_i
/// summed in the order of gemv_loop (host/cpu/blas.hpp): eight lanes, lane k taking columns
/// k, k + 8, ... below the last whole group of eight, then ((l0 + l1) + (l2 + l3)) + ((l4 + l5) +
/// (l6 + l7)), then the remaining columns, so it gives gemv_loop's bits. Rows go in chunks whose
/// eight lanes stay in L1 while the columns stream by; no thread count changes a value.
template <class T>
void product_from_columns(const T* Jt, const T* x, bool accumulate, T* y, long rows, long cols) {
  constexpr long kChunk = 256;
  constexpr long kLanes = 8;
  const long whole = cols - cols % kLanes;
  auto chunk = [&](long begin) {
    const long end = std::min(rows, begin + kChunk);
    const long len = end - begin;
    T lane[kLanes][kChunk];
    for (long k = 0; k < kLanes; ++k) {
      for (long i = 0; i < len; ++i) lane[k][i] = T(0);
    }
    for (long j = 0; j < whole; j += kLanes) {
      for (long k = 0; k < kLanes; ++k) {
        const T xj = x[j + k];
        const T* col = Jt + (j + k) * rows + begin;
        T* acc = lane[k];
        for (long i = 0; i < len; ++i) acc[i] += col[i] * xj;
      }
    }
    for (long i = 0; i < len; ++i) {
      T sum = ((lane[0][i] + lane[1][i]) + (lane[2][i] + lane[3][i])) + ((lane[4][i] + lane[5][i]) + (lane[6][i] + lane[7][i]));
      for (long j = whole; j < cols; ++j) sum += Jt[j * rows + begin + i] * x[j];
      y[begin + i] = accumulate ? sum + y[begin + i] : sum;
    }
  };
  if (rows * cols >= kParallelCoupling * 256) {
#pragma omp parallel for schedule(static)
    for (long b = 0; b < rows; b += kChunk) chunk(b);
  } else {
    for (long b = 0; b < rows; b += kChunk) chunk(b);
  }
}

/// An n x n row-major matrix transposed in place, tile by tile (tiles (a, b) and (b, a)
/// swapped), so that J's columns become contiguous without a second copy.
template <class T>
void transpose_square(T* m, long n) {
  constexpr long kTile = 32;
  for (long a = 0; a < n; a += kTile) {
    for (long b = a; b < n; b += kTile) {
      const long a_end = std::min(n, a + kTile), b_end = std::min(n, b + kTile);
      for (long i = a; i < a_end; ++i) {
        for (long j = (a == b ? i + 1 : b); j < b_end; ++j) std::swap(m[i * n + j], m[j * n + i]);
      }
    }
  }
}

}  // namespace qifsim::detail
