// qifsim/config.hpp - a run described by a TOML file: network, inputs, recording, output.
//
//   qifsim::RunConfig cfg = qifsim::load_config("run.toml", {"record.sampling_steps=2"});
//   std::cout << cfg.summary();
//   qifsim::ConfigRun r = qifsim::run_config(cfg);   // recordings go to cfg.out_dir
//
// The keys are listed in the README ("Config files"). Every problem (syntax, unknown key,
// wrong type, wrong array shape, missing or corrupt .npy file) throws ConfigError before
// anything runs; its message names the file and line, the key, and what was expected.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "qifsim/checkpoint.hpp"
#include "qifsim/error.hpp"
#include "qifsim/matrix.hpp"
#include "qifsim/network.hpp"
#include "qifsim/observer.hpp"
#include "qifsim/recording.hpp"

namespace qifsim {

/// A config that cannot be used: "<file>:<line>: <key>: <problem>".
class ConfigError : public InvalidArgument {
 public:
  explicit ConfigError(const std::string& what) : InvalidArgument(what) {}
};

/// Everything a config describes, checked and ready to run.
struct RunConfig {
  std::string path;                  ///< the config file ("" when parsed from a string)
  std::string text;                  ///< its TOML text
  std::vector<std::string> overrides;  ///< "key=value" overrides applied on top of the text
  Network network;                   ///< compiled
  /// steps x network.input_width() held as one array: empty from a config, whose rows are
  /// fetched as the run goes (computed_inputs; use input_source()); a caller may set it.
  Matrix inputs;
  /// The [input] table's rows made when fetched: an [input] file's rows read from the file in
  /// pieces, a value, steps, pulses and sines computed (none: zeros). No steps x width array
  /// is made, whatever the number of steps.
  InputSource computed_inputs;
  std::string input_description;  ///< how the input is made, for summary()
  RunOptions options;                ///< sampling_steps, cutoff, record_output, record_vars, ...
  std::string out_dir;               ///< where the recordings go ([record] out_dir)
  std::vector<std::string> formats;  ///< "npy", "hdf5", "csv" (empty: write nothing)
  bool allow_symlink = false;        ///< out_dir may be a symbolic link ([record] allow_symlink)
  /// With files: save out_dir/qifsim.ckpt this often while the run goes ([record]
  /// checkpoint_seconds; 0: only when the run is stopped), so that a killed run can resume.
  double checkpoint_seconds = 60.0;
  /// Continue the run recorded in out_dir from its checkpoint (see resume_config()),
  /// appending to its files, instead of starting a new one.
  bool resume = false;
  /// Resume even when the network, inputs or schedule differ from the checkpoint's (the
  /// differences are refused otherwise, and recorded in the manifest when allowed).
  bool allow_changes = false;
  std::vector<std::string> node_descriptions;  ///< one line per node, for summary()
  /// The files the run reads (the config and its .npy files); outputs may not replace them.
  std::vector<std::string> input_files;
  /// What defines the network as the config gives it, key by key ("population[0].eta",
  /// "edge[0].weights"); run_config adds the inputs, schedule and recording.
  std::vector<FingerprintEntry> fingerprint;
  /// Where relative .npy paths resolve (the config's folder).
  std::string base_dir;

  std::int64_t steps() const { return computed_inputs.fetch ? computed_inputs.rows : inputs.rows; }
  /// The run's inputs, held or computed.
  InputSource input_source() const;
  /// Attributes stored with the recordings (sampling, config text and path).
  RecordingInfo recording_info() const;
  /// A few lines describing the network, the run and the recording.
  std::string summary() const;
};

/// True when this build reads TOML configs (built with toml++).
bool config_supported();

/// Read a TOML config file. Relative .npy paths in it are resolved against the file's folder;
/// `overrides` ("record.sampling_steps=2", "population.0.eta=-4", "backend=cpu") replace or
/// add keys before the config is read (a value that is not valid TOML is taken as a string).
RunConfig load_config(const std::string& path, const std::vector<std::string>& overrides = {});

/// The same from TOML text; relative .npy paths resolve against `base_dir` and messages
/// name the config `name`.
RunConfig parse_config(const std::string& text, const std::string& base_dir = ".",
                       const std::string& name = "<config>",
                       const std::vector<std::string>& overrides = {});

/// The config for continuing the run recorded in `folder` (an output folder with a
/// qifsim.ckpt, or the checkpoint file itself): the config file and overrides it ran with
/// (or `config_path` and `overrides` instead, when given), its folder and formats, and
/// resume = true. The checkpoint's checksum is checked here; whether it fits the config is
/// checked by run_config (ConfigError naming what changed).
RunConfig resume_config(const std::string& folder, const std::string& config_path = "",
                        const std::vector<std::string>& overrides = {});

/// What a config run did besides recording.
struct RunReport {
  std::vector<std::string> files;  ///< every file of the recording, and the config copy
  std::string checkpoint;          ///< the checkpoint left by a stopped run ("" when complete)
  std::int64_t first_step = 0;     ///< the step this call started from (> 0 when resumed)
  std::int64_t next_step = 0;      ///< the first step not run (== steps when complete)
  std::int64_t samples = 0;        ///< samples in the files, all parts of the run together
  std::vector<std::string> changes;  ///< what differs from the checkpoint (allow_changes)
  bool interrupted() const { return !checkpoint.empty(); }
};

/// What run_config returns: the recordings (in memory unless streamed; a resumed run's
/// observer holds the samples of this part only, its files hold all) and the report.
struct ConfigRun : RunReport {
  Observer observer;
  explicit ConfigRun(Observer obs) : observer(std::move(obs)) {}
};

/// Run a config's inputs through its network. With formats set, the recordings are written
/// to out_dir batch by batch while the run goes (plus a copy of the config as
/// qifsim_run.toml); `keep_in_memory` = false keeps only the files (a recording larger than
/// memory). Files written before an error are completed and readable.
///
/// The run owns out_dir: a lock refuses a second run into it, the files a previous run
/// listed in out_dir/manifest.json are removed first (nothing else is), outputs that would
/// replace the run's own inputs are refused, and the manifest says how far the run got.
/// Every file is valid up to the samples it holds at every moment (samples reach disk at
/// least every options.flush_seconds). options.stop stops the run at a step boundary and
/// leaves out_dir/qifsim.ckpt, also written every checkpoint_seconds; resume = true
/// continues from it.
ConfigRun run_config(RunConfig& config, bool keep_in_memory = true);
/// The same with other inputs (steps x network.input_width(), read in place, not copied).
ConfigRun run_config(RunConfig& config, MatrixView inputs, bool keep_in_memory = true);

/// The Observer a config's run records into (its record settings and memory budget).
Observer config_observer(const RunConfig& config, bool keep_in_memory = true);
/// Run `inputs` through the config's network into `obs` (from config_observer), writing the
/// files as run_config does. Samples recorded before an error stay in `obs` and in the files.
RunReport run_config_into(RunConfig& config, MatrixView inputs, Observer& obs);
/// The same with the config's own inputs (held rows read in place, computed rows fetched).
RunReport run_config_into(RunConfig& config, Observer& obs);
/// The same with inputs fetched piece by piece (RunConfig::input_source(), or the caller's).
RunReport run_config_into(RunConfig& config, const InputSource& inputs, Observer& obs);

}  // namespace qifsim
