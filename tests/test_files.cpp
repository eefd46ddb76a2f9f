// tests/test_files.cpp - the .npy reader, and recordings streamed to NPY, CSV and HDF5 files
// read back with independent readers (a hand-written NPY parser, the HDF5 C API).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "io_test_util.hpp"
#include "qifsim/npy.hpp"
#include "qifsim/qifsim.hpp"
#include "qifsim/recording.hpp"

#ifdef QIFSIM_TEST_HDF5
#include <hdf5.h>
#endif

namespace {

using iotest::contains_all;
using iotest::ScratchDir;

// ---- the .npy reader ----------------------------------------------------------------------

TEST(NpyReader, ReadsEveryDtypeAndVersion) {
  ScratchDir dir;
  const double f8[6] = {1.5, -2.25, 3e300, 0.0, -0.0, 1e-310};
  const float f4[3] = {0.5f, -1.75f, 3.0f};
  const std::int64_t i8[4] = {-9007199254740992LL, -1, 0, 9007199254740992LL};
  const std::int32_t i4[2] = {-7, 2147483647};
  iotest::write_text(dir / "f8.npy", iotest::npy_bytes(iotest::npy_dict("<f8", "(2, 3)"), f8, sizeof f8));
  iotest::write_text(dir / "f4.npy", iotest::npy_bytes(iotest::npy_dict("<f4", "(3,)"), f4, sizeof f4, 2));
  iotest::write_text(dir / "i8.npy", iotest::npy_bytes(iotest::npy_dict("<i8", "(4, 1)"), i8, sizeof i8));
  iotest::write_text(dir / "i4.npy", iotest::npy_bytes(iotest::npy_dict("<i4", "()"), i4, 4));
  iotest::write_text(dir / "empty.npy", iotest::npy_bytes(iotest::npy_dict("<f8", "(0, 5)"), nullptr, 0));

  const qifsim::NpyArray a = qifsim::read_npy(dir / "f8.npy");
  EXPECT_EQ(a.descr, "<f8");
  EXPECT_EQ(a.shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(a.data, std::vector<double>(f8, f8 + 6));
  EXPECT_EQ(qifsim::read_npy(dir / "f4.npy").data, (std::vector<double>{0.5, -1.75, 3.0}));
  EXPECT_EQ(qifsim::read_npy(dir / "i8.npy").data, (std::vector<double>{-9007199254740992.0, -1, 0, 9007199254740992.0}));
  const qifsim::NpyArray s = qifsim::read_npy(dir / "i4.npy");
  EXPECT_TRUE(s.shape.empty());
  EXPECT_EQ(s.data, (std::vector<double>{-7.0}));
  EXPECT_EQ(qifsim::read_npy(dir / "empty.npy").shape, (std::vector<std::int64_t>{0, 5}));

  const qifsim::Matrix m = qifsim::read_npy_matrix(dir / "f4.npy");  // 1-d: one row
  EXPECT_EQ(m.rows, 1);
  EXPECT_EQ(m.cols, 3);
  EXPECT_EQ(qifsim::shape_string({5}), "(5,)");
  EXPECT_EQ(qifsim::shape_string({2, 3}), "(2, 3)");
}

// A rank's rows read alone equal those rows of the whole matrix (read_npy_matrix), for the
// partitions of 1 to 4 ranks; a 1-d file gives its values as one column.
TEST(NpyReader, RowRangesEqualThoseRowsOfTheWholeMatrix) {
  ScratchDir dir;
  const std::int64_t rows = 700, cols = 9;
  std::vector<float> f4(static_cast<std::size_t>(rows * cols));
  for (std::size_t i = 0; i < f4.size(); ++i) f4[i] = static_cast<float>(std::sin(0.1 * static_cast<double>(i)));
  iotest::write_text(dir / "J.npy", iotest::npy_bytes(iotest::npy_dict("<f4", "(700, 9)"), f4.data(), f4.size() * 4));
  std::vector<std::int64_t> i8(static_cast<std::size_t>(rows));
  for (std::size_t i = 0; i < i8.size(); ++i) i8[i] = static_cast<std::int64_t>(i * i) - 1000;
  iotest::write_text(dir / "eta.npy", iotest::npy_bytes(iotest::npy_dict("<i8", "(700,)"), i8.data(), i8.size() * 8));
  const qifsim::Matrix whole = qifsim::read_npy_matrix(dir / "J.npy");
  for (int ranks = 1; ranks <= 4; ++ranks) {
    for (const qifsim::NeuronRange& r : qifsim::partition(rows, ranks)) {
      SCOPED_TRACE(std::to_string(ranks) + " ranks, rows " + std::to_string(r.lo) + " .. " + std::to_string(r.hi));
      const qifsim::Matrix part = qifsim::read_npy_rows(dir / "J.npy", r.lo, r.hi);
      ASSERT_EQ(part.rows, r.size());
      ASSERT_EQ(part.cols, cols);
      EXPECT_EQ(part.data, std::vector<double>(whole.data.begin() + r.lo * cols, whole.data.begin() + r.hi * cols));
      const qifsim::Matrix eta = qifsim::read_npy_rows(dir / "eta.npy", r.lo, r.hi);
      ASSERT_EQ(eta.cols, 1);
      for (std::int64_t i = r.lo; i < r.hi; ++i) {
        EXPECT_EQ(eta.data[static_cast<std::size_t>(i - r.lo)], static_cast<double>(i * i - 1000));
      }
    }
  }
  EXPECT_THROW(qifsim::read_npy_rows(dir / "J.npy", 600, 701), qifsim::IoError);
  EXPECT_THROW(qifsim::read_npy_rows(dir / "J.npy", 5, 4), qifsim::IoError);
}

TEST(NpyReader, RejectsBadFilesNamingTheFile) {
  ScratchDir dir;
  const double nine[9] = {};
  const std::string good = iotest::npy_bytes(iotest::npy_dict("<f8", "(3, 3)"), nine, sizeof nine);
  const std::int64_t huge[1] = {(1LL << 53) + 1};
  const std::vector<std::pair<std::string, std::string>> files = {
      {"empty.npy", ""},
      {"magic.npy", "GIF89a and more bytes"},
      {"version.npy", std::string("\x93NUMPY\x07\x00\x10\x00", 10) + std::string(16, ' ')},
      {"header.npy", good.substr(0, 50)},
      {"data.npy", good.substr(0, good.size() - 8)},
      {"trailing.npy", good + "xx"},
      {"fortran.npy", iotest::npy_bytes(iotest::npy_dict("<f8", "(3, 3)", true), nine, sizeof nine)},
      {"big.npy", iotest::npy_bytes(iotest::npy_dict(">f8", "(3, 3)"), nine, sizeof nine)},
      {"complex.npy", iotest::npy_bytes(iotest::npy_dict("<c16", "(1,)"), nine, 16)},
      {"dict.npy", iotest::npy_bytes("{'descr': '<f8', 'shape': (3, 3), }", nine, sizeof nine)},
      {"shape.npy", iotest::npy_bytes(iotest::npy_dict("<f8", "(3, x)"), nine, sizeof nine)},
      {"inexact.npy", iotest::npy_bytes(iotest::npy_dict("<i8", "(1,)"), huge, 8)},
  };
  const std::vector<std::string> defects = {"too short", "NPY magic", "unsupported format version", "ends inside the header",
                                            "truncated", "trailing bytes", "Fortran order", "big-endian",
                                            "'<c16' is not supported", "lacks", "'shape'", "exactly"};
  for (std::size_t i = 0; i < files.size(); ++i) {
    iotest::write_text(dir / files[i].first, files[i].second);
    try {
      qifsim::read_npy(dir / files[i].first);
      ADD_FAILURE() << files[i].first << " was accepted";
    } catch (const qifsim::IoError& e) {
      EXPECT_TRUE(contains_all(e.what(), {dir / files[i].first, defects[i]})) << files[i].first;
    }
  }
  EXPECT_THROW(qifsim::read_npy(dir / "missing.npy"), qifsim::IoError);
  iotest::write_text(dir / "3d.npy", iotest::npy_bytes(iotest::npy_dict("<f8", "(1, 3, 3)"), nine, sizeof nine));
  try {
    qifsim::read_npy_matrix(dir / "3d.npy");
    ADD_FAILURE() << "a 3-d array was accepted as a matrix";
  } catch (const qifsim::IoError& e) {
    EXPECT_TRUE(contains_all(e.what(), {"3d.npy", "(1, 3, 3)"}));
  }
}

// ---- recordings streamed to files ----------------------------------------------------------

/// A 4-neuron coupled network with a varying input, and its in-memory recording.
struct Fixture {
  static constexpr std::int64_t N = 4;
  qifsim::Network net{1e-3, qifsim::Backend::Cpu};
  qifsim::Matrix inputs;
  qifsim::RunOptions options;

  explicit Fixture(std::int64_t steps, std::int64_t sampling = 3, std::int64_t cutoff = 10) : inputs(steps, N) {
    std::mt19937 rng(1);
    std::uniform_real_distribution<double> u(0.0, 5.0);
    qifsim::QifPopulation pop;
    pop.n = N;
    qifsim::Matrix J(N, N);
    for (double& w : J.data) w = u(rng);
    pop.weights = J;
    net.add_population("qif", pop);
    net.compile();
    for (std::int64_t t = 0; t < steps; ++t) {
      for (std::int64_t j = 0; j < N; ++j) inputs(t, j) = 8.0 + 4.0 * std::sin(0.01 * static_cast<double>(t) + static_cast<double>(j));
    }
    options.sampling_steps = sampling;
    options.cutoff = cutoff;
    options.record_vars = {{"qif", "v", false}, {"qif", "s", true}};
    options.batch_samples = 7;  // many small batches
    options.progress = qifsim::Progress::Off;
  }

  qifsim::Observer in_memory() {
    net.reset();
    return net.run(inputs, options);
  }

  /// Streams to `dir`, keeping nothing in memory; returns the observer.
  qifsim::Observer streamed(const std::string& dir, const std::vector<std::string>& formats, std::size_t budget = 0) {
    net.reset();
    qifsim::Observer obs(net.dt(), qifsim::RecordSpec{true, false, options.record_vars});
    obs.set_keep_in_memory(false);
    if (budget) obs.set_memory_budget(budget);
    qifsim::RecordingInfo info;
    info.sampling_steps = options.sampling_steps;
    info.cutoff = options.cutoff;
    info.config_text = "# a config text\n";
    const auto sinks = qifsim::attach_file_sinks(obs, dir, formats, info);
    net.run(inputs, options, obs);
    qifsim::finish_file_sinks(sinks, obs);
    return obs;
  }
};

std::vector<double> times_of(const std::vector<std::int64_t>& steps, double dt) {
  std::vector<double> t;
  for (auto s : steps) t.push_back(static_cast<double>(s) * dt);
  return t;
}

void expect_npy(const std::string& path, const qifsim::Matrix& want) {
  const iotest::NpyFile f = iotest::read_npy_file(path);
  EXPECT_EQ(f.descr, "<f8") << path;
  EXPECT_EQ(f.shape, (std::vector<std::int64_t>{want.rows, want.cols})) << path;
  EXPECT_EQ(f.f8, want.data) << path;
}

TEST(FileSinks, NpyFilesHoldTheRecording) {
  ScratchDir dir;
  Fixture fx(2000);
  const qifsim::Observer ref = fx.in_memory();
  const qifsim::Observer obs = fx.streamed(dir / "rec", {"npy"});
  EXPECT_EQ(obs.samples(), ref.samples());
  EXPECT_EQ(ref.samples(), (2000 - 1) / 3 - 4 + 1);  // steps 12, 15, ..., 1998
  expect_npy(dir / "rec/out.npy", ref.to_matrix("out"));
  expect_npy(dir / "rec/qif.v.npy", ref.to_matrix("qif.v"));
  expect_npy(dir / "rec/qif.s.npy", ref.to_matrix("qif.s"));
  const iotest::NpyFile steps = iotest::read_npy_file(dir / "rec/steps.npy");
  EXPECT_EQ(steps.descr, "<i8");
  EXPECT_EQ(steps.shape, (std::vector<std::int64_t>{ref.samples()}));
  EXPECT_EQ(steps.i8, ref.steps());
  EXPECT_EQ(steps.i8.front(), 12);
  EXPECT_EQ(iotest::read_npy_file(dir / "rec/time.npy").f8, times_of(ref.steps(), 1e-3));
}

TEST(FileSinks, CsvFilesHoldTheRecording) {
  ScratchDir dir;
  Fixture fx(300);
  const qifsim::Observer ref = fx.in_memory();
  fx.streamed(dir / "rec", {"csv"});
  std::istringstream in(iotest::read_text(dir / "rec/qif.v.csv"));
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "step,time,qif.v[0],qif.v[1],qif.v[2],qif.v[3]");
  const qifsim::Matrix v = ref.to_matrix("qif.v");
  std::int64_t r = 0;
  while (std::getline(in, line)) {
    std::vector<double> cells;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, ',');) cells.push_back(std::stod(c));
    ASSERT_EQ(cells.size(), 6u);
    EXPECT_EQ(static_cast<std::int64_t>(cells[0]), ref.steps()[static_cast<std::size_t>(r)]);
    for (int j = 0; j < 4; ++j) EXPECT_EQ(cells[static_cast<std::size_t>(j) + 2], v(r, j)) << "row " << r;  // %.17g round-trips
    ++r;
  }
  EXPECT_EQ(r, ref.samples());
}

