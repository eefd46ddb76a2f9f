// tests/test_config_sweep.cpp - a config's [sweep]: each member's files equal the config run
// with that member's values given as overrides (reproducible: bit for bit), the member axis in
// NPY, CSV and HDF5, members.csv, per-neuron values from .npy files, and the errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "io_test_util.hpp"
#include "qifsim/npy.hpp"
#include "qifsim/qifsim.hpp"
#ifdef QIFSIM_TEST_HDF5
#include <hdf5.h>
#endif

namespace {

using iotest::ScratchDir;
namespace fs = std::filesystem;

// A sparse random network with a Lorentzian eta, a step input and noise.
std::string config(const std::string& out, const std::string& formats, const std::string& sweep) {
  return R"(dt = 2e-3
steps = 600
backend = "cpu"
reproducible = true
coupling = "sparse"
[[function]]
name = "inp"
size = 1
[[population]]
name = "qif"
n = 150
eta = { kind = "lorentzian", center = -2.0, width = 0.5 }
weights = { kind = "fixed_indegree", k = 15, value = 0.4, seed = 3 }
tau_s = 0.6
sigma = 0.3
noise_seed = 7
[[edge]]
source = "inp"
target = "qif"
weights = { kind = "all_to_all", value = 1.0 }
[input]
value = 1.0
[[input.step]]
start = 0.4
stop = 0.8
value = 3.0
[record]
vars = [["qif", "v", false], ["qif", "s", true]]
sampling_steps = 4
out_dir = ")" + out + R"("
formats = )" + formats + "\n" + sweep;
}

std::string error_of(const std::string& text, const std::string& dir) {
  try {
    qifsim::parse_config(text, dir, "cfg.toml");
  } catch (const qifsim::ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "accepted:\n" << text;
  return {};
}

void write_npy_vector(const std::string& path, const std::vector<double>& v) {
  iotest::write_f8(path, "(" + std::to_string(v.size()) + ",)", v);
}

}  // namespace

// Member b of a zipped sweep (eta from a number or a per-neuron file, the noise seed, the input
// factor) equals the single config run given member b's values as overrides, bit for bit.
TEST(ConfigSweep, EachMemberEqualsTheSingleRunWithItsValues) {
  ScratchDir dir;
  std::vector<double> eta(150);
  for (std::size_t i = 0; i < eta.size(); ++i) eta[i] = -3.0 + 0.01 * static_cast<double>(i);
  write_npy_vector(dir / "eta_ramp.npy", eta);
  const std::string sweep = R"([sweep]
"qif.eta" = [-1.5, "eta_ramp.npy", -2.5]
qif.noise_seed = [7, 8, 9]
input.scale = [1.0, 0.5, 2.0]
)";
  qifsim::RunConfig cfg = qifsim::parse_config(config("swept", "[\"npy\", \"csv\"]", sweep), dir.str(), "cfg.toml");
  EXPECT_NE(cfg.summary().find("sweep    3 members (zip): qif.eta, qif.noise_seed, input.scale"), std::string::npos)
      << cfg.summary();
  cfg.out_dir = dir / "swept";
  qifsim::run_config(cfg, false);
  const qifsim::NpyArray v = qifsim::read_npy(dir / "swept/qif.v.npy");
  const qifsim::NpyArray s = qifsim::read_npy(dir / "swept/qif.s.npy");
  ASSERT_EQ(v.shape, (std::vector<std::int64_t>{150, 3, 150}));
  ASSERT_EQ(s.shape, (std::vector<std::int64_t>{150, 3, 1}));
  EXPECT_EQ(iotest::read_text(dir / "swept/members.csv"),
            "member,qif.eta,qif.noise_seed,input.scale,status,samples,reason\n"
            "0,-1.5,7,1,complete,150,\n"
            "1,eta_ramp.npy,8,0.5,complete,150,\n"
            "2,-2.5,9,2,complete,150,\n");
  const std::string csv = iotest::read_text(dir / "swept/qif.s.csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "step,time,member,qif.s[0]");

  const std::vector<std::vector<std::string>> overrides = {
      {"population.0.eta=-1.5", "population.0.noise_seed=7", "input.value=1.0", "input.step.0.value=3.0"},
      {"population.0.eta='eta_ramp.npy'", "population.0.noise_seed=8", "input.value=0.5", "input.step.0.value=1.5"},
      {"population.0.eta=-2.5", "population.0.noise_seed=9", "input.value=2.0", "input.step.0.value=6.0"}};
  for (int b = 0; b < 3; ++b) {
    SCOPED_TRACE("member " + std::to_string(b));
    const std::string out = "single" + std::to_string(b);
    qifsim::RunConfig one = qifsim::parse_config(config(out, "[\"npy\"]", ""), dir.str(), "cfg.toml",
                                                 overrides[static_cast<std::size_t>(b)]);
    one.out_dir = dir / out;
    qifsim::run_config(one, false);
    const qifsim::NpyArray v1 = qifsim::read_npy(dir / (out + "/qif.v.npy"));
    const qifsim::NpyArray s1 = qifsim::read_npy(dir / (out + "/qif.s.npy"));
    ASSERT_EQ(v1.shape, (std::vector<std::int64_t>{150, 150}));
    for (std::int64_t r = 0; r < 150; ++r) {
      for (std::int64_t i = 0; i < 150; ++i) {
        ASSERT_EQ(v.data[static_cast<std::size_t>((r * 3 + b) * 150 + i)], v1.data[static_cast<std::size_t>(r * 150 + i)])
            << "sample " << r << ", neuron " << i;
      }
      ASSERT_EQ(s.data[static_cast<std::size_t>(r * 3 + b)], s1.data[static_cast<std::size_t>(r)]) << "sample " << r;
    }
  }
}

