// qifsim/sweep.hpp - a parameter sweep: many members of one network in one run.
//
//   qifsim::RunOptions opt;
//   opt.sweep.keys = {qifsim::SweepKey::numbers("qif.eta", {-6.0, -5.0, -4.0}),
//                     qifsim::SweepKey::numbers("input.scale", {1.0, 2.0, 3.0})};   // zipped: 3 members
//   qifsim::Observer obs = net.run(inputs, opt);   // every series: samples x 3 x width
//
// Members share the graph and the weights (J is held once and, in each step, read once for
// all of them); each has its own values of the swept keys. See RunOptions::sweep.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace qifsim {

/// One value of a swept key: one number, or one value per neuron of the population.
struct SweepValue {
  std::vector<double> values;  ///< 1 value, or one per neuron
  std::string label{};         ///< its name in members.csv (a file name); empty: the number itself
};

/// A swept key and its values. Keys:
///   "<population>.<parameter>"   any parameter of the population's model ("qif.eta", "qif.k", ...)
///   "<population>.<state>0"      an initial value ("qif.v0", "qif.s0", ...)
///   "<population>.sigma"         the amplitude of its noise (Network::add_noise)
///   "<population>.noise_seed"    the seed of its noise (an integer, 0 to 2^53)
///   "<population>.poisson_seed"  the seed of all its Poisson inputs
///   "input.scale"                a factor on the member's network input, one number
struct SweepKey {
  std::string key;
  std::vector<SweepValue> values;
  /// A key whose values are numbers.
  static SweepKey numbers(std::string key, const std::vector<double>& values);
};

enum class SweepMode {
  Zip,   ///< member b takes value b of every key (every key has as many values)
  Grid,  ///< one member per combination, the last key varying fastest
};

/// The keys of a sweep and how they combine. Empty: no sweep (a single network).
struct Sweep {
  std::vector<SweepKey> keys;
  SweepMode mode = SweepMode::Zip;

  bool empty() const { return keys.empty(); }
  /// The number of members; InvalidArgument where keys have no values, or (zip) lists of
  /// unequal length, naming the keys and their lengths.
  std::int64_t members() const;
  /// Which value of each key (in keys order) member `member` takes.
  std::vector<std::size_t> member_values(std::int64_t member) const;
};

/// A swept value as members.csv writes it: its label, or its number (the shortest text that
/// reads back as it), or "<n> values".
std::string sweep_value_text(const SweepValue& value);

/// "zip" or "grid"; parse_sweep_mode throws InvalidArgument for anything else.
const char* to_string(SweepMode mode);
SweepMode parse_sweep_mode(const std::string& text);

}  // namespace qifsim