TEST(FileSinks, NoSamplesGiveEmptyArraysOfTheRightWidth) {
  ScratchDir dir;
  Fixture fx(10, /*sampling=*/20, /*cutoff=*/5);  // no step in [5, 10) is a multiple of 20
  const qifsim::Observer obs = fx.streamed(dir / "rec", {"npy"});
  EXPECT_EQ(obs.samples(), 0);
  EXPECT_EQ(iotest::read_npy_file(dir / "rec/qif.v.npy").shape, (std::vector<std::int64_t>{0, 4}));
  EXPECT_EQ(iotest::read_npy_file(dir / "rec/steps.npy").shape, (std::vector<std::int64_t>{0}));
}

TEST(FileSinks, RecordingLargerThanTheMemoryBudgetGoesToDisk) {
  ScratchDir dir;
  Fixture fx(60000, /*sampling=*/1, /*cutoff=*/0);  // 60000 samples x 9 values = 4.3 MB
  const std::size_t budget = 1 << 20;                 // 1 MiB
  fx.net.reset();
  qifsim::RunOptions small = fx.options;
  small.memory_budget = budget;
  EXPECT_THROW(fx.net.run(fx.inputs, small), qifsim::MemoryBudgetError);
  const qifsim::Observer obs = fx.streamed(dir / "rec", {"npy"}, budget);
  EXPECT_EQ(obs.samples(), 60000);
  const qifsim::Observer ref = fx.in_memory();
  expect_npy(dir / "rec/qif.v.npy", ref.to_matrix("qif.v"));
  expect_npy(dir / "rec/out.npy", ref.to_matrix("out"));
}

