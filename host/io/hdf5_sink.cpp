// host/io/hdf5_sink.cpp - recordings copied out to one HDF5 file: a chunked dataset per series,
// extended batch by batch, with the run's settings as attributes (HDF5 C API).
#include <memory>

#include "qifsim/error.hpp"
#include "qifsim/recording.hpp"
#include "qifsim/version.hpp"
#include "io/spike_files.hpp"

#ifdef QIFSIM_HAVE_HDF5
#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "io/hdf5_file_driver.hpp"
#include "io/row_digest.hpp"
#include "io/output_files.hpp"
#include "core/text.hpp"
#endif

namespace qifsim {

#ifndef QIFSIM_HAVE_HDF5

bool hdf5_supported() { return false; }

std::shared_ptr<FileSink> make_hdf5_sink(const std::string& path, const RecordingInfo&, std::int64_t) {
  throw IoError("cannot write '" + path + "': this qifsim build has no HDF5 support (install libhdf5-dev and rebuild)");
}

#else

namespace {

/// One HDF5 identifier; its destructor closes it without throwing.
class Hid {
 public:
  using Closer = herr_t (*)(hid_t);
  Hid() = default;
  Hid(hid_t id, Closer close) : id_(id), close_(close) {}
  Hid(Hid&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = H5I_INVALID_HID; }
  Hid& operator=(Hid&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = o.id_;
      close_ = o.close_;
      o.id_ = H5I_INVALID_HID;
    }
    return *this;
  }
  Hid(const Hid&) = delete;
  Hid& operator=(const Hid&) = delete;
  ~Hid() { reset(); }
  hid_t get() const { return id_; }
  /// Close now; returns the close call's status.
  herr_t reset() {
    herr_t status = 0;
    if (id_ >= 0 && close_) status = close_(id_);
    id_ = H5I_INVALID_HID;
    return status;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer close_ = nullptr;
};

/// Silences HDF5's own error printing for its lifetime (failures become IoError here) and
/// restores the caller's setting afterwards, so an application's HDF5 use is not changed.
class QuietErrors {
 public:
  QuietErrors() {
    H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~QuietErrors() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }
  QuietErrors(const QuietErrors&) = delete;
  QuietErrors& operator=(const QuietErrors&) = delete;

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

/// Throws IoError naming the call and the file when an HDF5 call failed (negative result).
template <class T>
T check(T result, const char* call, const std::string& path) {
  if (result < 0) throw IoError("HDF5 " + std::string(call) + " failed for '" + path + "'");
  return result;
}

class Hdf5Sink final : public FileSink {
 public:
  Hdf5Sink(std::string path, RecordingInfo info, std::int64_t continue_rows)
      : path_(std::move(path)), info_(std::move(info)), continue_rows_(continue_rows) {
    QuietErrors quiet;
    // qifsim's file driver: no link is followed, and a failed write (a full disk) lands in
    // write_errno_ instead of breaking HDF5's state (see hdf5_file_driver.hpp).
    Hid fapl(check(detail::hdf5_file_access_list(&write_errno_), "H5Pset_driver", path_), H5Pclose);
    // Dense attribute storage, so that a long config text fits in an attribute.
    check(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_LATEST), "H5Pset_libver_bounds", path_);
    if (continue_rows_ >= 0) {  // a resumed run: the file is there, opened in start()
      const hid_t file = H5Fopen(path_.c_str(), H5F_ACC_RDWR, fapl.get());
      if (file < 0) {
        throw IoError("cannot continue '" + path_ + "' (H5Fopen failed): " + detail::errno_text(errno) +
                      "; the run can be continued without it with --format npy or csv");
      }
      file_ = Hid(file, H5Fclose);
      return;
    }
    // A new file under a fresh name (H5F_ACC_EXCL: O_CREAT | O_EXCL), renamed onto its
    // name once its structure is written (start()), as the other sinks do (output_files.hpp).
    temporary_ = detail::temporary_name_beside(path_);
    const hid_t file = H5Fcreate(temporary_.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, fapl.get());
    if (file < 0) {
      const int err = errno;
      throw IoError("cannot create '" + path_ + "' (H5Fcreate failed): " + detail::errno_text(err));
    }
    file_ = Hid(file, H5Fclose);
  }

