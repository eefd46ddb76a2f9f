// host/io/file_sinks.cpp - recordings copied out to NPY and CSV files batch by batch, and the
// helpers that attach, finish and save sinks for a list of formats.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

#include "qifsim/error.hpp"
#include "qifsim/recording.hpp"
#include "io/npy_writer.hpp"
#include "io/file_writes.hpp"
#include "io/output_files.hpp"
#include "io/row_digest.hpp"
#include "io/spike_files.hpp"
#include "core/text.hpp"

namespace qifsim {
namespace {

using File = detail::OutputFile;
using namespace detail::file_writes;  // NOLINT(google-build-using-namespace): the writers' helpers

[[noreturn]] void fewer_samples(const std::string& path, std::int64_t held, std::int64_t wanted) {
  throw IoError("cannot continue '" + path + "': it holds " + std::to_string(held) + " samples, the checkpoint counts " +
                std::to_string(wanted) + " (the recording was changed or damaged after the checkpoint)");
}

class NpySink final : public FileSink {
 public:
  // continue_rows >= 0: continue the existing files, cut to that many rows.
  NpySink(std::string dir, std::int64_t continue_rows, detail::RowDigests digests = {})
      : dir_(std::move(dir)), continue_rows_(continue_rows), digests_(std::move(digests)) {}
  ~NpySink() override {
    try {
      complete(nullptr);
    } catch (...) {  // a destructor must not throw; finish() reports errors
    }
  }

  // Each file stays a valid .npy file at every moment: the batch's rows are written and
  // handed to the kernel first, then the header's shape is rewritten in place to count them.
  // A run killed at any point leaves files that load with the samples they claim (at most
  // one batch fewer than the data they hold).
  void write(const Observer& obs, std::int64_t count, const std::int64_t* steps,
             const std::vector<const double*>& series) override {
    if (!open_) open(obs);
    try {
      for (std::size_t i = 0; i < series.size(); ++i) {
        Stream& s = streams_[i];
        write_fd(s.file.get(), series[i], static_cast<std::size_t>(count * s.width) * sizeof(double), s.path);
      }
      write_fd(steps_.file.get(), steps, static_cast<std::size_t>(count) * sizeof(std::int64_t), steps_.path);
      time_buf_.resize(static_cast<std::size_t>(count));
      for (std::int64_t r = 0; r < count; ++r) time_buf_[static_cast<std::size_t>(r)] = static_cast<double>(steps[r]) * obs.dt();
      write_fd(time_.file.get(), time_buf_.data(), time_buf_.size() * sizeof(double), time_.path);
    } catch (...) {
      cut_back();  // a full disk: the part of the batch that got out is not left behind the rows
      throw;
    }
    rows_ += count;
    for (Stream* s : all_streams()) write_header(*s);
  }

  void start(const Observer& obs) override {
    if (!open_) open(obs);
  }

  void finish(const Observer& obs) override { complete(&obs); }

  std::vector<std::string> paths() const override { return paths_; }

 private:
  struct Stream {
    std::string key;  // the series, "steps" or "time"
    std::string path;
    std::int64_t width = 0;  // values per row, every member's; 0: a one-dimensional array (steps, time)
    std::int64_t members = 1;  // > 1: rows x members x (width / members)
    const char* descr = "<f8";
    File file;
  };

  void open(const Observer& obs) {
    for (const auto& key : obs.keys()) add(key, obs.width(key) * obs.members(), "<f8", streams_.emplace_back(), obs.members());
    add("steps", 0, "<i8", steps_);
    add("time", 0, "<f8", time_);
    if (continue_rows_ >= 0) rows_ = continue_rows_;
    open_ = true;
  }

