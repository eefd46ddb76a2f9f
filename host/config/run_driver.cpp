// host/config/run_driver.cpp - running a config: its output folder, the files, checkpoints and resume.
//
// run_config writes the recordings into the config's output folder (io/run_folder.hpp),
// saves checkpoints while the run goes, and resume_config continues a stopped run.
#include "qifsim/config.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include "qifsim/version.hpp"
#include "io/output_files.hpp"
#include "io/members_file.hpp"
#include "qifsim/log.hpp"
#include "core/coupling_choice.hpp"
#include "core/observer_engine_side.hpp"
#include "io/row_digest.hpp"
#include "io/run_folder.hpp"
#include "core/text.hpp"
#include "model/sample_schedule.hpp"

namespace qifsim {

RecordingInfo RunConfig::recording_info() const {
  RecordingInfo info;
  info.sampling_steps = options.sampling_steps;
  info.cutoff = options.cutoff;
  info.config_text = text;
  for (const auto& o : overrides) info.config_text += "\n# --set " + o;
  info.config_path = path;
  return info;
}

std::string RunConfig::summary() const {
  std::ostringstream os;
  os << "config   " << (path.empty() ? std::string("<string>") : path);
  for (const auto& o : overrides) os << " --set " << o;
  os << "\n";
  for (const auto& line : node_descriptions) os << "node     " << line << "\n";
  os << "network  input node '" << network.input_node() << "' (" << network.input_width() << " inputs), output node '"
     << network.output_node() << "' (" << network.output_width() << " outputs)\n";
  os << "run      " << steps() << " steps of dt = " << network.dt() << " (t = 0 .. " << static_cast<double>(steps()) * network.dt()
     << "), " << to_string(network.precision()) << " on " << to_string(network.backend()) << "\n";
  os << "input    ";
  if (computed_inputs.fetch) {
    os << input_description << "\n";
  } else {
    os << "the [input] file's " << inputs.rows << " x " << inputs.cols << " values, held: "
       << detail::format_bytes(static_cast<double>(inputs.data.size()) * 8.0) << "\n";
  }
  if (!network.coupling_choice().empty()) {
    const bool events = options.coupling == CouplingMode::Events || options.event_coupling > 0;
    const std::int64_t resync = options.event_coupling > 0 ? options.event_coupling : options.resync > 0 ? options.resync : 1000;
    os << "coupling ";
    if (options.coupling == CouplingMode::Auto && options.event_coupling == 0) {
      os << "auto -> " << network.coupling_choice() << "\n";
    } else {
      os << (events ? "events (resync " + std::to_string(resync) + ")" : to_string(options.coupling)) << "\n";
    }
  }
  if (!options.sweep.empty()) {
    std::vector<std::string> keys;
    for (const SweepKey& k : options.sweep.keys) keys.push_back(k.key);
    os << "sweep    " << options.sweep.members() << " members (" << to_string(options.sweep.mode)
       << "): " << detail::join(keys, false) << "\n";
  }
  const std::int64_t samples = detail::SampleSchedule{options.sampling_steps, options.cutoff}.count(steps());
  os << "record   ";
  std::vector<std::string> series;
  if (options.record_output) series.push_back("out (" + std::to_string(network.output_width()) + ")");
  for (const auto& v : options.record_vars) {
    series.push_back(v.node + "." + v.var +
                     (v.mean              ? " (mean)"
                      : v.neurons.empty() ? " (" + std::to_string(network.node_size(v.node)) + ")"
                                          : " (" + std::to_string(v.neurons.size()) + " chosen neurons)"));
  }
  os << (series.empty() ? std::string("nothing") : detail::join(series, false)) << "; sampling_steps " << options.sampling_steps
     << ", cutoff " << options.cutoff << " -> " << samples << " samples\n";
  if (!options.record_spikes.empty()) {
    os << "spikes   every spike of " << detail::join(options.record_spikes, false) << " from step " << options.cutoff << "\n";
  }
  os << "write    ";
  if (formats.empty()) os << "nothing (record.formats = [])\n";
  else os << detail::join(formats, false) << " to " << out_dir << "/\n";
  return os.str();
}

ConfigRun run_config(RunConfig& config, bool keep_in_memory) {
  ConfigRun result(config_observer(config, keep_in_memory));
  static_cast<RunReport&>(result) = run_config_into(config, result.observer);
  return result;
}

ConfigRun run_config(RunConfig& config, MatrixView inputs, bool keep_in_memory) {
  ConfigRun result(config_observer(config, keep_in_memory));
  static_cast<RunReport&>(result) = run_config_into(config, inputs, result.observer);
  return result;
}

Observer config_observer(const RunConfig& config, bool keep_in_memory) {
  Observer obs(config.network.dt(), RecordSpec{config.options.record_output, false, config.options.record_vars,
                                               config.options.record_spikes, config.options.sweep.members()});
  obs.set_keep_in_memory(keep_in_memory);
  if (config.options.memory_budget > 0) obs.set_memory_budget(config.options.memory_budget);
  return obs;
}

namespace {

namespace fsys = std::filesystem;

using detail::kCheckpointName;
using detail::kConfigCopyName;

std::string absolute_path(const std::string& p) {
  if (p.empty()) return p;
  std::error_code ec;
  const fsys::path a = fsys::absolute(p, ec);
  return ec ? p : a.lexically_normal().string();
}

// The same file, or (for a file not made yet) the same place.
bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  if (fsys::equivalent(a, b, ec)) return true;
  const fsys::path ca = fsys::weakly_canonical(a, ec);
  if (ec) return false;
  const fsys::path cb = fsys::weakly_canonical(b, ec);
  return !ec && ca == cb;
}

const char* subnormals_name(Subnormals s) {
  switch (s) {
    case Subnormals::Keep: return "keep";
    case Subnormals::Flush: return "flush";
    default: return "auto";
  }
}

// What defines the run: the network as the config gives it, the inputs (as run), the
// schedule, the recording and the numerics.
std::vector<FingerprintEntry> run_fingerprint(const RunConfig& config, const InputSource& inputs) {
  std::vector<FingerprintEntry> fp = config.fingerprint;
  const Network& net = config.network;
  const auto text = [&](const std::string& key, const std::string& value) {
    fp.push_back({key, hash_bytes(value.data(), value.size()), value.size() <= 80 ? value : std::string()});
  };
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", net.dt());
  text("dt", buf);
  text("precision", net.precision() == Precision::Float32 ? "float32" : "float64");
  text("backend (in use)", net.backend() == Backend::Cuda ? "cuda" : "cpu");
  text("event_coupling", std::to_string(config.options.event_coupling));
  // Only where asked for, so that checkpoints of runs before the option resume as they did.
  if (config.options.coupling != CouplingMode::Auto) text("coupling", to_string(config.options.coupling));
  if (config.options.resync != 0) text("resync", std::to_string(config.options.resync));
  text("subnormals", subnormals_name(config.options.subnormals));
  // Only where asked for, so that checkpoints of runs before the option resume as they did.
  if (config.options.reproducible) text("reproducible", "true");
  text("steps", std::to_string(inputs.rows));
  std::uint64_t h = hash_bytes(&inputs.rows, sizeof inputs.rows);
  h = hash_bytes(&inputs.cols, sizeof inputs.cols, h);
  // Row by row, fetched in pieces of about 1 MiB (the same digest whether held or computed).
  const std::int64_t piece = std::max<std::int64_t>(1, (std::int64_t{1} << 17) / std::max<std::int64_t>(inputs.cols, 1));
  std::vector<double> rows(static_cast<std::size_t>(std::min(piece, std::max<std::int64_t>(inputs.rows, 1)) * inputs.cols));
  for (std::int64_t first = 0; first < inputs.rows; first += piece) {
    const std::int64_t count = std::min(piece, inputs.rows - first);
    inputs.fetch(first, count, rows.data());
    for (std::int64_t t = 0; t < count; ++t) {
      h = hash_bytes(rows.data() + t * inputs.cols, static_cast<std::size_t>(inputs.cols) * sizeof(double), h);
    }
  }
  fp.push_back({"input", h, ""});
  text("record.sampling_steps", std::to_string(config.options.sampling_steps));
  text("record.cutoff", std::to_string(config.options.cutoff));
  text("record.output", config.options.record_output ? "true" : "false");
  std::string vars;
  for (const auto& v : config.options.record_vars) {
    vars += (vars.empty() ? "" : ", ") + v.node + "." + v.var + (v.mean ? " (mean)" : "");
    if (!v.neurons.empty()) {  // only where chosen, so that checkpoints of runs before resume as they did
      std::string list;
      for (const std::int64_t j : v.neurons) list += (list.empty() ? "" : " ") + std::to_string(j);
      vars += " (neurons " + list + ")";
    }
  }
  text("record.vars", vars.empty() ? "none" : vars);
  // Only where asked for, so that checkpoints of runs before the option resume as they did.
  if (!config.options.record_spikes.empty()) text("record.spikes", detail::join(config.options.record_spikes, false));
  return fp;
}

// Outputs may not replace the run's own inputs (a config or .npy file in out_dir).
void refuse_overwriting_inputs(const RunConfig& config, const std::vector<std::string>& outputs) {
  for (const auto& out : outputs) {
    for (const auto& in : config.input_files) {
      if (!same_file(out, in)) continue;
      if (in == config.path && fsys::path(out).filename() == kConfigCopyName) continue;  // the copy is skipped
      throw ConfigError("the run would write '" + out + "' over its own input '" + in +
                        "'; choose another output folder (record.out_dir or -o) or move the input");
    }
  }
}

// Sets a flag for the run to stop at: when the caller's stop flag is set, or every
// `period` seconds (a periodic checkpoint).
class StopTimer {
 public:
  StopTimer(const std::atomic<bool>* user, double period) : user_(user), period_(period) {
    if (user_ || period_ > 0.0) thread_ = std::thread([this] { loop(); });
  }
  ~StopTimer() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  StopTimer(const StopTimer&) = delete;
  StopTimer& operator=(const StopTimer&) = delete;