TEST(ConfigSweep, GridModeTakesEveryCombination) {
  ScratchDir dir;
  qifsim::RunConfig cfg = qifsim::parse_config(
      config("grid", "[\"npy\"]", "[sweep]\nmode = \"grid\"\n[sweep.qif]\neta = [-2.0, -1.0]\nk = [0.5, 1.0, 2.0]\n"),
      dir.str(), "cfg.toml");
  cfg.out_dir = dir / "grid";
  qifsim::run_config(cfg, false);
  EXPECT_EQ(qifsim::read_npy(dir / "grid/out.npy").shape, (std::vector<std::int64_t>{150, 6, 150}));
  const std::string members = iotest::read_text(dir / "grid/members.csv");
  EXPECT_NE(members.find("0,-2,0.5,complete"), std::string::npos) << members;
  EXPECT_NE(members.find("2,-2,2,complete"), std::string::npos) << members;
  EXPECT_NE(members.find("5,-1,2,complete"), std::string::npos) << members;
}

#ifdef QIFSIM_TEST_HDF5
TEST(ConfigSweep, Hdf5DatasetsHaveTheMemberAxis) {
  ScratchDir dir;
  qifsim::RunConfig cfg =
      qifsim::parse_config(config("h5", "[\"hdf5\", \"npy\"]", "[sweep]\n\"qif.k\" = [0.5, 1.0]\n"), dir.str(), "cfg.toml");
  cfg.out_dir = dir / "h5";
  qifsim::run_config(cfg, false);
  const qifsim::NpyArray v = qifsim::read_npy(dir / "h5/qif.v.npy");
  const hid_t file = H5Fopen((dir / "h5/recording.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  const hid_t set = H5Dopen2(file, "qif.v", H5P_DEFAULT);
  const hid_t space = H5Dget_space(set);
  ASSERT_EQ(H5Sget_simple_extent_ndims(space), 3);
  hsize_t dims[3] = {0, 0, 0};
  H5Sget_simple_extent_dims(space, dims, nullptr);
  EXPECT_EQ(std::vector<hsize_t>(dims, dims + 3), (std::vector<hsize_t>{150, 2, 150}));
  std::vector<double> values(150 * 2 * 150);
  H5Dread(set, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
  EXPECT_EQ(values, v.data);
  std::int64_t members = 0;
  const hid_t a = H5Aopen(file, "members", H5P_DEFAULT);
  H5Aread(a, H5T_NATIVE_INT64, &members);
  EXPECT_EQ(members, 2);
  H5Aclose(a);
  H5Sclose(space);
  H5Dclose(set);
  H5Fclose(file);
}
#endif

// A member that diverges stops; members.csv says where and why, its later samples are NaN in the
// files, and the others complete.
TEST(ConfigSweep, ADivergingMemberIsInMembersCsvAndNaNInTheFiles) {
  ScratchDir dir;
  qifsim::RunConfig cfg = qifsim::parse_config(
      config("div", "[\"npy\", \"csv\"]", "[sweep]\nqif.v_threshold = [100.0, 1e305]\nqif.v_reset = [-100.0, 1e300]\n"),
      dir.str(), "cfg.toml");
  cfg.out_dir = dir / "div";
  qifsim::run_config(cfg, false);
  const std::string members = iotest::read_text(dir / "div/members.csv");
  std::istringstream lines(members);
  std::string header, first, second;
  std::getline(lines, header);
  std::getline(lines, first);
  std::getline(lines, second);
  EXPECT_EQ(first, "0,100,-100,complete,150,");
  EXPECT_EQ(second.rfind("1,1e+305,1e+300,diverged,", 0), 0u) << second;
  EXPECT_NE(second.find("node 'qif' variable 'v'"), std::string::npos) << second;
  const std::int64_t kept = std::stoll(second.substr(std::string("1,1e+305,1e+300,diverged,").size()));
  ASSERT_GT(kept, 0);
  ASSERT_LT(kept, 150);
  const qifsim::NpyArray v = qifsim::read_npy(dir / "div/qif.v.npy");
  for (std::int64_t r = 0; r < 150; ++r) {
    const double member1 = v.data[static_cast<std::size_t>((r * 2 + 1) * 150)];
    const double member0 = v.data[static_cast<std::size_t>((r * 2) * 150)];
    ASSERT_TRUE(std::isfinite(member0)) << "sample " << r;
    ASSERT_EQ(std::isnan(member1), r >= kept) << "sample " << r;
  }
}

// An [input] file of steps x members x width gives each member its own rows (the [input]
// value added to every member's); member b equals the single run reading its own 2-D file.
TEST(ConfigSweep, AnInputFileWithAMemberAxisFeedsEachMember) {
  ScratchDir dir;
  const std::int64_t T = 600, B = 3;
  std::vector<double> all(static_cast<std::size_t>(T * B));
  std::vector<std::vector<double>> own(B, std::vector<double>(static_cast<std::size_t>(T)));
  for (std::int64_t t = 0; t < T; ++t) {
    for (std::int64_t b = 0; b < B; ++b) {
      const double x = 2.0 * static_cast<double>(b) * std::sin(0.01 * static_cast<double>(t) + static_cast<double>(b));
      all[static_cast<std::size_t>(t * B + b)] = x;
      own[static_cast<std::size_t>(b)][static_cast<std::size_t>(t)] = x;
    }
  }
  iotest::write_f8(dir / "drive.npy", "(600, 3, 1)", all);
  auto text = [&](const std::string& out, const std::string& file, const std::string& sweep) {
    std::string c = config(out, "[\"npy\"]", sweep);
    const std::string from = "[input]\nvalue = 1.0\n";
    c.replace(c.find(from), from.size(), "[input]\nfile = \"" + file + "\"\nvalue = 1.0\n");
    c.replace(c.find("steps = 600\n"), 12, "");
    return c;
  };
  qifsim::RunConfig cfg = qifsim::parse_config(text("ens", "drive.npy", "[sweep]\nqif.k = [0.5, 1.0, 1.5]\n"),
                                               dir.str(), "cfg.toml");
  EXPECT_NE(cfg.input_description.find("600 x 3 members x 1"), std::string::npos) << cfg.input_description;
  cfg.out_dir = dir / "ens";
  qifsim::run_config(cfg, false);
  const qifsim::NpyArray v = qifsim::read_npy(dir / "ens/qif.v.npy");
  for (std::int64_t b = 0; b < B; ++b) {
    SCOPED_TRACE("member " + std::to_string(b));
    const std::string file = "drive" + std::to_string(b) + ".npy";
    write_npy_vector(dir / file, own[static_cast<std::size_t>(b)]);
    const std::string out = "one" + std::to_string(b);
    qifsim::RunConfig one = qifsim::parse_config(text(out, file, ""), dir.str(), "cfg.toml",
                                                 {"population.0.k=" + std::to_string(0.5 * static_cast<double>(b + 1))});
    one.out_dir = dir / out;
    qifsim::run_config(one, false);
    const qifsim::NpyArray v1 = qifsim::read_npy(dir / (out + "/qif.v.npy"));
    for (std::int64_t r = 0; r < 150; ++r) {
      for (std::int64_t i = 0; i < 150; ++i) {
        ASSERT_EQ(v.data[static_cast<std::size_t>((r * B + b) * 150 + i)], v1.data[static_cast<std::size_t>(r * 150 + i)])
            << "sample " << r << ", neuron " << i;
      }
    }
  }
  const std::string err = error_of(text("x", "drive.npy", "[sweep]\nqif.k = [0.5, 1.0]\n"), dir.str());
  EXPECT_NE(err.find("member axis of 3"), std::string::npos) << err;
  EXPECT_NE(err.find("2 members"), std::string::npos) << err;
  EXPECT_NE(error_of(text("x", "drive.npy", ""), dir.str()).find("no [sweep]"), std::string::npos);
}

// record.spikes in a sweep: <pop>.spikes.npy holds rows (step, member, neuron) as the run goes
// (CSV step,time,member,neuron); member b's rows are the single config run's (step, neuron) rows.
TEST(ConfigSweep, SpikeEventFilesCarryTheMember) {
  ScratchDir dir;
  auto with_spikes = [](std::string c) {
    c.replace(c.find("[record]\n"), 9, "[record]\nspikes = [\"qif\"]\n");
    return c;
  };
  qifsim::RunConfig cfg = qifsim::parse_config(
      with_spikes(config("sp", "[\"npy\", \"csv\", \"hdf5\"]", "[sweep]\nqif.eta = [-1.0, 2.0]\n")), dir.str(), "cfg.toml");
  cfg.out_dir = dir / "sp";
  qifsim::run_config(cfg, false);
  const qifsim::NpyArray rows = qifsim::read_npy(dir / "sp/qif.spikes.npy");
  ASSERT_EQ(rows.shape.size(), 2u);
  ASSERT_EQ(rows.shape[1], 3);
  ASSERT_GT(rows.shape[0], 0);
  const std::string csv = iotest::read_text(dir / "sp/qif.spikes.csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "step,time,member,neuron");
  for (int b = 0; b < 2; ++b) {
    SCOPED_TRACE("member " + std::to_string(b));
    const std::string out = "one" + std::to_string(b);
    qifsim::RunConfig one = qifsim::parse_config(with_spikes(config(out, "[\"npy\"]", "")), dir.str(), "cfg.toml",
                                                 {b == 0 ? "population.0.eta=-1.0" : "population.0.eta=2.0"});
    one.out_dir = dir / out;
    qifsim::run_config(one, false);
    const qifsim::NpyArray want = qifsim::read_npy(dir / (out + "/qif.spikes.npy"));
    std::vector<double> got;
    for (std::int64_t k = 0; k < rows.shape[0]; ++k) {
      if (rows.data[static_cast<std::size_t>(3 * k + 1)] != b) continue;
      got.push_back(rows.data[static_cast<std::size_t>(3 * k)]);
      got.push_back(rows.data[static_cast<std::size_t>(3 * k + 2)]);
    }
    EXPECT_EQ(got, want.data);
  }
#ifdef QIFSIM_TEST_HDF5
  const hid_t file = H5Fopen((dir / "sp/recording.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  const hid_t set = H5Dopen2(file, "qif.spikes", H5P_DEFAULT);
  const hid_t space = H5Dget_space(set);
  hsize_t dims[2] = {0, 0};
  H5Sget_simple_extent_dims(space, dims, nullptr);
  EXPECT_EQ(dims[0], static_cast<hsize_t>(rows.shape[0]));
  EXPECT_EQ(dims[1], 3u);
  std::vector<std::int64_t> h5(static_cast<std::size_t>(dims[0] * dims[1]));
  H5Dread(set, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, h5.data());
  for (std::size_t k = 0; k < h5.size(); ++k) ASSERT_EQ(static_cast<double>(h5[k]), rows.data[k]) << k;
  H5Sclose(space);
  H5Dclose(set);
  H5Fclose(file);
#endif
}

TEST(ConfigSweep, BadSweepsNameTheKeyAndLine) {
  ScratchDir dir;
  auto err = [&](const std::string& sweep) { return error_of(config("x", "[]", sweep), dir.str()); };
  const std::string unequal = err("[sweep]\n\"qif.eta\" = [1, 2, 3]\n\"qif.k\" = [1, 2]\n");
  EXPECT_NE(unequal.find("'qif.eta' 3"), std::string::npos) << unequal;
  EXPECT_NE(unequal.find("'qif.k' 2"), std::string::npos) << unequal;
  EXPECT_NE(unequal.find("cfg.toml:"), std::string::npos) << unequal;
  EXPECT_NE(err("[sweep]\n\"qif.etaa\" = [1, 2]\n").find("qif.etaa"), std::string::npos);
  EXPECT_NE(err("[sweep]\n\"qif.eta\" = 1\n").find("sweep.qif.eta: expected a list"), std::string::npos);
  EXPECT_NE(err("[sweep]\n\"qif.eta\" = [1, true]\n").find("sweep.qif.eta[1]"), std::string::npos);
  EXPECT_NE(err("[sweep]\n\"qif.eta\" = [\"missing.npy\"]\n").find("not found"), std::string::npos);
  EXPECT_NE(err("[sweep]\nmode = \"product\"\n\"qif.eta\" = [1]\n").find("sweep.mode"), std::string::npos);
  EXPECT_NE(err("[sweep]\nmode = \"grid\"\n").find("names no key"), std::string::npos);
  EXPECT_NE(err("[sweep]\n\"qif.tau\" = [1, -1]\n").find("member 1"), std::string::npos);
  EXPECT_NE(err("[sweep]\n\"qif.k\" = [1, 2]\n[sweep.qif]\nk = [3, 4]\n").find("given twice"), std::string::npos);
  // --set takes a quoted key whole, as TOML does: the file's list is replaced.
  const qifsim::RunConfig cfg = qifsim::parse_config(config("x", "[]", "[sweep]\n\"qif.k\" = [1, 2]\n"), dir.str(),
                                                     "cfg.toml", {"sweep.\"qif.k\"=[1.0, 2.0, 3.0]"});
  ASSERT_EQ(cfg.options.sweep.keys.size(), 1u);
  EXPECT_EQ(cfg.options.sweep.members(), 3);
}

#ifdef QIFSIM_TEST_HDF5
namespace {
// A dataset of recording.h5 whole, as float64.
std::vector<double> h5_values(const std::string& path, const std::string& name) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) return {};
  const hid_t set = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
  const hid_t space = H5Dget_space(set);
  std::vector<double> out(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
  H5Dread(set, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data());
  H5Sclose(space);
  H5Dclose(set);
  H5Fclose(file);
  return out;
}
}  // namespace
#endif

// A sweep stopped at a step (its checkpoint written) and resumed from its folder alone leaves
// the files of the uninterrupted sweep, byte for byte: every series with its member axis, the
// spike events with their member, members.csv (a member that diverged before the stop keeps its
// stop, step and sample count), in every format.
TEST(ConfigSweep, AStoppedSweepResumedFromItsFolderEqualsAnUninterruptedOne) {
  ScratchDir dir;
  const bool h5 = qifsim::hdf5_supported();
  const std::string formats = h5 ? "[\"npy\", \"csv\", \"hdf5\"]" : "[\"npy\", \"csv\"]";
  auto text = [&](const std::string& out) {
    std::string c = config(out, formats,
                           "[sweep]\nqif.v_threshold = [100.0, 1e305, 100.0]\nqif.v_reset = [-100.0, 1e300, -100.0]\n"
                           "qif.noise_seed = [1, 2, 3]\n");
    c.replace(c.find("[record]\n"), 9, "[record]\nspikes = [\"qif\"]\n");
    return c;
  };
  for (const std::string coupling : {"sparse", "events"}) {
    SCOPED_TRACE("coupling " + coupling);
    const auto with = [&](std::string c) {
      c.replace(c.find("coupling = \"sparse\""), 19, "coupling = \"" + coupling + "\"");
      return c;
    };
    qifsim::RunConfig whole = qifsim::parse_config(with(text("whole")), dir.str(), "cfg.toml");
    whole.out_dir = dir / "whole";
    qifsim::run_config(whole, false);
    const std::string members = iotest::read_text(dir / "whole/members.csv");
    ASSERT_NE(members.find("1,1e+305,1e+300,2,diverged,"), std::string::npos) << members;
    for (const std::int64_t stop : {std::int64_t{7}, std::int64_t{401}}) {  // before and after member 1 diverged
      SCOPED_TRACE("stopped at step " + std::to_string(stop));
      const std::string name = "part" + std::to_string(stop);
      iotest::write_text(dir / "cfg.toml", with(text(name)));
      qifsim::RunConfig part = qifsim::load_config(dir / "cfg.toml");
      part.out_dir = dir / name;
      part.options.stop_at_step = stop;
      const qifsim::ConfigRun first = qifsim::run_config(part, false);
      ASSERT_TRUE(first.interrupted());
      EXPECT_TRUE(fs::exists(dir / (name + "/qifsim.ckpt")));
      EXPECT_NE(iotest::read_text(dir / (name + "/members.csv")).find(",interrupted,"), std::string::npos);
      qifsim::RunConfig rest = qifsim::resume_config(dir / name);
      rest.options.progress = qifsim::Progress::Off;
      const qifsim::ConfigRun second = qifsim::run_config(rest, false);
      EXPECT_FALSE(second.interrupted());
      EXPECT_EQ(second.first_step, stop);
      for (const char* file : {"out.npy", "qif.v.npy", "qif.s.npy", "steps.npy", "time.npy", "qif.spikes.npy", "out.csv",
                               "qif.v.csv", "qif.s.csv", "qif.spikes.csv", "members.csv"}) {
        EXPECT_EQ(iotest::read_text(dir / (name + "/" + file)), iotest::read_text(dir / (std::string("whole/") + file)))
            << file;
      }
#ifdef QIFSIM_TEST_HDF5
      for (const char* set : {"out", "qif.v", "qif.s", "steps", "qif.spikes"}) {
        const std::vector<double> got = h5_values(dir / (name + "/recording.h5"), set);
        const std::vector<double> want = h5_values(dir / "whole/recording.h5", set);
        EXPECT_FALSE(want.empty()) << set;
        EXPECT_TRUE(got.size() == want.size() &&
                    std::memcmp(got.data(), want.data(), got.size() * sizeof(double)) == 0)
            << set;
      }
#endif
    }
  }
}