  // A new file with its header in place before it appears under its name (or, continuing,
  // the existing file cut to the rows the checkpoint counts).
  void add(const std::string& key, std::int64_t width, const char* descr, Stream& s, std::int64_t members = 1) {
    const std::string path = join_path(dir_, key + ".npy");
    s.key = key;
    s.path = path;
    s.width = width;
    s.members = members;
    s.descr = descr;
    if (continue_rows_ >= 0) {
      reopen(s);
      paths_.push_back(path);
      return;
    }
    detail::PendingFile pending(path);
    const std::string head = npy_header(descr, shape(s, 0));
    write_all(pending.get(), head.data(), head.size(), path);
    s.file = pending.commit();
    paths_.push_back(path);
  }

  // The file must hold our header for its series (same dtype and width) and at least
  // continue_rows_ rows; what follows them (written after the checkpoint) is cut off.
  void reopen(Stream& s) {
    std::uint64_t size = 0;
    s.file = open_existing(s.path, &size);
    std::string head(kNpyHeaderBytes, '\0');
    if (size < kNpyHeaderBytes || ::pread(::fileno(s.file.get()), head.data(), head.size(), 0) !=
                                      static_cast<ssize_t>(head.size())) {
      throw IoError("cannot continue '" + s.path + "': not an .npy file written by qifsim");
    }
    const std::size_t at = head.find("'shape': (");
    const std::int64_t claimed = at == std::string::npos ? -1 : detail::leading_int64(head.c_str() + at + 10, -1);
    if (claimed < 0 || head != npy_header(s.descr, shape(s, claimed))) {
      throw IoError("cannot continue '" + s.path + "': its header is not the one this recording writes (dtype " +
                    s.descr + ", " + (s.width > 0 ? std::to_string(s.width) + " values per sample" : "one value per sample") +
                    ")");
    }
    const std::uint64_t row_bytes = static_cast<std::uint64_t>(std::max<std::int64_t>(s.width, 1)) * 8;
    const auto held = static_cast<std::int64_t>((size - kNpyHeaderBytes) / row_bytes);
    if (held < continue_rows_) fewer_samples(s.path, held, continue_rows_);
    check_digest(s, row_bytes);
    truncate_to(s.file.get(), kNpyHeaderBytes + static_cast<std::uint64_t>(continue_rows_) * row_bytes, s.path);
    const std::string fixed = npy_header(s.descr, shape(s, continue_rows_));
    write_at(s.file.get(), fixed.data(), fixed.size(), 0, s.path);
  }

  // The rows kept (continue_rows_ of `row_bytes` after the header) must be those the run
  // wrote: their digest is the checkpoint's (the values are stored as their little-endian bytes).
  void check_digest(const Stream& s, std::uint64_t row_bytes) {
    const auto want = digests_.find(s.key);
    if (want == digests_.end()) return;
    const std::uint64_t block = std::max<std::uint64_t>(1, (std::uint64_t{1} << 20) / row_bytes);  // rows
    std::vector<unsigned char> buf(static_cast<std::size_t>(block * row_bytes));
    std::uint64_t h = detail::kDigestStart;
    for (std::uint64_t row = 0; row < static_cast<std::uint64_t>(continue_rows_);) {
      const std::uint64_t rows = std::min<std::uint64_t>(block, static_cast<std::uint64_t>(continue_rows_) - row);
      const std::size_t bytes = static_cast<std::size_t>(rows * row_bytes);
      for (std::size_t done = 0; done < bytes;) {
        const ssize_t got = ::pread(::fileno(s.file.get()), buf.data() + done, bytes - done,
                                    static_cast<off_t>(kNpyHeaderBytes + row * row_bytes + done));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) throw IoError("cannot continue '" + s.path + "': " + detail::errno_text(got < 0 ? errno : EIO));
        done += static_cast<std::size_t>(got);
      }
      h = detail::digest_rows(h, buf.data(), static_cast<std::size_t>(rows), static_cast<std::size_t>(row_bytes));
      row += rows;
    }
    if (h != want->second) throw IoError(detail::changed_rows(s.path, continue_rows_));
  }