  // The attributes and empty datasets, flushed, then the file takes its name: under its name
  // it is a valid HDF5 file at every moment.
  void start(const Observer& obs) override {
    QuietErrors quiet;
    if (!open_) open(obs);
  }
  ~Hdf5Sink() override {
    try {
      complete(nullptr);
    } catch (...) {
    }
  }

  void write(const Observer& obs, std::int64_t count, const std::int64_t* steps,
             const std::vector<const double*>& series) override {
    QuietErrors quiet;
    if (!open_) open(obs);
    for (std::size_t i = 0; i < series.size(); ++i) append(sets_[i], series[i], count, H5T_NATIVE_DOUBLE);
    append(steps_, steps, count, H5T_NATIVE_INT64);
    time_buf_.resize(static_cast<std::size_t>(count));
    for (std::int64_t r = 0; r < count; ++r) time_buf_[static_cast<std::size_t>(r)] = static_cast<double>(steps[r]) * obs.dt();
    append(time_, time_buf_.data(), count, H5T_NATIVE_DOUBLE);
    rows_ += count;
    // Every batch reaches the file: data, extents and metadata (a killed run leaves a file
    // that holds the batches flushed before it).
    check(H5Fflush(file_.get(), H5F_SCOPE_LOCAL), "H5Fflush", path_);
    check_writes();
  }

  // Spike events: dataset "<population>.spikes", int64 rows (step, neuron), flushed per batch.
  void write_spikes(const Observer& obs, std::size_t pop, std::int64_t count, const std::int64_t* steps,
                    const std::int64_t* neurons) override {
    write_events(obs, pop, count, steps, nullptr, neurons);
  }
  // An ensemble's: rows (step, member, neuron).
  void write_member_spikes(const Observer& obs, std::size_t pop, std::int64_t count, const std::int64_t* steps,
                           const std::int64_t* members, const std::int64_t* neurons) override {
    write_events(obs, pop, count, steps, members, neurons);
  }

  void write_events(const Observer& obs, std::size_t pop, std::int64_t count, const std::int64_t* steps,
                    const std::int64_t* members, const std::int64_t* neurons) {
    QuietErrors quiet;
    if (!open_) open(obs);
    detail::spike_rows(count, steps, members, neurons, spike_buf_);
    append(spike_sets_.at(pop), spike_buf_.data(), count, H5T_NATIVE_INT64);
    check(H5Fflush(file_.get(), H5F_SCOPE_LOCAL), "H5Fflush", path_);
    check_writes();
  }

  void finish(const Observer& obs) override { complete(&obs); }
  std::vector<std::string> paths() const override { return {path_}; }

 private:
  struct Set {
    std::string name;
    std::int64_t width = 0;  // values per row (every member's); 0: one-dimensional
    std::int64_t members = 1;  // > 1: rows x members x (width / members)
    Hid id;
    std::int64_t rows = -1;  // rows held, where not the samples' (spike events); -1: rows_
  };

  void open(const Observer& obs) {
    if (continue_rows_ >= 0) {
      reopen(obs);
      return;
    }
    attribute("dt", obs.dt());
    attribute("sampling_steps", info_.sampling_steps);
    attribute("cutoff", info_.cutoff);
    attribute("config", info_.config_text);
    attribute("config_path", info_.config_path);
    attribute("qifsim_version", std::string(QIFSIM_VERSION_STRING));
    if (obs.members() > 1) attribute("members", obs.members());
    for (const auto& key : obs.keys()) {
      create(sets_.emplace_back(), key, obs.width(key) * obs.members(), H5T_IEEE_F64LE, obs.members());
    }
    create(steps_, "steps", 0, H5T_STD_I64LE);
    create(time_, "time", 0, H5T_IEEE_F64LE);
    for (const auto& pop : obs.spec().spikes) {  // rows (step, neuron); an ensemble's (step, member, neuron)
      Set& set = spike_sets_.emplace_back();
      create(set, pop + ".spikes", obs.members() > 1 ? 3 : 2, H5T_STD_I64LE);
      set.rows = 0;
    }
    check(H5Fflush(file_.get(), H5F_SCOPE_LOCAL), "H5Fflush", path_);
    check_writes();
    detail::rename_into_place(temporary_, path_);
    temporary_.clear();
    open_ = true;
  }

