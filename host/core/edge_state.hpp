// host/core/edge_state.hpp - the state of an edge with delays or a filter as both engines
// exchange it (Engine::edge_state, checkpoints): source units x columns, row-major, columns =
// max delay + 1 (1 for a filter alone), column c being the buffer's logical column c (physical
// column (head + c) % columns). A state set this way continues with head 0, bit for bit.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "qifsim/error.hpp"
#include "qifsim/weights.hpp"

namespace qifsim::detail {

/// Columns of an edge's delay buffer: max delay + 1 (0: no delays, a filter alone or nothing).
inline std::int64_t edge_buffer_columns(const EdgeOptions& o) {
  std::int64_t columns = 0;
  for (std::int64_t d : o.delays) columns = std::max(columns, d + 1);
  return columns;
}

/// Logical state (double) from a physical buffer of n x columns values with its head.
template <class T>
std::vector<double> logical_edge_state(const T* buffer, std::int64_t n, std::int64_t columns, std::int64_t head) {
  const std::int64_t C = columns > 0 ? columns : 1;
  std::vector<double> out(static_cast<std::size_t>(n * C));
  for (std::int64_t r = 0; r < n; ++r) {
    for (std::int64_t c = 0; c < C; ++c) {
      out[static_cast<std::size_t>(r * C + c)] = static_cast<double>(buffer[r * C + (head + c) % C]);
    }
  }
  return out;
}

/// Throws unless `values` holds an edge state of n x columns values (`what` names the edge).
inline void require_edge_state_size(const std::vector<double>& values, std::int64_t n, std::int64_t columns,
                                    const std::string& what) {
  const std::int64_t C = columns > 0 ? columns : 1;
  if (static_cast<std::int64_t>(values.size()) != n * C) {
    throw InvalidArgument(what + ": a state of " + std::to_string(values.size()) + " values; the edge holds " +
                          std::to_string(n) + " x " + std::to_string(C));
  }
}

/// Throws unless `values` is empty (the state of an edge without delays or a filter).
inline void require_no_edge_state(const std::vector<double>& values, const std::string& what) {
  if (!values.empty()) {
    throw InvalidArgument(what + ": " + std::to_string(values.size()) +
                          " values for an edge without delays or a filter, which holds no state");
  }
}

}  // namespace qifsim::detail
