// qifsim/recording.hpp - recordings on disk, written batch by batch while a run goes.
//
// File sinks receive each batch from an Observer (SampleSink) and append it to files, so a
// recording larger than host memory can be kept:
//
//   qifsim::Observer obs(net.dt(), qifsim::RecordSpec{true, false, {{"qif", "v", false}}});
//   obs.set_keep_in_memory(false);                        // samples go to the files only
//   auto sinks = qifsim::attach_file_sinks(obs, "results", {"npy", "hdf5"}, info);
//   net.run(inputs, options, obs);
//   qifsim::finish_file_sinks(sinks, obs);                 // headers, flush, close
//
// Layout of `dir`: NPY: one `<key>.npy` per series (`out.npy`, `qif.v.npy`, ...; shape
// samples x width, float64) plus `steps.npy` (int64) and `time.npy` (float64); CSV: one
// `<key>.csv` per series (`step,time,<key>[0],...`); HDF5: `recording.h5` with a dataset per
// series plus `steps` and `time`, and the attributes dt, sampling_steps, cutoff, config.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "qifsim/observer.hpp"

namespace qifsim {

/// Facts about a run stored with its recordings (HDF5 attributes).
struct RecordingInfo {
  std::int64_t sampling_steps = 1;
  std::int64_t cutoff = 0;
  std::string config_text;  ///< the configuration the run came from (may be empty)
  std::string config_path;  ///< where it was read from (may be empty)
  /// Continuing files (continue_samples >= 0): the digests of the rows they must hold, by
  /// series key, "steps" and "time" (a checkpoint keeps them); a file whose rows differ is
  /// refused (IoError). Empty: not checked.
  std::map<std::string, std::uint64_t> digests;
  /// Continuing files: the spike events each population's spike file holds (a checkpoint
  /// keeps them); the files are cut to them.
  std::map<std::string, std::int64_t> spike_counts;
};

/// A SampleSink that writes files. finish() completes them (NPY headers, flush, close); the
/// destructor finishes quietly when finish() was not called, so files stay readable after an
/// error.
class FileSink : public SampleSink {
 public:
  /// Complete the files. `obs` names the series and widths when no batch arrived.
  virtual void finish(const Observer& obs) = 0;
  /// The files this sink writes.
  virtual std::vector<std::string> paths() const = 0;
};

/// One `<key>.npy` per series plus steps.npy and time.npy in `dir` (must exist). Rows are
/// appended as they come, and the header's shape is rewritten after each batch: the files
/// are valid up to the rows they claim at every moment. `continue_samples` >= 0 continues
/// the files already there (a resumed run), cut to that many samples.
std::shared_ptr<FileSink> make_npy_sink(const std::string& dir, std::int64_t continue_samples = -1);
/// One `<key>.csv` per series in `dir` (must exist): `step,time,<key>[0],...`, one row per
/// sample, each batch written as whole lines (continue_samples as for make_npy_sink).
std::shared_ptr<FileSink> make_csv_sink(const std::string& dir, std::int64_t continue_samples = -1);
/// One HDF5 file at `path` with chunked, extendible datasets, flushed after each batch
/// (continue_samples as for make_npy_sink; throws IoError when qifsim was built without
/// HDF5; see hdf5_supported()).
std::shared_ptr<FileSink> make_hdf5_sink(const std::string& path, const RecordingInfo& info,
                                         std::int64_t continue_samples = -1);
/// The names (in the output folder) of the files the sinks write for `obs` in `formats`.
std::vector<std::string> recording_file_names(const Observer& obs, const std::vector<std::string>& formats);
/// True when this build can write HDF5.
bool hdf5_supported();

/// The formats attach_file_sinks knows: "npy", "hdf5" (also "h5"), "csv".
std::vector<std::string> file_formats();

/// Create `dir`, make one sink per format and add them to `obs`. Unknown formats throw
/// InvalidArgument before anything is created. HDF5 goes to `dir`/recording.h5. `dir` may
/// not be a symbolic link unless `allow_symlink` (IoError). Files are created without
/// following links: a link at a file's name is replaced, never written through.
std::vector<std::shared_ptr<FileSink>> attach_file_sinks(Observer& obs, const std::string& dir,
                                                         const std::vector<std::string>& formats,
                                                         const RecordingInfo& info = {},
                                                         bool allow_symlink = false,
                                                         std::int64_t continue_samples = -1);
/// finish() every sink; returns every path written.
std::vector<std::string> finish_file_sinks(const std::vector<std::shared_ptr<FileSink>>& sinks,
                                           const Observer& obs);
/// Write an in-memory recording to `dir` in `formats`, in the same layout as the sinks (and
/// under the same rules for links).
std::vector<std::string> save_recording(const Observer& obs, const std::string& dir,
                                        const std::vector<std::string>& formats,
                                        const RecordingInfo& info = {}, bool allow_symlink = false);

}  // namespace qifsim