  static std::vector<std::int64_t> shape(const Stream& s, std::int64_t rows) {
    if (s.width > 0 && s.members > 1) return {rows, s.members, s.width / s.members};
    return s.width > 0 ? std::vector<std::int64_t>{rows, s.width} : std::vector<std::int64_t>{rows};
  }

  std::vector<Stream*> all_streams() {
    std::vector<Stream*> all;
    for (auto& s : streams_) all.push_back(&s);
    all.push_back(&steps_);
    all.push_back(&time_);
    return all;
  }

  // After a failed write: every file back to exactly the rows its header claims (best
  // effort; the header is right either way). Rows go out with write(2), unbuffered, so no
  // part of the failed batch waits in a buffer to be written later.
  void cut_back() {
    for (Stream* s : all_streams()) {
      if (!s->file) continue;
      const off_t keep = static_cast<off_t>(kNpyHeaderBytes) +
                         static_cast<off_t>(rows_ * std::max<std::int64_t>(s->width, 1) * 8);
      const int fd = ::fileno(s->file.get());
      if (::ftruncate(fd, keep) == 0) ::lseek(fd, keep, SEEK_SET);
    }
  }

  // The header for the rows written so far, in place (the file position stays at the end).
  void write_header(Stream& s) {
    const std::string head = npy_header(s.descr, shape(s, rows_));
    write_at(s.file.get(), head.data(), head.size(), 0, s.path);
  }

  void close(Stream& s) {
    if (!s.file) return;
    flush(s.file.get(), s.path);
    write_header(s);
    detail::close_output_file(s.file, s.path);
  }

  void complete(const Observer* obs) {
    if (done_) return;
    if (!open_) {
      if (!obs) return;
      open(*obs);  // no batch arrived: empty arrays of the right widths
    }
    done_ = true;
    for (auto& s : streams_) close(s);
    close(steps_);
    close(time_);
  }

  std::string dir_;
  std::vector<Stream> streams_;
  Stream steps_, time_;
  std::vector<double> time_buf_;
  std::vector<std::string> paths_;
  std::int64_t continue_rows_ = -1;
  detail::RowDigests digests_;  // of the rows to continue (empty: not checked)
  std::int64_t rows_ = 0;
  bool open_ = false;
  bool done_ = false;
};

// ---- CSV ------------------------------------------------------------------------------

// The digests of CSV lines `step,time,v0,v1,...` (an ensemble's: `step,time,member,v0,...`, a
// line per member) fed a character at a time: each field is parsed as the sinks wrote it (an
// int64 step, %.17g numbers, which read back exactly) and each sample's values (every member's
// lines) are digested as one row.
class LineDigests {
 public:
  LineDigests(std::int64_t width, std::int64_t members, bool on) : width_(width), members_(members), on_(on) {}
  void add(char c) {
    if (!on_) return;
    if (c != ',' && c != '\n') {
      if (field_.size() < 64) field_ += c;
      return;
    }
    end_field();
    if (c == '\n') {
      if (++member_ == members_) {  // the sample's last line
        bad = bad || static_cast<std::int64_t>(row_.size()) != width_ * members_;
        values = detail::digest_row(values, row_.data(), row_.size() * sizeof(double));
        row_.clear();
        member_ = 0;
      }
      column_ = 0;
    }
  }
  std::uint64_t values = detail::kDigestStart;
  std::uint64_t steps = detail::kDigestStart;
  std::uint64_t times = detail::kDigestStart;
  bool bad = false;  // a line that does not parse

