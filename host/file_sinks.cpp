// host/file_sinks.cpp - recordings copied out to NPY and CSV files batch by batch, and the
// helpers that attach, finish and save sinks for a list of formats.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "qifsim/error.hpp"
#include "qifsim/recording.hpp"
#include "npy_writer.hpp"
#include "output_files.hpp"
#include "text.hpp"

namespace qifsim {
namespace {

using File = detail::OutputFile;

File open_for_writing(const std::string& path) { return detail::create_output_file(path); }

void write_all(std::FILE* f, const void* data, std::size_t bytes, const std::string& path) {
  if (bytes > 0 && std::fwrite(data, 1, bytes, f) != bytes) {
    throw IoError("writing '" + path + "' failed: " + detail::errno_text(errno));
  }
}

std::string join_path(const std::string& dir, const std::string& name) {
  return (std::filesystem::path(dir) / name).string();
}

// ---- NPY ------------------------------------------------------------------------------

// Every header takes exactly this many bytes (a multiple of 64, as the format asks), enough
// for a two-dimensional shape of 19-digit numbers, so the final shape can overwrite the
// provisional one in place.
constexpr std::size_t kNpyHeaderBytes = 128;

std::string npy_header(const char* descr, const std::vector<std::int64_t>& shape) {
  return detail::npy_header(descr, shape, kNpyHeaderBytes);
}

class NpySink final : public FileSink {
 public:
  explicit NpySink(std::string dir) : dir_(std::move(dir)) {}
  ~NpySink() override {
    try {
      complete(nullptr);
    } catch (...) {  // a destructor must not throw; finish() reports errors
    }
  }

  void write(const Observer& obs, std::int64_t count, const std::int64_t* steps,
             const std::vector<const double*>& series) override {
    if (!open_) open(obs);
    for (std::size_t i = 0; i < series.size(); ++i) {
      Stream& s = streams_[i];
      write_all(s.file.get(), series[i], static_cast<std::size_t>(count * s.width) * sizeof(double), s.path);
    }
    write_all(steps_.file.get(), steps, static_cast<std::size_t>(count) * sizeof(std::int64_t), steps_.path);
    time_buf_.resize(static_cast<std::size_t>(count));
    for (std::int64_t r = 0; r < count; ++r) time_buf_[static_cast<std::size_t>(r)] = static_cast<double>(steps[r]) * obs.dt();
    write_all(time_.file.get(), time_buf_.data(), time_buf_.size() * sizeof(double), time_.path);
    rows_ += count;
  }

  void finish(const Observer& obs) override { complete(&obs); }

  std::vector<std::string> paths() const override { return paths_; }

 private:
  struct Stream {
    std::string path;
    std::int64_t width = 0;  // 0: a one-dimensional array (steps, time)
    const char* descr = "<f8";
    File file;
  };

  void open(const Observer& obs) {
    for (const auto& key : obs.keys()) add(join_path(dir_, key + ".npy"), obs.width(key), "<f8", streams_.emplace_back());
    add(join_path(dir_, "steps.npy"), 0, "<i8", steps_);
    add(join_path(dir_, "time.npy"), 0, "<f8", time_);
    open_ = true;
  }

  void add(const std::string& path, std::int64_t width, const char* descr, Stream& s) {
    s.path = path;
    s.width = width;
    s.descr = descr;
    s.file = open_for_writing(path);
    const std::string head = npy_header(descr, shape(s, 0));
    write_all(s.file.get(), head.data(), head.size(), path);
    paths_.push_back(path);
  }

  static std::vector<std::int64_t> shape(const Stream& s, std::int64_t rows) {
    return s.width > 0 ? std::vector<std::int64_t>{rows, s.width} : std::vector<std::int64_t>{rows};
  }

  void close(Stream& s) {
    if (!s.file) return;
    std::FILE* f = s.file.get();
    const std::string head = npy_header(s.descr, shape(s, rows_));
    if (std::fseek(f, 0, SEEK_SET) != 0) throw IoError("seeking in '" + s.path + "' failed: " + detail::errno_text(errno));
    write_all(f, head.data(), head.size(), s.path);
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
  std::int64_t rows_ = 0;
  bool open_ = false;
  bool done_ = false;
};

// ---- CSV ------------------------------------------------------------------------------

class CsvSink final : public FileSink {
 public:
  explicit CsvSink(std::string dir) : dir_(std::move(dir)) {}
  ~CsvSink() override {
    try {
      complete(nullptr);
    } catch (...) {
    }
  }

  void write(const Observer& obs, std::int64_t count, const std::int64_t* steps,
             const std::vector<const double*>& series) override {
    if (!open_) open(obs);
    for (std::size_t i = 0; i < series.size(); ++i) {
      Stream& s = streams_[i];
      std::FILE* f = s.file.get();
      for (std::int64_t r = 0; r < count; ++r) {
        std::fprintf(f, "%lld,%.17g", static_cast<long long>(steps[r]), static_cast<double>(steps[r]) * obs.dt());
        const double* row = series[i] + r * s.width;
        for (std::int64_t j = 0; j < s.width; ++j) std::fprintf(f, ",%.17g", row[j]);
        std::fputc('\n', f);
      }
      if (std::ferror(f)) throw IoError("writing '" + s.path + "' failed: " + detail::errno_text(errno));
    }
  }

  void finish(const Observer& obs) override { complete(&obs); }
  std::vector<std::string> paths() const override { return paths_; }

 private:
  struct Stream {
    std::string path;
    std::int64_t width = 0;
    File file;
  };

  void open(const Observer& obs) {
    for (const auto& key : obs.keys()) {
      Stream& s = streams_.emplace_back();
      s.path = join_path(dir_, key + ".csv");
      s.width = obs.width(key);
      s.file = open_for_writing(s.path);
      std::fprintf(s.file.get(), "step,time");
      for (std::int64_t j = 0; j < s.width; ++j) std::fprintf(s.file.get(), ",%s[%lld]", key.c_str(), static_cast<long long>(j));
      std::fputc('\n', s.file.get());
      paths_.push_back(s.path);
    }
    open_ = true;
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

std::shared_ptr<FileSink> make_npy_sink(const std::string& dir) { return std::make_shared<NpySink>(dir); }
std::shared_ptr<FileSink> make_csv_sink(const std::string& dir) { return std::make_shared<CsvSink>(dir); }

std::vector<std::string> file_formats() { return {"npy", "hdf5", "csv"}; }

std::vector<std::shared_ptr<FileSink>> attach_file_sinks(Observer& obs, const std::string& dir,
                                                         const std::vector<std::string>& formats,
                                                         const RecordingInfo& info, bool allow_symlink) {
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
    if (c == "npy") sinks.push_back(make_npy_sink(dir));
    else if (c == "csv") sinks.push_back(make_csv_sink(dir));
    else sinks.push_back(make_hdf5_sink(join_path(dir, "recording.h5"), info));
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
  if (obs.samples() > 0) {
    for (const auto& s : sinks) s->write(obs, obs.samples(), obs.steps().data(), series);
  }
  return finish_file_sinks(sinks, obs);
}

}  // namespace qifsim
