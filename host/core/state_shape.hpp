// host/core/state_shape.hpp - how a population's (or function node's) values are laid out in an
// engine: `members` copies of the network (an ensemble), each holding the neurons [lo, hi) of
// the node's global_n (one rank's range), member-major: value (m, i) of a state array sits at
// m * local_n() + (i - lo), each member's neurons contiguous. A parameter holds one value or
// local_n() values per member, with a member stride of 0 where every member shares them.
// A single process without an ensemble has {1, n, 0, n} (StateShape::whole).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "qifsim/error.hpp"
#include "qifsim/population.hpp"

namespace qifsim::detail {

struct StateShape {
  std::int64_t members = 1;
  std::int64_t global_n = 0;
  std::int64_t lo = 0;
  std::int64_t hi = 0;

  /// One member holding all n neurons.
  static StateShape whole(std::int64_t n) { return {1, n, 0, n}; }

  std::int64_t local_n() const { return hi - lo; }
  /// Values in one state array: members x local_n().
  std::int64_t size() const { return members * local_n(); }
  bool is_whole() const { return members == 1 && lo == 0 && hi == global_n; }
  /// The position of (member, global neuron index) in a state array.
  std::int64_t at(std::int64_t member, std::int64_t neuron) const { return member * local_n() + (neuron - lo); }

  bool operator==(const StateShape& o) const {
    return members == o.members && global_n == o.global_n && lo == o.lo && hi == o.hi;
  }
  bool operator!=(const StateShape& o) const { return !(*this == o); }
};

/// InvalidArgument naming `node` unless members >= 1 and 0 <= lo <= hi <= global_n.
inline void check_shape(const StateShape& shape, const std::string& node) {
  if (shape.members < 1 || shape.global_n < 0 || shape.lo < 0 || shape.lo > shape.hi || shape.hi > shape.global_n) {
    throw InvalidArgument("node '" + node + "': state shape {members " + std::to_string(shape.members) +
                          ", global_n " + std::to_string(shape.global_n) + ", lo " + std::to_string(shape.lo) +
                          ", hi " + std::to_string(shape.hi) +
                          "} is not a range of the node's neurons (members >= 1, 0 <= lo <= hi <= global_n)");
  }
}

/// A parameter's values as a shape holds them, shared by every member (member stride 0): its one
/// value, or the local range [lo, hi) of its global_n values.
template <class T>
std::vector<T> local_param(const Param& p, const StateShape& shape) {
  if (p.is_scalar()) return {static_cast<T>(p.values[0])};
  std::vector<T> out(static_cast<std::size_t>(shape.local_n()));
  for (std::int64_t i = shape.lo; i < shape.hi; ++i) out[static_cast<std::size_t>(i - shape.lo)] = static_cast<T>(p.at(i));
  return out;
}

/// A value per (member, local neuron), member-major, from one value or global_n values that
/// every member starts from (an initial state).
template <class T>
std::vector<T> member_major(const Param& p, const StateShape& shape) {
  std::vector<T> out(static_cast<std::size_t>(shape.size()));
  for (std::int64_t m = 0; m < shape.members; ++m) {
    for (std::int64_t i = shape.lo; i < shape.hi; ++i) out[static_cast<std::size_t>(shape.at(m, i))] = static_cast<T>(p.at(i));
  }
  return out;
}

}  // namespace qifsim::detail
