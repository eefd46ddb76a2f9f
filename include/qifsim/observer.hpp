// qifsim/observer.hpp - recordings of a run, or of a hand-written loop.
//
// An Observer holds samples: per sample the step index, optionally the network output and
// the loss, and the variables named in its RecordVar list. Network::run fills it batch by
// batch from a fixed-capacity ring buffer; a custom loop fills it one sample at a time:
//
//   qifsim::Observer obs(net.dt(), /*record_output=*/true, /*record_loss=*/false,
//                        {{"qif", "v", /*mean=*/false}});
//   for (std::int64_t t = 0; t < steps; ++t) {
//     auto y = net.forward(inputs.row(t));
//     obs.record(t, y, 0.0, {net.get_var("qif", "v")});
//   }
//   qifsim::Matrix v = obs.to_matrix("qif", "v");   // samples x N
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "qifsim/matrix.hpp"

namespace qifsim {

namespace detail {
class ObserverEngineSide;
}  // namespace detail

/// One variable to record: node name, variable name, and whether to average over neurons.
struct RecordVar {
  std::string node;
  std::string var;
  bool mean = false;  ///< true: one number per sample (mean over the node's neurons)
  /// Record only these neurons (indices into the node), in this order: a series of
  /// neurons.size() values per sample. Empty: every neuron (or their mean).
  std::vector<std::int64_t> neurons{};
};

/// What an Observer records.
struct RecordSpec {
  bool output = true;              ///< the network output ("out"), window-averaged by run()
  bool loss = false;               ///< the loss ("loss"), window-averaged by test()
  std::vector<RecordVar> vars;     ///< variables, instantaneous at the sample's step
  /// Spiking populations whose every spike is recorded as an event (step, neuron): at every
  /// step from the cutoff on, whatever sampling_steps is (Observer::spike_steps).
  std::vector<std::string> spikes{};
  /// Members of an ensemble (RunOptions::sweep): every series holds, per sample, member 0's
  /// values, then member 1's, ... (samples x members x width). 1: a single network.
  std::int64_t members = 1;
};

class Observer;

/// Receives recordings batch by batch while they arrive (a file writer, for example), so
/// that a recording larger than memory can go to disk. Attach with Observer::add_sink.
class SampleSink {
 public:
  virtual ~SampleSink() = default;
  /// A run is about to record into `obs` (its series and widths are final): a sink may
  /// set up what the samples will go to (file sinks create their files here, so that a run
  /// killed before its first batch still leaves valid, empty files). Called before every
  /// run, also when resuming; the default does nothing.
  virtual void start(const Observer& obs) { (void)obs; }
  /// `count` samples: their step indices and, for each series in obs.keys() order,
  /// count x width values (row-major). Widths are final from the first call on.
  virtual void write(const Observer& obs, std::int64_t count, const std::int64_t* steps,
                     const std::vector<const double*>& series) = 0;
  /// `count` spike events of population obs.spec().spikes[pop]: their steps and neuron
  /// indices, in order (step, then ascending neuron). They arrive before the samples of the
  /// same steps. The default ignores them.
  virtual void write_spikes(const Observer& obs, std::size_t pop, std::int64_t count, const std::int64_t* steps,
                            const std::int64_t* neurons) {
    (void)obs, (void)pop, (void)count, (void)steps, (void)neurons;
  }
  /// The same for an ensemble (obs.members() > 1, write_spikes is not called): members[k] is
  /// the member event k belongs to, in order (step, then member, then ascending neuron). The
  /// default ignores them.
  virtual void write_member_spikes(const Observer& obs, std::size_t pop, std::int64_t count, const std::int64_t* steps,
                                   const std::int64_t* members, const std::int64_t* neurons) {
    (void)obs, (void)pop, (void)count, (void)steps, (void)members, (void)neurons;
  }
};

/// Recordings: samples x width per series, the step index of every sample and its time.
class Observer {
 public:
  /// An observer with RectiPy's arguments: step size, output/loss switches, variables.
  explicit Observer(double dt, bool record_output = true, bool record_loss = false,
                    std::vector<RecordVar> record_vars = {});
  Observer(double dt, RecordSpec spec);

  double dt() const { return dt_; }
  const RecordSpec& spec() const { return spec_; }

  /// Store one sample as given (manual use). `output` is ignored unless the output is
  /// recorded, `loss` unless the loss is; `vars` holds one vector per RecordVar, in order
  /// (a vector of N values for a `mean` variable is averaged here; of a variable with chosen
  /// `neurons`, those neurons' values are taken from it). Widths are fixed by the
  /// first sample; a later sample of another width, or a value that is not finite, is an
  /// InvalidArgument.
  void record(std::int64_t step, const std::vector<double>& output, double loss,
              const std::vector<std::vector<double>>& vars);