  const std::atomic<bool>* flag() const { return &halt_; }
  bool user_stop() const { return user_ != nullptr && user_->load(); }
  /// After a periodic stop: run on, the next period counting from now.
  void rearm() {
    std::lock_guard<std::mutex> lock(mutex_);
    halt_.store(false);
    due_ = Clock::now() + period();
  }

 private:
  using Clock = std::chrono::steady_clock;
  Clock::duration period() const {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(period_));
  }
  void loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    due_ = Clock::now() + (period_ > 0.0 ? period() : Clock::duration::zero());
    while (!done_) {
      wake_.wait_for(lock, std::chrono::milliseconds(20));
      if (done_) break;
      if (user_stop() || (period_ > 0.0 && !halt_.load() && Clock::now() >= due_)) halt_.store(true);
    }
  }

  const std::atomic<bool>* user_;
  double period_;
  std::atomic<bool> halt_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool done_ = false;
  Clock::time_point due_{};
  std::thread thread_;
};

}  // namespace

RunConfig resume_config(const std::string& folder, const std::string& config_path,
                        const std::vector<std::string>& overrides) {
  std::error_code ec;
  std::string dir = folder;
  if (fsys::is_regular_file(folder, ec)) dir = fsys::path(folder).parent_path().string();
  if (dir.empty()) dir = ".";
  const std::string ckpt = (fsys::path(dir) / kCheckpointName).string();
  if (!fsys::is_directory(dir, ec)) throw ConfigError("resume: '" + folder + "' is not an output folder");
  if (!fsys::exists(ckpt, ec)) {
    const detail::Manifest m = detail::read_manifest(dir);
    if (m.valid && m.status == "complete") {
      throw ConfigError("resume: '" + dir + "' holds a complete run (" + std::to_string(m.samples) +
                        " samples); there is nothing to continue");
    }
    throw ConfigError("resume: '" + dir + "' holds no checkpoint (" + kCheckpointName +
                      "); the run stopped before its first one (record.checkpoint_seconds) and must be run again");
  }
  const CheckpointInfo info = read_checkpoint_info(ckpt);
  std::string path = config_path;
  std::vector<std::string> sets = overrides;
  RunConfig cfg;
  if (path.empty()) {
    if (info.format < 2) {
      throw ConfigError("resume: '" + ckpt + "' was written by an older qifsim; name its config: qifsim run CONFIG --resume " + dir);
    }
    sets = info.details_of("override");  // as it ran, then what is given now
    sets.insert(sets.end(), overrides.begin(), overrides.end());
    path = info.detail("config");
    const std::string copy = (fsys::path(dir) / kConfigCopyName).string();
    if (path.empty() || !fsys::exists(path, ec)) {
      // The config it ran (a string, or a file gone since): the copy beside the recordings,
      // its .npy paths resolved where the original's were.
      if (!fsys::exists(copy, ec)) throw ConfigError("resume: the run's config '" + path + "' is gone, and so is its copy '" + copy + "'");
      std::ifstream in(copy);
      std::stringstream text;
      text << in.rdbuf();
      cfg = parse_config(text.str(), info.detail("base_dir").empty() ? dir : info.detail("base_dir"), copy, sets);
    } else {
      cfg = load_config(path, sets);
    }
  } else {
    cfg = load_config(path, sets);
  }
  cfg.out_dir = dir;
  const auto formats = info.details_of("format");
  if (!formats.empty()) cfg.formats = formats;
  cfg.allow_symlink = cfg.allow_symlink || info.detail("allow_symlink") == "true";
  cfg.resume = true;
  return cfg;
}