 private:
  void end_field() {
    char* end = nullptr;
    if (column_ == 0) {
      const std::int64_t step = std::strtoll(field_.c_str(), &end, 10);
      if (member_ == 0) steps = detail::digest_row(steps, &step, sizeof step);
    } else if (column_ == 2 && members_ > 1) {
      bad = bad || std::strtoll(field_.c_str(), &end, 10) != member_;  // the member column
    } else {
      const double x = std::strtod(field_.c_str(), &end);
      if (column_ == 1) {
        if (member_ == 0) times = detail::digest_row(times, &x, sizeof x);
      } else {
        row_.push_back(x);
      }
    }
    bad = bad || field_.empty() || end != field_.c_str() + field_.size();
    field_.clear();
    ++column_;
  }
  std::int64_t width_;    // values per line (a member's)
  std::int64_t members_;  // lines per sample
  bool on_;
  std::string field_;
  std::vector<double> row_;  // the values of the sample being read
  std::int64_t column_ = 0;
  std::int64_t member_ = 0;  // the line's member
};

class CsvSink final : public FileSink {
 public:
  CsvSink(std::string dir, std::int64_t continue_rows, detail::RowDigests digests = {})
      : dir_(std::move(dir)), continue_rows_(continue_rows), digests_(std::move(digests)) {}
  ~CsvSink() override {
    try {
      complete(nullptr);
    } catch (...) {
    }
  }

  void write(const Observer& obs, std::int64_t count, const std::int64_t* steps,
             const std::vector<const double*>& series) override {
    if (!open_) open(obs);
    // Whole lines only: a batch is formatted first and handed to the kernel in one write,
    // so a run stopped or failing leaves no line cut in half. (A SIGKILL can still stop the
    // kernel between the pages of that write; a resume cuts such a last line off.)
    char number[32];
    for (std::size_t i = 0; i < series.size(); ++i) {
      Stream& s = streams_[i];
      text_.clear();
      const std::int64_t members = obs.members();
      for (std::int64_t r = 0; r < count; ++r) {
        for (std::int64_t m = 0; m < members; ++m) {  // an ensemble in long form: a line per member
          std::snprintf(number, sizeof number, "%lld", static_cast<long long>(steps[r]));
          text_ += number;
          std::snprintf(number, sizeof number, ",%.17g", static_cast<double>(steps[r]) * obs.dt());
          text_ += number;
          if (members > 1) {
            std::snprintf(number, sizeof number, ",%lld", static_cast<long long>(m));
            text_ += number;
          }
          const double* row = series[i] + (r * members + m) * s.width;
          for (std::int64_t j = 0; j < s.width; ++j) {
            std::snprintf(number, sizeof number, ",%.17g", row[j]);
            text_ += number;
          }
          text_ += '\n';
        }
      }
      flush(s.file.get(), s.path);
      try {
        write_at(s.file.get(), text_.data(), text_.size(), s.end, s.path);
      } catch (...) {
        // A full disk: the lines that got out are cut off again, the file ends on a whole
        // line (best effort).
        if (::ftruncate(::fileno(s.file.get()), s.end) != 0) {
          // the write error below says what went wrong
        }
        throw;
      }
      s.end += static_cast<off_t>(text_.size());
    }
  }

  void start(const Observer& obs) override {
    if (!open_) open(obs);
  }
  void finish(const Observer& obs) override { complete(&obs); }
  std::vector<std::string> paths() const override { return paths_; }

 private:
  struct Stream {
    std::string path;
    std::int64_t width = 0;
    File file;
    off_t end = 0;  // bytes written (rows go there with pwrite)
  };

  void open(const Observer& obs) {
    for (const auto& key : obs.keys()) {
      Stream& s = streams_.emplace_back();
      s.path = join_path(dir_, key + ".csv");
      s.width = obs.width(key);  // per member
      std::string head = obs.members() > 1 ? "step,time,member" : "step,time";
      for (std::int64_t j = 0; j < s.width; ++j) head += "," + key + "[" + std::to_string(j) + "]";
      head += '\n';
      if (continue_rows_ >= 0) {
        reopen(s, head, key, obs.members());
        paths_.push_back(s.path);
        continue;
      }
      detail::PendingFile pending(s.path);
      write_at(pending.get(), head.data(), head.size(), 0, s.path);
      s.file = pending.commit();
      s.end = static_cast<off_t>(head.size());
      paths_.push_back(s.path);
    }
    open_ = true;
  }

