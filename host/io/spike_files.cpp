// host/io/spike_files.cpp - spike events to NPY or CSV files (spike_files.hpp).
#include "io/spike_files.hpp"

#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "io/file_writes.hpp"
#include "io/output_files.hpp"
#include "qifsim/error.hpp"

namespace qifsim::detail {
namespace {

using namespace file_writes;  // NOLINT(google-build-using-namespace): the writers' helpers

class SpikeFileSink final : public FileSink {
 public:
  SpikeFileSink(std::string dir, std::string format, const std::map<std::string, std::int64_t>* counts)
      : dir_(std::move(dir)), npy_(format == "npy"), continuing_(counts != nullptr) {
    if (counts) counts_ = *counts;
  }
  ~SpikeFileSink() override {
    try {
      complete(nullptr);
    } catch (...) {  // a destructor must not throw; finish() reports errors
    }
  }

  void start(const Observer& obs) override {
    if (!open_) open(obs);
  }
  void write(const Observer& obs, std::int64_t, const std::int64_t*, const std::vector<const double*>&) override {
    if (!open_) open(obs);  // samples go to the other sinks
  }

  // NPY: the rows go out first, then the header is rewritten to count them (a run killed in
  // between leaves a file that loads with the spikes its header claims). CSV: whole lines.
  void write_spikes(const Observer& obs, std::size_t pop, std::int64_t count, const std::int64_t* steps,
                    const std::int64_t* neurons) override {
    write_events(obs, pop, count, steps, nullptr, neurons);
  }
  // An ensemble's: rows (step, member, neuron); CSV step,time,member,neuron.
  void write_member_spikes(const Observer& obs, std::size_t pop, std::int64_t count, const std::int64_t* steps,
                           const std::int64_t* members, const std::int64_t* neurons) override {
    write_events(obs, pop, count, steps, members, neurons);
  }

  void write_events(const Observer& obs, std::size_t pop, std::int64_t count, const std::int64_t* steps,
                    const std::int64_t* members, const std::int64_t* neurons) {
    if (!open_) open(obs);
    Stream& s = streams_.at(pop);
    if (npy_) {
      spike_rows(count, steps, members, neurons, buf_);
      try {
        write_fd(s.file.get(), buf_.data(), buf_.size() * sizeof(std::int64_t), s.path);
      } catch (...) {
        cut_back(s);
        throw;
      }
      s.rows += count;
      write_header(s);
      return;
    }
    text_.clear();
    char line[96];
    for (std::int64_t k = 0; k < count; ++k) {
      const int n = members != nullptr
                        ? std::snprintf(line, sizeof line, "%lld,%.17g,%lld,%lld\n", static_cast<long long>(steps[k]),
                                        static_cast<double>(steps[k]) * obs.dt(), static_cast<long long>(members[k]),
                                        static_cast<long long>(neurons[k]))
                        : std::snprintf(line, sizeof line, "%lld,%.17g,%lld\n", static_cast<long long>(steps[k]),
                                        static_cast<double>(steps[k]) * obs.dt(), static_cast<long long>(neurons[k]));
      text_.append(line, static_cast<std::size_t>(n));
    }
    write_at(s.file.get(), text_.data(), text_.size(), s.end, s.path);
    s.end += static_cast<off_t>(text_.size());
    s.rows += count;
  }

  void finish(const Observer& obs) override { complete(&obs); }
  std::vector<std::string> paths() const override { return paths_; }

 private:
  struct Stream {
    std::string path;
    File file;
    std::int64_t rows = 0;
    off_t end = 0;  // CSV: bytes written
  };
  static constexpr const char* kCsvHead = "step,time,neuron\n";
  static constexpr const char* kCsvMemberHead = "step,time,member,neuron\n";

  void open(const Observer& obs) {
    columns_ = obs.members() > 1 ? 3 : 2;
    const char* csv_head = obs.members() > 1 ? kCsvMemberHead : kCsvHead;
    for (const std::string& pop : obs.spec().spikes) {
      Stream& s = streams_.emplace_back();
      s.path = join_path(dir_, spike_file_name(pop, npy_ ? "npy" : "csv"));
      paths_.push_back(s.path);
      if (continuing_) {
        const auto it = counts_.find(pop);
        reopen(s, it == counts_.end() ? 0 : it->second);
        continue;
      }
      PendingFile pending(s.path);
      if (npy_) {
        const std::string head = file_writes::npy_header("<i8", {0, columns_});
        write_all(pending.get(), head.data(), head.size(), s.path);
      } else {
        write_all(pending.get(), csv_head, std::char_traits<char>::length(csv_head), s.path);
        s.end = static_cast<off_t>(std::char_traits<char>::length(csv_head));
      }
      s.file = pending.commit();
    }
    open_ = true;
  }