namespace {

// Held rows as a source (for the fingerprint, which reads them piece by piece).
InputSource view_source(MatrixView rows) {
  return InputSource{rows.rows, rows.cols, [rows](std::int64_t first, std::int64_t count, double* dst) {
                       std::copy(rows.row(first), rows.row(first) + count * rows.cols, dst);
                     }};
}

RunReport run_config_rows(RunConfig& config, const InputSource& inputs, const MatrixView* held, Observer& obs);

}  // namespace

InputSource RunConfig::input_source() const {
  return computed_inputs.fetch ? computed_inputs : view_source(MatrixView(inputs));
}

RunReport run_config_into(RunConfig& config, Observer& obs) {
  if (config.computed_inputs.fetch) return run_config_into(config, config.computed_inputs, obs);
  return run_config_into(config, MatrixView(config.inputs), obs);
}

RunReport run_config_into(RunConfig& config, MatrixView inputs, Observer& obs) {
  // The caller's memory, checked before anything is written: its shape and every value.
  if (inputs.data == nullptr || inputs.rows < 0 || inputs.cols < 0 ||
      inputs.size != static_cast<std::size_t>(inputs.rows) * static_cast<std::size_t>(inputs.cols)) {
    throw InvalidArgument("run_config: inputs are " + std::to_string(inputs.rows) + " x " + std::to_string(inputs.cols) +
                          " with " + std::to_string(inputs.size) + " values readable");
  }
  for (std::size_t i = 0; i < inputs.size; ++i) {
    if (!std::isfinite(inputs.data[i])) {
      throw InvalidArgument("run_config: input (" + std::to_string(i / static_cast<std::size_t>(inputs.cols)) + ", " +
                            std::to_string(i % static_cast<std::size_t>(inputs.cols)) + ") is not finite");
    }
  }
  return run_config_rows(config, view_source(inputs), &inputs, obs);  // the run reads them in place
}

