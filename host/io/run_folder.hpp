// host/io/run_folder.hpp - a run's output folder: owned through a lock and a manifest.
//
// A config run (qifsim run, qifsim_run_config, run_config) takes its output folder for
// itself: a lock held for the whole run refuses a second run into it, the files a previous
// run listed in its manifest are removed (and nothing else), and a manifest says what this
// run is writing, how far it got and how it ended:
//
//   OUT_DIR/manifest.json   {"format": "qifsim-run 1", "status": "running" | "complete" |
//                            "interrupted" | "failed", "pid", "qifsim", "config",
//                            "started", "updated", "dt", "steps", "steps_done", "samples",
//                            "resumed_from", "changes", "error", "checkpoint", "files": [...]}
//
// "samples" is what every file holds at least (files may hold up to a second more while
// running); "steps_done" the steps a checkpoint or the end covers.
//
// A run killed outright leaves "running" with a pid that no longer runs: readers
// (qifsim-plot, the Python package) say so. Every file it names is valid up to the samples
// it holds (the sinks write header and data in that order).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "qifsim/observer.hpp"

namespace qifsim::detail {

/// What a config run writes in its folder besides its recordings: its checkpoint and a copy
/// of its config.
inline constexpr const char* kCheckpointName = "qifsim.ckpt";
inline constexpr const char* kConfigCopyName = "qifsim_run.toml";
/// A sweep's members: index, swept values, status and samples (io/members_file.hpp).
inline constexpr const char* kMembersName = "members.csv";

/// A folder's manifest as read back (what a previous or a resumed run left).
struct Manifest {
  std::string status;
  std::int64_t pid = 0;
  std::int64_t samples = 0;
  std::vector<std::string> files;  ///< plain file names in the folder
  bool valid = false;
};

/// Read OUT_DIR/manifest.json (valid = false when there is none or it is not a manifest).
/// Something else at that name (a FIFO, a device, a folder) is an IoError naming it.
Manifest read_manifest(const std::string& dir);

class RunFolder final : public SampleSink {
 public:
  /// Take `dir`: create it (refusing a symbolic link unless `allow_symlink`), lock it
  /// (IoError naming the other run when it is in use), remove what a previous run listed in
  /// its manifest except the files in `keep` (the run's inputs), or, when `resume`, keep it
  /// all (the run continues those files), and write a manifest with status "running".
  /// `config` names the config file in the manifest.
  RunFolder(const std::string& dir, bool allow_symlink, const std::string& config, std::int64_t steps, bool resume,
            const std::vector<std::string>& keep);
  ~RunFolder() override;
  RunFolder(const RunFolder&) = delete;
  RunFolder& operator=(const RunFolder&) = delete;

  const std::string& dir() const { return dir_; }
  /// The manifest the previous run left (before this one replaced it).
  const Manifest& previous() const { return previous_; }
  /// Files of this run (paths or names); listed in the manifest from the next update on.
  void add_files(const std::vector<std::string>& paths);
  /// Samples already in the files (a resumed run) and what changed since the checkpoint.
  void continue_from(std::int64_t samples, std::int64_t step, const std::vector<std::string>& changes);
  std::int64_t samples() const { return samples_; }
  /// Notes the run's step size (the manifest's "dt", with which spike steps become times).
  void start(const Observer& obs) override { dt_ = obs.dt(); }
  /// Counts the samples; rewrites the manifest at most once a second.
  void write(const Observer& obs, std::int64_t count, const std::int64_t* steps,
             const std::vector<const double*>& series) override;
  /// A checkpoint was written: the run can continue from `steps_done`.
  void checkpointed(std::int64_t steps_done, const std::string& checkpoint);
  /// The run ended: "complete", "interrupted" (with the checkpoint's file name) or
  /// "failed" (with the error); the lock is released when the folder object goes.
  void finish(const std::string& status, std::int64_t steps_done, const std::string& error = "",
              const std::string& checkpoint = "");
  /// Let another run take the folder (also when the object lives on as an Observer's sink).
  void release();

 private:
  void write_manifest(const std::string& status, const std::string& error);

  std::string dir_;
  std::string config_;
  std::int64_t steps_ = 0;
  double dt_ = 0.0;  // 0: not known yet (not written)
  std::int64_t samples_ = 0;
  std::int64_t steps_done_ = 0;
  std::int64_t resumed_from_ = -1;
  std::vector<std::string> changes_;
  std::string checkpoint_;
  std::vector<std::string> files_;  // names in dir_
  std::string started_;
  Manifest previous_;
  int lock_fd_ = -1;
  std::chrono::steady_clock::time_point last_write_{};
};

}  // namespace qifsim::detail