  // The datasets of this recording, cut to the rows the checkpoint counts.
  void reopen(const Observer& obs) {
    for (const auto& key : obs.keys()) attach(sets_.emplace_back(), key, obs.width(key) * obs.members(), -1, obs.members());
    attach(steps_, "steps", 0);
    attach(time_, "time", 0);
    for (const auto& pop : obs.spec().spikes) {
      const auto it = info_.spike_counts.find(pop);
      Set& set = spike_sets_.emplace_back();
      attach(set, pop + ".spikes", obs.members() > 1 ? 3 : 2, it == info_.spike_counts.end() ? 0 : it->second);
    }
    rows_ = continue_rows_;
    check(H5Fflush(file_.get(), H5F_SCOPE_LOCAL), "H5Fflush", path_);
    check_writes();
    open_ = true;
  }

  // `rows` >= 0: a dataset of its own length (spike events), cut to that many rows.
  // `members` > 1: an ensemble's series, rows x members x (width / members).
  void attach(Set& set, const std::string& name, std::int64_t width, std::int64_t rows = -1, std::int64_t members = 1) {
    const std::string where = path_ + "', dataset '" + name;
    const std::int64_t keep = rows >= 0 ? rows : continue_rows_;
    set.name = name;
    set.width = width;
    set.members = members;
    const hid_t id = H5Dopen2(file_.get(), name.c_str(), H5P_DEFAULT);
    if (id < 0) throw IoError("cannot continue '" + where + "': there is no such dataset");
    set.id = Hid(id, H5Dclose);
    Hid space(check(H5Dget_space(set.id.get()), "H5Dget_space", where), H5Sclose);
    hsize_t cut[3] = {0, 0, 0};
    const int rank = dims_of(set, static_cast<hsize_t>(keep), cut);
    hsize_t dims[3] = {0, 0, 0};
    if (H5Sget_simple_extent_ndims(space.get()) != rank || H5Sget_simple_extent_dims(space.get(), dims, nullptr) < 0 ||
        (rank >= 2 && dims[1] != cut[1]) || (rank == 3 && dims[2] != cut[2])) {
      throw IoError("cannot continue '" + where + "': its shape is not this recording's");
    }
    if (dims[0] < static_cast<hsize_t>(keep)) {
      throw IoError("cannot continue '" + where + "': it holds " + std::to_string(dims[0]) + (rows >= 0 ? " spikes" : " samples") +
                    ", the checkpoint counts " + std::to_string(keep) +
                    " (the recording was changed or damaged after the checkpoint)");
    }
    if (rows < 0) check_digest(set, space.get(), where);
    check(H5Dset_extent(set.id.get(), cut), "H5Dset_extent", where);
    set.rows = rows;
  }