RunReport run_config_into(RunConfig& config, const InputSource& inputs, Observer& obs) {
  return run_config_rows(config, inputs, nullptr, obs);
}

namespace {

// The run of run_config_into: `inputs` for the fingerprint and the counts; the steps read
// `held` in place where the rows are the caller's memory, else fetch them from `inputs`.
RunReport run_config_rows(RunConfig& config, const InputSource& inputs, const MatrixView* held, Observer& obs) {
  const auto run = [&](const RunOptions& options) {
    if (held != nullptr) {
      config.network.run(*held, options, obs);
    } else {
      config.network.run(inputs, options, obs);
    }
  };
  RunReport report;
  // What the run would refuse before its first step, refused before the folder is touched
  // (over ranks a collective, made by every rank: only rank 0 writes files).
  config.network.check_coupling(detail::requested_coupling(config.options.coupling, config.options.event_coupling));
  for (const RecordVar& rv : config.options.record_vars) config.network.check_record_var(rv);
  for (const std::string& pop : config.options.record_spikes) config.network.check_record_spikes(pop);
  if (config.formats.empty()) {  // nothing on disk: no folder, no checkpoints
    if (config.resume) throw ConfigError("resume: the run records no files (record.formats = []); nothing to continue");
    report.first_step = 0;
    run(config.options);
    report.next_step = config.network.interrupted() ? config.network.resume_step() : inputs.rows;
    report.samples = obs.samples();
    return report;
  }
  const std::vector<FingerprintEntry> fingerprint = run_fingerprint(config, inputs);
  const fsys::path dir(config.out_dir);
  const std::string ckpt = (dir / kCheckpointName).string();
  const fsys::path copy = dir / kConfigCopyName;
  std::error_code ec;
  const bool write_copy = !config.resume && !config.text.empty() &&
                          (config.path.empty() || !fsys::equivalent(copy, config.path, ec));
  // Every name this run writes in the folder, checked against its inputs before anything
  // (the previous run's files included) is removed.
  std::vector<std::string> names = recording_file_names(obs, config.formats);
  if (write_copy) names.emplace_back(kConfigCopyName);
  const bool sweeping = !config.options.sweep.empty();
  if (sweeping) names.emplace_back(detail::kMembersName);
  std::vector<std::string> outputs;
  for (const auto& n : names) outputs.push_back((dir / n).string());
  outputs.push_back(ckpt);
  outputs.push_back((dir / "manifest.json").string());
  refuse_overwriting_inputs(config, outputs);

  auto folder = std::make_shared<detail::RunFolder>(config.out_dir, config.allow_symlink, absolute_path(config.path),
                                                    inputs.rows, config.resume, config.input_files);
  // The folder is the run's until it returns (the object itself lives on in obs's sinks).
  struct Release {
    detail::RunFolder& folder;
    ~Release() { folder.release(); }
  } release{*folder};
  RunOptions options = config.options;
  std::int64_t continue_samples = -1;
  // members.csv: each member's values, status and samples in the files (those before a resume
  // included; a member that stopped has the samples before its stop).
  const auto members_file = [&](const char* status) {
    if (!sweeping) return;
    detail::write_members_csv((dir / detail::kMembersName).string(), config.options.sweep, status, obs,
                              folder->samples(), detail::SampleSchedule{options.sampling_steps, options.cutoff});
  };
  RecordingInfo recording = config.recording_info();
  std::vector<std::shared_ptr<FileSink>> sinks;
  std::shared_ptr<detail::DigestSink> digests;
  // Set-up: a resume refused or failing here leaves the folder's manifest as it was (its
  // checkpoint still continues it); a new run says it failed.
  try {
    if (!config.resume) fsys::remove(ckpt, ec);  // a previous run's: it would not fit these files
    if (config.resume) {
      const detail::Manifest& m = folder->previous();
      if (m.valid && m.status == "complete") {
        throw ConfigError("resume: '" + config.out_dir + "' holds a complete run; there is nothing to continue");
      }
      if (!fsys::exists(ckpt, ec)) {
        throw ConfigError("resume: '" + config.out_dir + "' holds no checkpoint (" + kCheckpointName + ")");
      }
      const CheckpointInfo saved = read_checkpoint_info(ckpt);
      std::vector<FingerprintEntry> theirs;
      for (const auto& e : saved.fingerprint) {
        if (e.key.rfind("network: ", 0) != 0) theirs.push_back(e);
      }
      report.changes = fingerprint_changes(theirs, fingerprint);
      if (saved.format < 2) report.changes.clear();  // format 1 knew no fingerprint
      if (!report.changes.empty() && !config.allow_changes) {
        std::string list;
        for (const auto& c : report.changes) list += "\n  " + c;
        throw ConfigError("resume: the run differs from the one checkpointed in '" + ckpt + "':" + list +
                          "\nits recording would not be one run; resume with --allow-changes (record what changed in "
                          "the manifest) or start a new run");
      }
      // The same series into the same files: a resume recording other series (record.vars,
      // record.output) would end "complete" with files of different lengths.
      if (m.valid) {
        std::vector<std::string> had;
        for (const auto& f : m.files) {
          if (f != kConfigCopyName) had.push_back(f);
        }
        std::vector<std::string> now = names;
        std::sort(had.begin(), had.end());
        std::sort(now.begin(), now.end());
        if (had != now) {
          throw ConfigError("resume: this run would record " + detail::join(now) + " but the recording in '" +
                            config.out_dir + "' is " + detail::join(had) +
                            " (record.vars or record.output changed); a resumed run continues the same files, "
                            "even with --allow-changes");
        }
      }
      CheckpointLoad how;
      how.parameters = false;  // the config's (the same unless changes are allowed)
      how.allow_changes = config.allow_changes;
      how.sweep = sweeping ? &config.options.sweep : nullptr;  // a sweep's members, rebuilt and restored
      config.network.load_checkpoint(ckpt, how);
      if (!config.network.interrupted()) {
        throw ConfigError("resume: '" + ckpt + "' holds no interrupted run");
      }
      const std::string samples = saved.detail("samples");
      continue_samples = detail::leading_int64(samples.c_str(), -1);
      if (continue_samples < 0) throw ConfigError("resume: '" + ckpt + "' does not say how many samples its files hold");
      // A recorded spike was 0/1 before checkpoints said "spike = 1/dt": its files cannot go on
      // in the new scale.
      for (const RecordVar& rv : config.options.record_vars) {
        if (rv.var == "spike" && saved.detail("spike") != "1/dt") {
          throw ConfigError("resume: '" + ckpt + "' continues files that record '" + rv.node +
                            ".spike' as 0 or 1 (written before qifsim recorded spike / dt, RectiPy's "
                            "scale); continued, the files would mix both: start a new run");
        }
      }
      // The digests of the rows the files held at the checkpoint: the files must still hold them.
      for (const auto& [key, value] : saved.details) {
        if (key == "digest") detail::parse_digest_entry(value, recording.digests);
      }
      // The spike events each spike file held then (entries "spikes" = "<population> <count>").
      for (const std::string& pop : config.options.record_spikes) {
        std::int64_t count = -1;
        for (const auto& [key, value] : saved.details) {
          if (key == "spikes" && value.rfind(pop + " ", 0) == 0) count = detail::leading_int64(value.c_str() + pop.size() + 1, -1);
        }
        if (count < 0) throw ConfigError("resume: '" + ckpt + "' does not say how many spikes of '" + pop + "' its files hold");
        recording.spike_counts[pop] = count;
      }
      options.resume = true;
    }
    report.first_step = config.network.interrupted() && options.resume ? config.network.resume_step() : 0;

    sinks = attach_file_sinks(obs, config.out_dir, config.formats, recording, config.allow_symlink, continue_samples);
    // Digests of every row (continuing the checkpoint's; none where a checkpoint without them
    // is continued, as they would cover only the rows after it).
    digests = std::make_shared<detail::DigestSink>(recording.digests, continue_samples <= 0 || !recording.digests.empty());
    obs.add_sink(digests);
    if (options.resume) {
      // The files are reopened (and their rows checked) now, while a refusal leaves the
      // manifest as it was, not at the run's first step.
      std::vector<std::int64_t> widths;
      for (const RecordVar& rv : config.options.record_vars) {
        widths.push_back(rv.mean ? 1 : rv.neurons.empty() ? config.network.node_size(rv.node)
                                                          : static_cast<std::int64_t>(rv.neurons.size()));
      }
      detail::ObserverEngineSide(obs).bind(config.network.output_width(), widths);
      for (const auto& sink : sinks) sink->start(obs);
    }
    obs.add_sink(folder);   // counts the samples, after the files have them
    if (write_copy) {
      // A copy of the config beside the recordings (unless that is where it came from).
      detail::write_file_atomically(copy.string(), [&](std::FILE* out) {
        std::fprintf(out, "# qifsim %s run of %s\n", QIFSIM_VERSION_STRING,
                     config.path.empty() ? "<string>" : config.path.c_str());
        for (const auto& o : config.overrides) std::fprintf(out, "# --set %s\n", o.c_str());
        std::fwrite(config.text.data(), 1, config.text.size(), out);
      });
    }
    // Accepted and set up: from here on the manifest says "running".
    if (options.resume) folder->continue_from(continue_samples, config.network.resume_step(), report.changes);
    folder->add_files(names);
    // (Resumed: members.csv stays as the stop left it, until the first checkpoint or the end
    // rewrites it; the members that stopped before are known once the run starts.)
    if (!options.resume) members_file("running");
  } catch (const std::exception& e) {
    if (!config.resume) {
      try {
        folder->finish("failed", 0, e.what());
      } catch (...) {
        // a full disk: the error below says what went wrong
      }
    }
    throw;
  }

  // The checkpoint: the network's state at a step boundary, the samples the files hold then
  // (all that were recorded: a stopped run hands its ring over first) and how to resume.
  const auto save_checkpoint = [&] {
    CheckpointInfo info;
    info.fingerprint = fingerprint;
    info.details = {{"config", absolute_path(config.path)},
                    {"base_dir", absolute_path(config.base_dir)},
                    {"out_dir", absolute_path(config.out_dir)},
                    {"allow_symlink", config.allow_symlink ? "true" : "false"},
                    {"samples", std::to_string(folder->samples())},
                    {"next_step", std::to_string(config.network.resume_step())},
                    {"steps", std::to_string(inputs.rows)},
                    {"qifsim", QIFSIM_VERSION_STRING},
                    {"spike", "1/dt"}};  // how `spike` is recorded (0/1 before this entry)
    for (const auto& o : config.overrides) info.details.emplace_back("override", o);
    for (const auto& f : config.formats) info.details.emplace_back("format", f);
    for (const auto& [key, h] : digests->digests()) info.details.emplace_back("digest", detail::digest_entry(key, h));
    for (const std::string& pop : config.options.record_spikes) {  // the files' spikes: continued + this process's
      const auto it = recording.spike_counts.find(pop);
      const std::int64_t before = config.resume && it != recording.spike_counts.end() ? it->second : 0;
      info.details.emplace_back("spikes", pop + " " + std::to_string(before + obs.spike_count(pop)));
    }
    config.network.save_checkpoint(ckpt, nullptr, &info);
    folder->checkpointed(config.network.resume_step(), kCheckpointName);
    members_file("running");  // the samples the files hold now, the members stopped so far
  };

  // Over several ranks no checkpoint is written in this version: a stop ends the run, its files
  // holding what was recorded up to there.
  const bool split = config.network.communicator().distributed();
  StopTimer timer(config.options.stop, split ? 0.0 : config.checkpoint_seconds);
  options.stop = timer.flag();
  try {
    for (;;) {
      run(options);
      if (!config.network.interrupted() || split) break;
      // Stopped: by the caller (or stop_at_step), or for a periodic checkpoint.
      save_checkpoint();
      if (timer.user_stop() || !timer.flag()->load()) {
        report.checkpoint = ckpt;
        break;
      }
      timer.rearm();
      options.resume = true;
    }
  } catch (const std::exception& e) {
    try {
      finish_file_sinks(sinks, obs);  // keep what was recorded readable
    } catch (...) {
    }
    try {
      members_file("failed");
      folder->finish("failed", config.network.step_count(), e.what(), fsys::exists(ckpt, ec) ? kCheckpointName : "");
    } catch (...) {
    }
    throw;
  }
  for (auto& p : finish_file_sinks(sinks, obs)) report.files.push_back(std::move(p));
  if (write_copy) report.files.push_back(copy.string());
  report.samples = folder->samples();
  members_file(report.interrupted() ? "interrupted" : "complete");
  if (sweeping) report.files.push_back((dir / detail::kMembersName).string());
  if (report.interrupted() || (split && config.network.interrupted())) {
    report.next_step = config.network.resume_step();
    folder->finish("interrupted", report.next_step, "", split ? "" : kCheckpointName);
  } else {
    report.next_step = inputs.rows;
    fsys::remove(ckpt, ec);  // a complete run has nothing to resume
    folder->finish("complete", report.next_step);
  }
  return report;
}

}  // namespace

}  // namespace qifsim