TEST(FileSinks, SaveRecordingWritesWhatTheSinksWrite) {
  ScratchDir dir;
  Fixture fx(500);
  const qifsim::Observer ref = fx.in_memory();
  const auto paths = qifsim::save_recording(ref, dir / "saved", {"npy", "csv"});
  EXPECT_EQ(paths.size(), 3u + 2u + 3u);  // 3 series + steps + time (npy), 3 series (csv)
  fx.streamed(dir / "streamed", {"npy", "csv"});
  for (const char* f : {"out.npy", "qif.v.npy", "steps.npy", "time.npy", "qif.s.csv"}) {
    EXPECT_EQ(iotest::read_text(dir / ("saved/" + std::string(f))), iotest::read_text(dir / ("streamed/" + std::string(f)))) << f;
  }
  EXPECT_THROW(qifsim::save_recording(ref, dir / "x", {"parquet"}), qifsim::InvalidArgument);
}

#ifdef QIFSIM_TEST_HDF5

/// A dataset read with the HDF5 C API: its dimensions and values as double.
struct H5Data {
  std::vector<hsize_t> dims;
  std::vector<double> values;
  std::vector<std::int64_t> ints;
  bool chunked = false;
  hsize_t maxrows = 0;
};

H5Data read_dataset(hid_t file, const char* name, bool integer = false) {
  H5Data d;
  const hid_t set = H5Dopen2(file, name, H5P_DEFAULT);
  EXPECT_GE(set, 0) << name;
  const hid_t space = H5Dget_space(set);
  const int rank = H5Sget_simple_extent_ndims(space);
  d.dims.resize(static_cast<std::size_t>(rank));
  std::vector<hsize_t> maxdims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space, d.dims.data(), maxdims.data());
  d.maxrows = maxdims[0];
  std::size_t count = 1;
  for (auto x : d.dims) count *= x;
  if (integer) {
    d.ints.resize(count);
    if (count) H5Dread(set, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, d.ints.data());
  } else {
    d.values.resize(count);
    if (count) H5Dread(set, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, d.values.data());
  }
  const hid_t dcpl = H5Dget_create_plist(set);
  d.chunked = H5Pget_layout(dcpl) == H5D_CHUNKED;
  H5Pclose(dcpl);
  H5Sclose(space);
  H5Dclose(set);
  return d;
}