  // The file must start with this recording's header line and hold at least continue_rows_
  // whole lines after it; it is cut after that many.
  void reopen(Stream& s, const std::string& head, const std::string& key, std::int64_t members) {
    const std::int64_t lines_wanted = continue_rows_ * members;  // an ensemble's: a line per member
    std::uint64_t size = 0;
    s.file = open_existing(s.path, &size);
    std::vector<char> buf(std::size_t{1} << 20);
    std::string first;
    std::uint64_t offset = 0;
    std::int64_t lines = -1;  // the header line is line -1
    bool found = continue_rows_ == -1;
    LineDigests digest(s.width, members, !digests_.empty());
    while (offset < size && !found) {
      const ssize_t n = ::pread(::fileno(s.file.get()), buf.data(), buf.size(), static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw IoError("cannot continue '" + s.path + "': " + detail::errno_text(n < 0 ? errno : EIO));
      for (ssize_t i = 0; i < n; ++i) {
        if (lines == -1 && first.size() < head.size()) first += buf[static_cast<std::size_t>(i)];
        if (lines >= 0) digest.add(buf[static_cast<std::size_t>(i)]);
        if (buf[static_cast<std::size_t>(i)] == '\n' && ++lines == lines_wanted) {
          offset += static_cast<std::uint64_t>(i) + 1;
          found = true;
          break;
        }
      }
      if (!found) offset += static_cast<std::uint64_t>(n);
    }
    if (first != head) throw IoError("cannot continue '" + s.path + "': its header line is not this recording's");
    if (!found) fewer_samples(s.path, std::max<std::int64_t>(lines, 0) / members, continue_rows_);
    // The lines kept must be the run's: their numbers (read back exactly: %.17g) have the
    // checkpoint's digests, the step and time columns those of "steps" and "time".
    for (const auto& [name, h] : {std::pair<std::string, std::uint64_t>{key, digest.values},
                                  {"steps", digest.steps}, {"time", digest.times}}) {
      const auto want = digests_.find(name);
      if (want != digests_.end() && (digest.bad || want->second != h)) {
        throw IoError(detail::changed_rows(s.path, continue_rows_));
      }
    }
    truncate_to(s.file.get(), offset, s.path);
    s.end = static_cast<off_t>(offset);
  }

  void complete(const Observer* obs) {
    if (done_) return;
    if (!open_) {
      if (!obs) return;
      open(*obs);
    }
    done_ = true;
    for (auto& s : streams_) detail::close_output_file(s.file, s.path);
  }

  std::string dir_;
  std::vector<Stream> streams_;
  std::vector<std::string> paths_;
  std::string text_;  // one batch of one series, formatted
  std::int64_t continue_rows_ = -1;
  detail::RowDigests digests_;  // of the rows to continue (empty: not checked)
  bool open_ = false;
  bool done_ = false;
};

std::string canonical_format(const std::string& fmt) {
  if (fmt == "npy") return "npy";
  if (fmt == "csv") return "csv";
  if (fmt == "hdf5" || fmt == "h5") return "hdf5";
  throw InvalidArgument("unknown recording format '" + fmt + "' (formats: " + detail::join(file_formats()) + ")");
}

}  // namespace

std::shared_ptr<FileSink> make_npy_sink(const std::string& dir, std::int64_t continue_samples) {
  return std::make_shared<NpySink>(dir, continue_samples);
}
std::shared_ptr<FileSink> make_csv_sink(const std::string& dir, std::int64_t continue_samples) {
  return std::make_shared<CsvSink>(dir, continue_samples);
}

std::vector<std::string> recording_file_names(const Observer& obs, const std::vector<std::string>& formats) {
  std::vector<std::string> names;
  for (const auto& f : formats) {
    const std::string c = canonical_format(f);
    if (c == "hdf5") {
      names.emplace_back("recording.h5");
      continue;
    }
    for (const auto& key : obs.keys()) names.push_back(key + "." + c);
    for (const auto& pop : obs.spec().spikes) names.push_back(detail::spike_file_name(pop, c));
    if (c == "npy") {
      names.emplace_back("steps.npy");
      names.emplace_back("time.npy");
    }
  }
  return names;
}

std::vector<std::string> file_formats() { return {"npy", "hdf5", "csv"}; }

std::vector<std::shared_ptr<FileSink>> attach_file_sinks(Observer& obs, const std::string& dir,
                                                         const std::vector<std::string>& formats,
                                                         const RecordingInfo& info, bool allow_symlink,
                                                         std::int64_t continue_samples) {
  std::vector<std::string> canonical;
  for (const auto& f : formats) {
    const std::string c = canonical_format(f);
    if (c == "hdf5" && !hdf5_supported()) {
      throw InvalidArgument("recording format 'hdf5': this qifsim build has no HDF5 support "
                            "(install libhdf5-dev and rebuild)");
    }
    bool seen = false;
    for (const auto& other : canonical) seen = seen || other == c;
    if (!seen) canonical.push_back(c);
  }
  detail::prepare_output_dir(dir, allow_symlink);
  std::vector<std::shared_ptr<FileSink>> sinks;
  for (const auto& c : canonical) {
    if (c == "npy") sinks.push_back(std::make_shared<NpySink>(dir, continue_samples, info.digests));
    else if (c == "csv") sinks.push_back(std::make_shared<CsvSink>(dir, continue_samples, info.digests));
    else sinks.push_back(make_hdf5_sink(join_path(dir, "recording.h5"), info, continue_samples));
    if (c != "hdf5" && !obs.spec().spikes.empty()) {  // spike events: files of their own
      sinks.push_back(detail::make_spike_file_sink(dir, c, continue_samples >= 0 ? &info.spike_counts : nullptr));
    }
  }
  for (const auto& s : sinks) obs.add_sink(s);
  return sinks;
}

std::vector<std::string> finish_file_sinks(const std::vector<std::shared_ptr<FileSink>>& sinks,
                                           const Observer& obs) {
  std::vector<std::string> paths;
  for (const auto& s : sinks) {
    s->finish(obs);
    for (auto& p : s->paths()) paths.push_back(std::move(p));
  }
  return paths;
}

std::vector<std::string> save_recording(const Observer& obs, const std::string& dir,
                                        const std::vector<std::string>& formats,
                                        const RecordingInfo& info, bool allow_symlink) {
  // A scratch observer only lends its sink list; the data come from `obs`.
  Observer scratch(obs.dt(), obs.spec());
  const auto sinks = attach_file_sinks(scratch, dir, formats, info, allow_symlink);
  const std::vector<std::string> keys = obs.keys();
  std::vector<Matrix> data;
  std::vector<const double*> series;
  for (const auto& key : keys) data.push_back(obs.to_matrix(key));  // throws if not in memory
  for (const auto& m : data) series.push_back(m.data.data());
  for (std::size_t p = 0; p < obs.spec().spikes.size(); ++p) {  // spike events first, as a run sends them
    const std::string& pop = obs.spec().spikes[p];
    const auto count = static_cast<std::int64_t>(obs.spike_steps(pop).size());
    if (count == 0) continue;
    for (const auto& s : sinks) s->write_spikes(obs, p, count, obs.spike_steps(pop).data(), obs.spike_neurons(pop).data());
  }
  if (obs.samples() > 0) {
    for (const auto& s : sinks) s->write(obs, obs.samples(), obs.steps().data(), series);
  }
  return finish_file_sinks(sinks, obs);
}

}  // namespace qifsim
