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
  Matrix inputs;                     ///< steps x network.input_width()
  RunOptions options;                ///< sampling_steps, cutoff, record_output, record_vars, ...
  std::string out_dir;               ///< where the recordings go ([record] out_dir)
  std::vector<std::string> formats;  ///< "npy", "hdf5", "csv" (empty: write nothing)
  bool allow_symlink = false;        ///< out_dir may be a symbolic link ([record] allow_symlink)
  std::vector<std::string> node_descriptions;  ///< one line per node, for summary()

  std::int64_t steps() const { return inputs.rows; }
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

/// What run_config returns: the recordings (in memory unless streamed) and the files written.
struct ConfigRun {
  Observer observer;
  std::vector<std::string> files;
};

/// Run a config's inputs through its network. With formats set, the recordings are written
/// to out_dir batch by batch while the run goes (plus a copy of the config as
/// qifsim_run.toml); `keep_in_memory` = false keeps only the files (a recording larger than
/// memory). Files written before an error are completed and readable.
ConfigRun run_config(RunConfig& config, bool keep_in_memory = true);
/// The same with other inputs (steps x network.input_width(), read in place, not copied).
ConfigRun run_config(RunConfig& config, MatrixView inputs, bool keep_in_memory = true);

/// The Observer a config's run records into (its record settings and memory budget).
Observer config_observer(const RunConfig& config, bool keep_in_memory = true);
/// Run `inputs` through the config's network into `obs` (from config_observer), writing the
/// files as run_config does; returns the files written. Samples recorded before an error
/// stay in `obs` and in the files.
std::vector<std::string> run_config_into(RunConfig& config, MatrixView inputs, Observer& obs);

}  // namespace qifsim