TEST(FileSinks, Hdf5FileHoldsTheRecordingAndAttributes) {
  ScratchDir dir;
  Fixture fx(3000);
  const qifsim::Observer ref = fx.in_memory();
  fx.streamed(dir / "rec", {"hdf5"});
  const hid_t file = H5Fopen((dir / "rec/recording.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  for (const char* key : {"out", "qif.v", "qif.s"}) {
    const H5Data d = read_dataset(file, key);
    const qifsim::Matrix m = ref.to_matrix(key);
    EXPECT_EQ(d.dims, (std::vector<hsize_t>{static_cast<hsize_t>(m.rows), static_cast<hsize_t>(m.cols)})) << key;
    EXPECT_EQ(d.values, m.data) << key;
    EXPECT_TRUE(d.chunked) << key;
    EXPECT_EQ(d.maxrows, H5S_UNLIMITED) << key;
  }
  EXPECT_EQ(read_dataset(file, "steps", true).ints, ref.steps());
  EXPECT_EQ(read_dataset(file, "time").values, times_of(ref.steps(), 1e-3));

  double dt = 0;
  std::int64_t sampling = 0, cutoff = 0;
  hid_t a = H5Aopen(file, "dt", H5P_DEFAULT);
  H5Aread(a, H5T_NATIVE_DOUBLE, &dt);
  H5Aclose(a);
  a = H5Aopen(file, "sampling_steps", H5P_DEFAULT);
  H5Aread(a, H5T_NATIVE_INT64, &sampling);
  H5Aclose(a);
  a = H5Aopen(file, "cutoff", H5P_DEFAULT);
  H5Aread(a, H5T_NATIVE_INT64, &cutoff);
  H5Aclose(a);
  EXPECT_EQ(dt, 1e-3);
  EXPECT_EQ(sampling, 3);
  EXPECT_EQ(cutoff, 10);
  a = H5Aopen(file, "config", H5P_DEFAULT);
  const hid_t type = H5Aget_type(a);
  EXPECT_TRUE(H5Tis_variable_str(type) > 0);
  char* text = nullptr;
  const hid_t mem = H5Tcopy(H5T_C_S1);
  H5Tset_size(mem, H5T_VARIABLE);
  H5Tset_cset(mem, H5T_CSET_UTF8);
  ASSERT_GE(H5Aread(a, mem, &text), 0);
  EXPECT_EQ(std::string(text), "# a config text\n");
  H5free_memory(text);
  H5Tclose(mem);
  H5Tclose(type);
  H5Aclose(a);
  H5Fclose(file);
}

#else

TEST(FileSinks, Hdf5FileHoldsTheRecordingAndAttributes) { GTEST_SKIP() << "built without HDF5"; }

#endif

}  // namespace