  /// Number of samples held.
  std::int64_t samples() const { return static_cast<std::int64_t>(steps_.size()); }
  /// Step index of every sample.
  const std::vector<std::int64_t>& steps() const { return steps_; }
  /// Time of every sample: step * dt.
  std::vector<double> times() const;

  /// Spike events of a population named in spec().spikes: the step of every spike and the
  /// neuron that fired (in an ensemble, with spike_members), in order of step, then ascending neuron (InvalidArgument for a
  /// population whose spikes are not recorded, or that went to the sinks only).
  const std::vector<std::int64_t>& spike_steps(const std::string& population) const;
  const std::vector<std::int64_t>& spike_neurons(const std::string& population) const;
  /// In an ensemble, the member of every spike (events in order of step, then member, then
  /// ascending neuron); empty for a single network.
  const std::vector<std::int64_t>& spike_members(const std::string& population) const;
  /// The time of every spike of `population`: step * dt.
  std::vector<double> spike_times(const std::string& population) const;
  /// The number of spikes of `population` recorded (also where they went to the sinks only).
  std::int64_t spike_count(const std::string& population) const;

  /// Series keys in recording order: "out", "loss", then "node.var" for each variable.
  std::vector<std::string> keys() const;
  /// The "node.var" keys of the recorded variables (RectiPy's recorded_state_variables).
  std::vector<std::string> recorded_state_variables() const;
  /// True when `key` names a recorded series.
  bool has(const std::string& key) const;
  /// Width of a series (output width, 1 for loss and means, N for per-neuron variables), per
  /// member of an ensemble.
  std::int64_t width(const std::string& key) const;
  /// Members of an ensemble (spec().members; 1 for a single network).
  std::int64_t members() const { return spec_.members; }

  /// A series as one samples x width array. Keys: "out", "loss", "node.var". In an ensemble,
  /// samples x (members x width): row r holds member 0's width values, then member 1's, ...
  Matrix to_matrix(const std::string& key) const;
  /// Member `member`'s part of a series of an ensemble: samples x width.
  Matrix member_matrix(const std::string& key, std::int64_t member) const;
  /// Why and where a member of an ensemble stopped before the run's end.
  struct MemberStop {
    std::int64_t step = -1;  ///< the step it stopped at (-1: it ran on)
    std::string reason{};    ///< what stopped it (its state diverged: node, variable, neuron)
  };
  /// One per member: where each stopped. A stopped member's samples from that step on hold
  /// NaN (the one exception to "a value that is not finite is never stored").
  const std::vector<MemberStop>& member_stops() const { return stops_; }
  /// The samples of member `member` before it stopped (all samples when it ran on).
  std::int64_t member_samples(std::int64_t member) const;
  Matrix to_matrix(const std::string& node, const std::string& var) const;

  /// Write one series as a float64 .npy array of shape (samples, width), or (samples, members,
  /// width) in an ensemble (a link at `path` is replaced, not followed; the same for write_csv).
  void write_npy(const std::string& key, const std::string& path) const;
  /// Write one series as CSV: a header `step,time,<key>[0],...`, then one row per sample; in an
  /// ensemble (long form) `step,time,member,<key>[0],...`, one row per sample and member.
  void write_csv(const std::string& key, const std::string& path) const;
  /// Write every series into `dir` (created if missing) as `<key>.<fmt>`, plus
  /// `steps.npy`/`time.npy` for "npy", and each recorded population's spike events as
  /// `<population>.spikes.npy` (int64, rows (step, neuron)) or `.csv` (`step,time,neuron`).
  /// Formats: "npy", "csv". Returns the paths written.
  /// Files are created without following links; `dir` may be a link only if `allow_symlink`.
  std::vector<std::string> save(const std::string& dir, const std::vector<std::string>& formats = {"npy"},
                                bool allow_symlink = false) const;

  /// Send every later batch to `sink` as well (in the order sinks were added).
  void add_sink(std::shared_ptr<SampleSink> sink) { sinks_.push_back(std::move(sink)); }
  /// Keep samples in memory (default) or only pass them to the sinks. Without memory,
  /// samples() still counts them and steps() holds their step indices.
  void set_keep_in_memory(bool keep) { keep_in_memory_ = keep; }
  bool keeps_in_memory() const { return keep_in_memory_; }