  // The rows kept must be those the run wrote: read back block by block, their digest is the
  // checkpoint's (steps as int64, everything else as float64).
  void check_digest(const Set& set, hid_t space, const std::string& where) {
    const auto want = info_.digests.find(set.name);
    if (want == info_.digests.end()) return;
    const bool steps = set.name == "steps";
    const hsize_t width = set.width > 0 ? static_cast<hsize_t>(set.width) : 1;
    const hsize_t block = std::max<hsize_t>(1, (hsize_t{1} << 17) / width);  // about 1 MiB a block
    std::vector<double> values;
    std::vector<std::int64_t> ints;
    std::uint64_t h = detail::kDigestStart;
    for (hsize_t first = 0; first < static_cast<hsize_t>(continue_rows_); first += block) {
      const hsize_t rows = std::min<hsize_t>(block, static_cast<hsize_t>(continue_rows_) - first);
      const hsize_t start[3] = {first, 0, 0};
      hsize_t count[3] = {0, 0, 0};
      const int rank = dims_of(set, rows, count);  // every member's values of a row: `width` values
      check(H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, count, nullptr), "H5Sselect_hyperslab", where);
      Hid memory(check(H5Screate_simple(rank, count, nullptr), "H5Screate_simple", where), H5Sclose);
      const std::size_t n = static_cast<std::size_t>(rows * width);
      if (steps) {
        ints.resize(n);
        check(H5Dread(set.id.get(), H5T_NATIVE_INT64, memory.get(), space, H5P_DEFAULT, ints.data()), "H5Dread", where);
        h = detail::digest_rows(h, ints.data(), static_cast<std::size_t>(rows), sizeof(std::int64_t));
      } else {
        values.resize(n);
        check(H5Dread(set.id.get(), H5T_NATIVE_DOUBLE, memory.get(), space, H5P_DEFAULT, values.data()), "H5Dread", where);
        h = detail::digest_rows(h, values.data(), static_cast<std::size_t>(rows), static_cast<std::size_t>(width) * sizeof(double));
      }
    }
    if (h != want->second) throw IoError(detail::changed_rows(where, continue_rows_));
  }

  // A dataset's rank and its dims for `rows` rows: (rows), (rows, width) or, for an ensemble,
  // (rows, members, width / members).
  static int dims_of(const Set& set, hsize_t rows, hsize_t* dims) {
    dims[0] = rows;
    if (set.width <= 0) return 1;
    if (set.members > 1) {
      dims[1] = static_cast<hsize_t>(set.members);
      dims[2] = static_cast<hsize_t>(set.width / set.members);
      return 3;
    }
    dims[1] = static_cast<hsize_t>(set.width);
    return 2;
  }

  void create(Set& set, const std::string& name, std::int64_t width, hid_t type, std::int64_t members = 1) {
    set.name = name;
    set.width = width;
    set.members = members;
    hsize_t dims[3] = {0, 0, 0};
    hsize_t maxdims[3] = {0, 0, 0};
    const int rank = dims_of(set, 0, dims);
    dims_of(set, 0, maxdims);
    maxdims[0] = H5S_UNLIMITED;
    // Chunks of about 1 MiB: whole rows while a row is small, column blocks when it is not.
    const hsize_t row_values = width > 0 ? static_cast<hsize_t>(width / members) : 1;
    const hsize_t cols = std::min<hsize_t>(row_values, 131072);
    const hsize_t per_member = members > 1 ? std::clamp<hsize_t>((hsize_t{1} << 17) / cols, 1, static_cast<hsize_t>(members)) : 1;
    const hsize_t rows = std::clamp<hsize_t>((hsize_t{1} << 20) / (8 * cols * per_member), 1, 65536);
    const hsize_t chunk[3] = {rows, rank == 3 ? per_member : cols, cols};
    Hid space(check(H5Screate_simple(rank, dims, maxdims), "H5Screate_simple", path_), H5Sclose);
    Hid dcpl(check(H5Pcreate(H5P_DATASET_CREATE), "H5Pcreate", path_), H5Pclose);
    check(H5Pset_chunk(dcpl.get(), rank, chunk), "H5Pset_chunk", path_);
    set.id = Hid(check(H5Dcreate2(file_.get(), name.c_str(), type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                       "H5Dcreate2", path_ + "', dataset '" + name),
                 H5Dclose);
  }

  void append(Set& set, const void* data, std::int64_t count, hid_t mem_type) {
    if (count <= 0) return;
    const std::string where = path_ + "', dataset '" + set.name;
    const std::int64_t held = set.rows >= 0 ? set.rows : rows_;
    hsize_t new_dims[3], block[3];
    const int rank = dims_of(set, static_cast<hsize_t>(held) + static_cast<hsize_t>(count), new_dims);
    dims_of(set, static_cast<hsize_t>(count), block);
    check(H5Dset_extent(set.id.get(), new_dims), "H5Dset_extent", where);
    Hid file_space(check(H5Dget_space(set.id.get()), "H5Dget_space", where), H5Sclose);
    const hsize_t start[3] = {static_cast<hsize_t>(held), 0, 0};
    check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, block, nullptr), "H5Sselect_hyperslab", where);
    Hid mem_space(check(H5Screate_simple(rank, block, nullptr), "H5Screate_simple", where), H5Sclose);
    check(H5Dwrite(set.id.get(), mem_type, mem_space.get(), file_space.get(), H5P_DEFAULT, data), "H5Dwrite", where);
    if (set.rows >= 0) set.rows += count;
  }

