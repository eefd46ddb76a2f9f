// host/config/config_values.hpp - a config's values: parameters, weight matrices, the input, the fingerprint.
#pragma once

#ifdef QIFSIM_HAVE_TOML

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "qifsim/checkpoint.hpp"
#include "qifsim/matrix.hpp"
#include "qifsim/network.hpp"
#include "qifsim/population.hpp"
#include "config/toml_reader.hpp"

namespace qifsim::config_detail {

/// Adds key = text (or key = values, a matrix of `rows`) to a run's fingerprint (qifsim/checkpoint.hpp).
void fingerprint_text(std::vector<FingerprintEntry>& fp, const std::string& key, const std::string& text);
void fingerprint_values(std::vector<FingerprintEntry>& fp, const std::string& key, const std::vector<double>& values,
                        std::int64_t rows = -1);

/// Adds key = weights (any kind; dense ones as fingerprint_values does) to a run's fingerprint.
void fingerprint_weights(std::vector<FingerprintEntry>& fp, const std::string& key, const Weights& w);

/// A parameter of n neurons: a number, an array, a .npy file or a generator table; `fallback` when absent.
Param read_param(const TableReader& r, const std::string& k, std::int64_t n, const Param& fallback);

/// A rows x cols matrix: a .npy (dense) or .npz (sparse) file, inline rows or a generator table;
/// empty when absent.
Weights read_weights(const TableReader& r, const std::string& k, std::int64_t rows, std::int64_t cols,
                     const std::string& what);

/// A population table's noise (sigma, noise_seed) and Poisson input (`poisson`: a table or an
/// array of tables {rate, weight, sources, shared, seed}), added to `net` (population `name`, n
/// neurons) and to the fingerprint; returns the words the node's description gains.
std::string read_stochastic_input(const TableReader& r, const std::string& name, std::int64_t n, Network& net,
                                  std::vector<FingerprintEntry>& fp);

/// The [sweep] table (keys, lists of numbers and .npy files, mode), checked against the compiled
/// `net` and added to the fingerprint; empty without one.
Sweep read_sweep(const TableReader& top, const Network& net, std::vector<FingerprintEntry>& fp);

/// The inputs, steps x m: an [input] file, value, steps, pulses and sines (zeros without [input]),
/// as `computed`: the rows made when fetched (a file's rows read then, the other entries added),
/// never a steps x m array. `description`: how, for `qifsim check`.
struct ConfigInputs {
  InputSource computed;
  std::string description;
  std::int64_t members = 0;  // a file of steps x members x width: its members (0: no member axis)
};
ConfigInputs read_input(const TableReader& top, double dt, std::optional<std::int64_t> steps, std::int64_t m,
                        const std::string& input_node);

}  // namespace qifsim::config_detail

#endif  // QIFSIM_HAVE_TOML