  /// Bytes of host memory the recording may take (default: half the machine's memory).
  std::size_t memory_budget() const { return budget_; }
  void set_memory_budget(std::size_t bytes) { budget_ = bytes; }
  /// Bytes held now by the stored samples.
  std::size_t bytes_held() const;
  /// Bytes one sample takes once widths are known (values and step index).
  std::size_t bytes_per_sample() const;

  /// Write the settings, widths and samples in binary (used by checkpoints).
  void write_state(std::ostream& out) const;
  /// Replace the samples with those written by write_state; the settings must match
  /// (InvalidArgument otherwise), a short or corrupt stream throws IoError.
  void read_state(std::istream& in, const std::string& source);

 private:
  // ---- The engines' side (batch path), reached through detail::ObserverEngineSide ----
  friend class detail::ObserverEngineSide;
  /// Fix the widths: output width and one width per RecordVar (already 1 for means).
  /// Throws InvalidArgument if the observer already holds samples of other widths.
  void bind(std::int64_t output_width, const std::vector<std::int64_t>& var_widths);
  /// Values in one sample row: [out][loss][var 0][var 1]... in that order.
  std::int64_t row_width() const;
  /// Offset of each part in a row (-1 where not recorded).
  std::int64_t output_offset() const { return spec_.output ? 0 : -1; }
  std::int64_t loss_offset() const;
  std::int64_t var_offset(std::size_t i) const;
  /// Refuse (MemoryBudgetError) if adding `more_samples` plus `extra_bytes` of staging
  /// would exceed the budget; reserves the storage otherwise.
  void prepare(std::int64_t more_samples, std::size_t extra_bytes);
  /// Tell every sink that a run starts (SampleSink::start), after bind() and prepare().
  void start_sinks() const;
  /// Append `count` rows of row_width() values each (row-major) with their step indices.
  /// A row holding a value that is not finite is refused with DivergenceError naming it;
  /// the rows before it are appended first.
  template <class T>
  void append_batch(const T* rows, const std::int64_t* steps, std::int64_t count);
  /// Append `count` spike events of spec().spikes[pop]; MemoryBudgetError (nothing appended)
  /// when they do not fit the budget.
  /// `members`: an ensemble's, the member of each event (null for a single network).
  void append_spikes(std::size_t pop, const std::int64_t* steps, const std::int64_t* neurons, std::int64_t count,
                     const std::int64_t* members = nullptr);

  struct Spikes {
    std::vector<std::int64_t> steps, neurons;
    std::vector<std::int64_t> members;  // an ensemble's: the member of each event
    std::int64_t count = 0;  // also those that went to the sinks only
  };
  const Spikes& spikes_of(const std::string& population, bool stored) const;
  void write_spike_state(std::ostream& out) const;
  /// Observer::save's spike files: `<population>.spikes.<fmt>` in `dir`, their paths appended.
  void save_spikes(const std::string& dir, const std::string& fmt, std::vector<std::string>& written) const;
  /// The spike events write_spike_state wrote, read and checked (nothing changes here).
  std::vector<Spikes> read_spike_state(std::istream& in, const std::string& source) const;

  struct Series {
    std::string key;
    std::int64_t width = -1;   // -1: not known yet
    std::vector<double> data;  // samples * width
  };
  template <class T>
  void append_rows(const T* rows, const std::int64_t* steps, std::int64_t count);  // checked
  const Series& find(const std::string& key) const;
  const Series& stored(const std::string& key) const;  // find(), and the data is in memory

  double dt_;
  RecordSpec spec_;
  std::vector<Series> series_;  // out?, loss?, vars...
  std::vector<std::int64_t> steps_;
  std::size_t budget_;
  std::vector<std::shared_ptr<SampleSink>> sinks_;
  bool keep_in_memory_ = true;
  std::vector<double> scratch_;  // one batch, series after series, for the sinks
  std::vector<Spikes> spikes_;   // one per spec_.spikes
  std::int64_t pending_samples_ = 0;  // samples the running run has yet to append (prepare)
  std::vector<MemberStop> stops_;     // one per member (members > 1)
  /// Member `member` stopped at `step` (ObserverEngineSide): its later rows hold NaN.
  void stop_member(std::int64_t member, std::int64_t step, const std::string& reason);
  /// True where `value` (column `c` of the row of step `step`) is NaN in the part of a member
  /// stopped at or before that step.
  bool stopped_member_value(std::int64_t c, std::int64_t step, double value) const;
};

/// Number of samples a run of `steps` steps takes: steps t >= cutoff with
/// t % sampling_steps == 0.
std::int64_t sample_count(std::int64_t steps, std::int64_t sampling_steps, std::int64_t cutoff);

/// Half of the machine's physical memory (the default recording budget).
std::size_t default_memory_budget();

}  // namespace qifsim
