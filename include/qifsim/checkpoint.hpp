// qifsim/checkpoint.hpp - what a checkpoint says about itself, beyond the network's state.
//
// Network::save_checkpoint writes format 2: length-prefixed sections (the network's state,
// optionally an Observer, a fingerprint, the run's details; sections a reader does not know
// are skipped, which leaves room for what later versions add) and an xxHash checksum over
// every byte. A checkpoint that fails its checksum, or holds values a config could not hold
// (tau <= 0, v_reset >= v_threshold, ...), is refused before anything is changed.
//
//   qifsim::CheckpointInfo info;
//   info.fingerprint = {{"population[0].eta", hash, "-5"}};
//   net.save_checkpoint("run.ckpt", nullptr, &info);
//   ...
//   qifsim::CheckpointInfo saved = qifsim::read_checkpoint_info("run.ckpt");
//   for (const auto& c : qifsim::fingerprint_changes(saved.fingerprint, info.fingerprint)) ...
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace qifsim {

class Observer;
struct Sweep;

/// One item of what defines a run: a key as the user names it ("population[0].eta",
/// "edge 'in' -> 'qif'"), a hash of its value and, for short values, the value as text.
struct FingerprintEntry {
  std::string key;
  std::uint64_t hash = 0;
  std::string text;  ///< the value for messages ("-5"), or "" when it is too long to show
};

/// What a checkpoint carries besides the state: the fingerprint of what defines the run and
/// free-form details of the run (for a config run: config path, overrides, folder, samples
/// written). The network's own part of the fingerprint (weights, activations) is added and
/// checked by Network itself.
struct CheckpointInfo {
  std::vector<FingerprintEntry> fingerprint;
  std::vector<std::pair<std::string, std::string>> details;
  int format = 0;  ///< filled by read_checkpoint_info: 1 (no checksum, no fingerprint) or 2

  /// The detail `key` ("" when absent); every value for a key given several times.
  std::string detail(const std::string& key) const;
  std::vector<std::string> details_of(const std::string& key) const;
};

/// How Network::load_checkpoint applies a checkpoint.
struct CheckpointLoad {
  Observer* observer = nullptr;  ///< when given, its samples are replaced by the checkpoint's
  /// Restore the saved parameters (eta, tau, ...). False keeps this network's: a config run
  /// resumes with the parameters its config defines.
  bool parameters = true;
  /// Accept a network whose weights or activations differ from the saved one's (the
  /// differences are refused with GraphError otherwise, naming them).
  bool allow_changes = false;
  CheckpointInfo* info = nullptr;  ///< receives what the checkpoint carries
  /// The sweep of a checkpointed sweep (RunOptions::sweep of the run it continues): its members
  /// are rebuilt from it and their saved state restored; resume with the same sweep. A
  /// checkpoint of a sweep is refused without it, and the sweep must have as many members and,
  /// unless allow_changes, the same keys and values.
  const Sweep* sweep = nullptr;
};

/// Read a checkpoint's fingerprint and details without a network: the checksum is checked
/// (IoError naming the file when it fails), nothing else is read into memory.
CheckpointInfo read_checkpoint_info(const std::string& path);

/// The changes from `saved` to `now`, one line per key: "population[0].eta: -5 -> -4",
/// "edge[0].weights: changed", "record.vars: added", ... Empty when they agree.
std::vector<std::string> fingerprint_changes(const std::vector<FingerprintEntry>& saved,
                                             const std::vector<FingerprintEntry>& now);

/// A 64-bit hash (xxHash XXH3) of bytes, as the fingerprints use it.
std::uint64_t hash_bytes(const void* data, std::size_t bytes, std::uint64_t seed = 0);

}  // namespace qifsim
