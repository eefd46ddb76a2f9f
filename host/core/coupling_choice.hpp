// host/core/coupling_choice.hpp - which coupling operator a population or an edge gets: the run
// option `coupling` (CouplingMode) applied to facts about the weights that do not depend on the
// state, so one network always gets the same choice. Shared by the engines, the memory check
// and the run summary.
#pragma once

#include <cstdint>
#include <string>

#include "qifsim/types.hpp"
#include "qifsim/weights.hpp"

namespace qifsim::detail {

/// Below this N, `auto` keeps a dense J dense and takes no events: small networks keep the
/// dense product, bit for bit RectiPy's float64 arithmetic. From 512 on, a sparse-enough J with
/// one tau_s runs events (RectiPy's qif_example.py, N = 1000 at 10% density: 9.5x the dense
/// product's speed, the same recording to 5e-16; bench/RESULTS.md, section 8).
constexpr std::int64_t kAutoMinN = 512;
/// `auto` stores a dense J of N >= kAutoMinN sparse when fewer than this fraction of its
/// entries are nonzero (measured, bench/RESULTS.md section 7).
constexpr double kAutoSparseDensity = 0.25;
/// Events recompute J s with a fresh product every this many steps unless `resync` says.
constexpr std::int64_t kDefaultResync = 1000;

/// What the engines need to know about weights, computed once (a dense matrix is scanned).
struct WeightsFacts {
  Weights::Kind kind = Weights::Kind::None;
  std::int64_t rows = 0, cols = 0;
  std::int64_t stored = 0;    // entries held: Weights::synapses()
  std::int64_t nonzeros = 0;  // entries that are not 0
  bool uniform = false;       // every entry of the rows x cols matrix equals `value`
  double value = 0.0;
};
WeightsFacts weights_facts(const Weights& w);
/// The facts of `fraction` of the rows of weights with facts `f` (a rank's share of a split
/// population's J; the nonzeros taken as spread evenly): what its operator takes in memory.
WeightsFacts rows_share(WeightsFacts f, double fraction);

/// The storage an operator works on (Dense, Sparse or Procedural) and whether J s is updated
/// from the spikes.
/// The coupling a run asks for: RunOptions::coupling, or events where its former spelling,
/// event_coupling > 0, comes with coupling = auto.
inline CouplingMode requested_coupling(CouplingMode coupling, std::int64_t event_coupling) {
  return event_coupling > 0 && coupling == CouplingMode::Auto ? CouplingMode::Events : coupling;
}

struct CouplingChoice {
  CouplingMode storage = CouplingMode::Dense;
  bool events = false;
};

/// The operator of a population's recurrent J. `one_tau_s`: the population has a single tau_s
/// (events need it). Throws InvalidArgument naming the population when `requested` cannot apply
/// (procedural on unequal weights, events with one tau_s per neuron).
CouplingChoice choose_coupling(const std::string& population, const WeightsFacts& facts, bool one_tau_s,
                               CouplingMode requested);
/// The storage of an edge's weights (edges take no events: procedural where all entries are
/// equal and procedural is requested or auto applies, else dense or sparse).
CouplingMode choose_edge_storage(const WeightsFacts& facts, CouplingMode requested);

/// "dense", "sparse", "procedural", "events over sparse", ...
std::string describe(const CouplingChoice& c);

/// Bytes an operator holds for `facts` stored as `choice` in values of `value_bytes`, beyond
/// the graph's own copy of the weights.
double coupling_bytes(const WeightsFacts& facts, const CouplingChoice& choice, double value_bytes);

}  // namespace qifsim::detail