  // The file must be ours (its header) and hold at least `rows` spikes; what follows them
  // (written after the checkpoint) is cut off.
  void reopen(Stream& s, std::int64_t rows) {
    std::uint64_t size = 0;
    s.file = open_existing(s.path, &size);
    const int fd = ::fileno(s.file.get());
    if (npy_) {
      std::string head(kNpyHeaderBytes, '\0');
      const std::size_t at = size >= kNpyHeaderBytes && ::pread(fd, head.data(), head.size(), 0) ==
                                                            static_cast<ssize_t>(head.size())
                                 ? head.find("'shape': (")
                                 : std::string::npos;
      const std::int64_t claimed = at == std::string::npos ? -1 : leading_int64(head.c_str() + at + 10, -1);
      if (claimed < 0 || head != file_writes::npy_header("<i8", {claimed, columns_})) {
        throw IoError("cannot continue '" + s.path + "': not a spike file written by qifsim");
      }
      const auto row_bytes = static_cast<std::uint64_t>(columns_) * 8;  // (step, neuron) or (step, member, neuron)
      const auto held = static_cast<std::int64_t>((size - kNpyHeaderBytes) / row_bytes);
      if (held < rows) fewer(s.path, held, rows);
      truncate_to(s.file.get(), kNpyHeaderBytes + static_cast<std::uint64_t>(rows) * row_bytes, s.path);
      s.rows = rows;
      write_header(s);
      return;
    }
    // CSV: the header line, then `rows` whole lines (read in blocks of 1 MiB).
    const char* csv_head = columns_ == 3 ? kCsvMemberHead : kCsvHead;
    const std::size_t head_len = std::char_traits<char>::length(csv_head);
    std::vector<char> buf(std::size_t{1} << 20);
    std::string first;
    std::uint64_t offset = 0;
    std::int64_t lines = -1;  // the header line is line -1
    bool found = false;
    while (offset < size && !found) {
      const ssize_t n = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw IoError("cannot continue '" + s.path + "': " + errno_text(n < 0 ? errno : EIO));
      for (ssize_t k = 0; k < n; ++k) {
        const char c = buf[static_cast<std::size_t>(k)];
        if (lines == -1 && first.size() < head_len) first += c;
        if (c == '\n' && ++lines == rows) {
          offset += static_cast<std::uint64_t>(k) + 1;
          found = true;
          break;
        }
      }
      if (!found) offset += static_cast<std::uint64_t>(n);
    }
    if (first != csv_head) throw IoError("cannot continue '" + s.path + "': not a spike file written by qifsim");
    if (!found) fewer(s.path, std::max<std::int64_t>(lines, 0), rows);
    truncate_to(s.file.get(), offset, s.path);
    s.end = static_cast<off_t>(offset);
    s.rows = rows;
  }

  [[noreturn]] static void fewer(const std::string& path, std::int64_t held, std::int64_t wanted) {
    throw IoError("cannot continue '" + path + "': it holds " + std::to_string(held) + " spikes, the checkpoint counts " +
                  std::to_string(wanted) + " (the recording was changed or damaged after the checkpoint)");
  }

  void write_header(Stream& s) {
    const std::string head = file_writes::npy_header("<i8", {s.rows, columns_});
    write_at(s.file.get(), head.data(), head.size(), 0, s.path);
  }

  // After a failed write: the file back to exactly the rows its header claims (best effort).
  void cut_back(Stream& s) const {
    const off_t keep = static_cast<off_t>(kNpyHeaderBytes) + static_cast<off_t>(s.rows * 8 * columns_);
    const int fd = ::fileno(s.file.get());
    if (::ftruncate(fd, keep) == 0) ::lseek(fd, keep, SEEK_SET);
  }

  void complete(const Observer* obs) {
    if (done_) return;
    if (!open_) {
      if (!obs) return;
      open(*obs);  // no spike arrived: empty files
    }
    done_ = true;
    for (Stream& s : streams_) {
      if (!s.file) continue;
      if (npy_) write_header(s);
      close_output_file(s.file, s.path);
    }
  }

  std::string dir_;
  bool npy_;
  bool continuing_;
  std::map<std::string, std::int64_t> counts_;
  std::vector<Stream> streams_;
  std::vector<std::string> paths_;
  std::vector<std::int64_t> buf_;
  std::string text_;
  std::int64_t columns_ = 2;  // (step, neuron), or an ensemble's (step, member, neuron)
  bool open_ = false;
  bool done_ = false;
};

}  // namespace

std::shared_ptr<FileSink> make_spike_file_sink(const std::string& dir, const std::string& format,
                                               const std::map<std::string, std::int64_t>* continue_counts) {
  return std::make_shared<SpikeFileSink>(dir, format, continue_counts);
}

}  // namespace qifsim::detail
