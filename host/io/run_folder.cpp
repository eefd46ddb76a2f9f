// host/io/run_folder.cpp - a run's output folder: lock, manifest, what a previous run left
// (run_folder.hpp).
#include "io/run_folder.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <sstream>

#include "io/input_files.hpp"
#include "io/output_files.hpp"
#include "qifsim/error.hpp"
#include "qifsim/version.hpp"
#include "core/text.hpp"

namespace qifsim::detail {
namespace {

namespace fs = std::filesystem;

constexpr const char* kManifest = "manifest.json";
constexpr const char* kLock = ".qifsim.lock";

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// A name this code may remove from the folder: a plain file name of ours, nothing with a
// path in it and no hidden file.
bool plain_name(const std::string& name) {
  return !name.empty() && name.find('/') == std::string::npos && name[0] != '.' && name != kManifest;
}

// A name a run writes in its folder: a series' .npy or .csv file, the HDF5 recording, the
// config's copy or the checkpoint. A rerun removes only such names of the previous run.
bool recording_name(const std::string& name) {
  return ends_with(name, ".npy") || ends_with(name, ".csv") || name == "recording.h5" || name == kConfigCopyName ||
         name == kCheckpointName;
}

// The value after `"key": ` on one line of our own manifest (the writer puts one key per line).
std::string field(const std::string& line, const std::string& key) {
  const std::string tag = "\"" + key + "\": ";
  const std::size_t at = line.find(tag);
  if (at == std::string::npos) return "";
  std::string v = line.substr(at + tag.size());
  while (!v.empty() && (v.back() == ',' || v.back() == ' ')) v.pop_back();
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  return v;
}

}  // namespace

Manifest read_manifest(const std::string& dir) {
  Manifest m;
  const std::string path = (fs::path(dir) / kManifest).string();
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return m;  // none (or a dangling link)
  // Anything but a regular file is refused by name: a FIFO there would block the run forever.
  constexpr std::uint64_t kMaxManifestBytes = std::uint64_t{64} << 20;
  std::istringstream in(read_regular_file(path, "a run's manifest", kMaxManifestBytes));
  std::string line;
  bool in_files = false;
  bool format_ok = false;
  while (std::getline(in, line)) {
    if (in_files) {
      const std::size_t a = line.find('"');
      const std::size_t b = line.rfind('"');
      if (line.find(']') != std::string::npos && a == std::string::npos) {
        in_files = false;
        continue;
      }
      if (a != std::string::npos && b > a) {
        const std::string name = line.substr(a + 1, b - a - 1);
        if (plain_name(name)) m.files.push_back(name);
      }
      continue;
    }
    if (line.find("\"files\": [") != std::string::npos) {
      in_files = line.find(']') == std::string::npos;
      continue;
    }
    if (!field(line, "format").empty()) format_ok = field(line, "format") == "qifsim-run 1";
    if (!field(line, "status").empty()) m.status = field(line, "status");
    if (!field(line, "pid").empty()) m.pid = leading_int64(field(line, "pid").c_str(), 0);
    if (!field(line, "samples").empty()) m.samples = leading_int64(field(line, "samples").c_str(), 0);
  }
  m.valid = format_ok && !m.status.empty();
  return m;
}

RunFolder::RunFolder(const std::string& dir, bool allow_symlink, const std::string& config, std::int64_t steps,
                     bool resume, const std::vector<std::string>& keep)
    : dir_(dir), config_(config), steps_(steps), started_(utc_now()) {
  prepare_output_dir(dir_, allow_symlink);
  // The lock: held for the whole run (and released by the kernel when the process ends, also
  // when it is killed). Another run into the folder meanwhile is refused.
  const std::string lock_path = (fs::path(dir_) / kLock).string();
  do {
    lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  } while (lock_fd_ < 0 && errno == EINTR);
  if (lock_fd_ < 0) throw IoError("cannot lock the output folder '" + dir_ + "': " + errno_text(errno));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(lock_fd_);
    lock_fd_ = -1;
    if (err == EWOULDBLOCK) {
      Manifest other;
      try {
        other = read_manifest(dir_);
      } catch (const IoError&) {
        // the other run's pid is only a courtesy
      }
      throw IoError("the output folder '" + dir_ + "' is in use by another run" +
                    (other.pid > 0 ? " (pid " + std::to_string(other.pid) + ")" : std::string()) +
                    "; wait for it to end, or choose another folder");
    }
    throw IoError("cannot lock the output folder '" + dir_ + "': " + errno_text(err));
  }
  // What a previous run owned goes (a rerun of the same command starts clean); files it did
  // not list stay. A resumed run continues them instead.
  previous_ = read_manifest(dir_);
  if (resume) {
    files_ = previous_.files;
  } else {
    for (const auto& name : previous_.files) {
      if (!recording_name(name)) continue;  // a manifest edited to list other files: kept
      const fs::path p = fs::path(dir_) / name;
      bool input = false;
      std::error_code ec;
      for (const auto& k : keep) input = input || fs::equivalent(p, k, ec);
      struct stat st {};
      if (!input && ::lstat(p.c_str(), &st) == 0 && (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))) ::unlink(p.c_str());
    }
  }
  // Temporary files a killed run may have left (".<name>.<16 hex digits>.part").
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > 23 && name[0] == '.' && name.compare(name.size() - 5, 5, ".part") == 0 &&
        name[name.size() - 22] == '.' &&
        name.find_first_not_of("0123456789abcdef", name.size() - 21) == name.size() - 5) {
      ::unlink(entry.path().c_str());
    }
  }
  // A resume says "running" once it is accepted (continue_from): one refused leaves the
  // manifest as it was.
  if (!resume) write_manifest("running", "");
}