  void attribute(const char* name, double value) { scalar_attribute(name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value); }
  void attribute(const char* name, std::int64_t value) { scalar_attribute(name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value); }
  void attribute(const char* name, const std::string& value) {
    Hid type(check(H5Tcopy(H5T_C_S1), "H5Tcopy", path_), H5Tclose);
    check(H5Tset_size(type.get(), H5T_VARIABLE), "H5Tset_size", path_);
    check(H5Tset_cset(type.get(), H5T_CSET_UTF8), "H5Tset_cset", path_);
    const char* text = value.c_str();
    scalar_attribute(name, type.get(), type.get(), &text);
  }
  void scalar_attribute(const char* name, hid_t file_type, hid_t mem_type, const void* value) {
    const std::string where = path_ + "', attribute '" + name;
    Hid space(check(H5Screate(H5S_SCALAR), "H5Screate", where), H5Sclose);
    Hid attr(check(H5Acreate2(file_.get(), name, file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT), "H5Acreate2", where),
             H5Aclose);
    check(H5Awrite(attr.get(), mem_type, value), "H5Awrite", where);
  }

  void complete(const Observer* obs) {
    if (done_) return;
    QuietErrors quiet;
    if (!open_) {
      if (!obs) {  // never started: no file under the name, and none left behind
        done_ = true;
        file_.reset();
        if (!temporary_.empty()) ::unlink(temporary_.c_str());
        return;
      }
      open(*obs);  // no batch arrived: empty datasets of the right widths
    }
    done_ = true;
    for (auto& s : sets_) s.id.reset();
    for (auto& s : spike_sets_) s.id.reset();
    steps_.id.reset();
    time_.id.reset();
    check(file_.reset(), "H5Fclose", path_);
    check_writes();
  }

  // A write the driver could not make (it kept HDF5 from seeing it) is an error here.
  void check_writes() const {
    if (write_errno_ != 0) {
      throw IoError("writing '" + path_ + "' failed: " + detail::errno_text(write_errno_) +
                    "; the file is incomplete");
    }
  }

  std::string path_;
  std::string temporary_;  // the file's name until it is started
  RecordingInfo info_;
  int write_errno_ = 0;  // set by the file driver (declared before file_: it outlives it)
  Hid file_;
  std::vector<Set> sets_;
  std::vector<Set> spike_sets_;  // one per recorded population's spikes
  std::vector<std::int64_t> spike_buf_;
  Set steps_, time_;
  std::vector<double> time_buf_;
  std::int64_t continue_rows_ = -1;
  std::int64_t rows_ = 0;
  bool open_ = false;
  bool done_ = false;
};

}  // namespace

bool hdf5_supported() { return true; }

std::shared_ptr<FileSink> make_hdf5_sink(const std::string& path, const RecordingInfo& info,
                                         std::int64_t continue_samples) {
  return std::make_shared<Hdf5Sink>(path, info, continue_samples);
}

#endif

}  // namespace qifsim