RunFolder::~RunFolder() { release(); }

void RunFolder::release() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the lock
  lock_fd_ = -1;
}

void RunFolder::add_files(const std::vector<std::string>& paths) {
  for (const auto& p : paths) {
    const std::string name = fs::path(p).filename().string();
    bool seen = false;
    for (const auto& f : files_) seen = seen || f == name;
    if (!seen && plain_name(name)) files_.push_back(name);
  }
  write_manifest("running", "");
}

void RunFolder::continue_from(std::int64_t samples, std::int64_t step, const std::vector<std::string>& changes) {
  samples_ = samples;
  steps_done_ = step;
  resumed_from_ = step;
  changes_ = changes;
  write_manifest("running", "");
}

void RunFolder::write(const Observer&, std::int64_t count, const std::int64_t*, const std::vector<const double*>&) {
  samples_ += count;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_write_ >= std::chrono::seconds(1)) write_manifest("running", "");
}

void RunFolder::checkpointed(std::int64_t steps_done, const std::string& checkpoint) {
  steps_done_ = steps_done;
  checkpoint_ = checkpoint;
  write_manifest("running", "");
}

void RunFolder::finish(const std::string& status, std::int64_t steps_done, const std::string& error,
                       const std::string& checkpoint) {
  steps_done_ = steps_done;
  checkpoint_ = checkpoint;
  write_manifest(status, error);
}

namespace {
std::string number_text(double x) {  // exactly, as JSON reads it back
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}
}  // namespace

void RunFolder::write_manifest(const std::string& status, const std::string& error) {
  std::ostringstream os;
  os << "{\n"
     << "  \"format\": \"qifsim-run 1\",\n"
     << "  \"status\": " << json_string(status) << ",\n"
     << "  \"pid\": " << ::getpid() << ",\n"
     << "  \"qifsim\": " << json_string(QIFSIM_VERSION_STRING) << ",\n"
     << "  \"config\": " << json_string(config_) << ",\n"
     << "  \"started\": " << json_string(started_) << ",\n"
     << "  \"updated\": " << json_string(utc_now()) << ",\n"
     << (dt_ > 0.0 ? "  \"dt\": " + number_text(dt_) + ",\n" : std::string())
     << "  \"steps\": " << steps_ << ",\n"
     << "  \"steps_done\": " << steps_done_ << ",\n"
     << "  \"samples\": " << samples_ << ",\n"
     << "  \"resumed_from\": " << (resumed_from_ < 0 ? std::string("null") : std::to_string(resumed_from_)) << ",\n"
     << "  \"changes\": [";
  for (std::size_t i = 0; i < changes_.size(); ++i) os << (i ? ", " : "") << json_string(changes_[i]);
  os << "],\n"
     << "  \"error\": " << (error.empty() ? "null" : json_string(error)) << ",\n"
     << "  \"checkpoint\": " << (checkpoint_.empty() ? "null" : json_string(checkpoint_)) << ",\n"
     << "  \"files\": [";
  for (std::size_t i = 0; i < files_.size(); ++i) {
    os << (i ? ",\n    " : "\n    ") << json_string(files_[i]);
  }
  os << (files_.empty() ? "]\n" : "\n  ]\n") << "}\n";
  const std::string text = os.str();
  write_file_atomically((fs::path(dir_) / kManifest).string(),
                        [&](std::FILE* f) { std::fwrite(text.data(), 1, text.size(), f); });
  last_write_ = std::chrono::steady_clock::now();
}

}  // namespace qifsim::detail
