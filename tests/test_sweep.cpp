// tests/test_sweep.cpp - ensembles (RunOptions::sweep): members counted and combined as the
// sweep says, and each member's recordings equal to the single network run with that member's
// values (bit for bit with `reproducible`, for every coupling operator; within rounding for the
// one-GEMM dense mode), per-member inputs, seeds, and the errors a bad sweep gets.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <random>
#include <string>
#include <vector>

#include "qifsim/qifsim.hpp"

namespace {

using qifsim::CouplingMode;
using qifsim::Matrix;
using qifsim::Network;
using qifsim::Observer;
using qifsim::RunOptions;
using qifsim::Sweep;
using qifsim::SweepKey;
using qifsim::SweepMode;
using qifsim::SweepValue;
using qifsim::Weights;

constexpr std::int64_t kN = 203;  // not a multiple of the row blocks (16) or lanes (8)
constexpr std::int64_t kIn = 2;
constexpr std::int64_t kSteps = 400;

Weights recurrent(CouplingMode mode) {
  if (mode == CouplingMode::Procedural) return Weights::all_to_all(kN, kN, 0.7 / static_cast<double>(kN));
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Matrix J(kN, kN);
  for (std::int64_t i = 0; i < kN; ++i) {
    for (std::int64_t j = 0; j < kN; ++j) {
      const double w = u(rng);
      // sparse and events: about a tenth of the entries; dense: every entry
      J(i, j) = mode == CouplingMode::Dense ? (w - 0.3) * 4.0 / static_cast<double>(kN)
                : w < 0.1                   ? 20.0 * w / static_cast<double>(kN)
                                            : 0.0;
    }
  }
  if (mode == CouplingMode::Sparse || mode == CouplingMode::Events) return qifsim::Weights(Weights(J).to_sparse());
  return J;
}

struct Values {
  std::vector<double> eta{-3.0};
  std::vector<double> v0{-2.0};
  double scale = 1.0;
  std::uint64_t noise_seed = 0;
};

// The network: an input node of width 2 feeding a QIF population through N x 2 weights.
Network build(CouplingMode mode, qifsim::Precision precision, const Values& v, double sigma = 0.0) {
  Network net(5e-3, qifsim::Backend::Cpu, precision);
  net.add_function("inp", kIn, qifsim::Activation::Identity);
  qifsim::QifPopulation p;
  p.n = kN;
  p.weights = recurrent(mode);
  p.eta = v.eta;
  p.v0 = v.v0;
  p.tau = 1.0;
  p.k = 1.5;
  p.tau_s = 0.8;
  net.add_population("qif", p);
  Matrix w(kN, kIn);
  for (std::int64_t i = 0; i < kN; ++i) {
    w(i, 0) = 1.0 + 0.01 * static_cast<double>(i % 7);
    w(i, 1) = -0.5;
  }
  net.add_edge("inp", "qif", w);
  if (sigma > 0.0) net.add_noise("qif", qifsim::NoiseInput{sigma, v.noise_seed});
  net.compile();
  return net;
}

Matrix inputs(double scale = 1.0, double phase = 0.0) {
  Matrix x(kSteps, kIn);
  for (std::int64_t t = 0; t < kSteps; ++t) {
    x(t, 0) = scale * (6.0 + 3.0 * std::sin(0.02 * static_cast<double>(t) + phase));
    x(t, 1) = scale * 0.5;
  }
  return x;
}

RunOptions options(CouplingMode mode, bool reproducible) {
  RunOptions o;
  o.coupling = mode;
  o.reproducible = reproducible;
  o.progress = qifsim::Progress::Off;
  o.sampling_steps = 3;
  o.record_vars = {{"qif", "v", false}, {"qif", "s", true}, {"qif", "spike", false, {0, 5, 202}}};
  return o;
}

std::vector<double> per_neuron_v0() {
  std::vector<double> v(kN);
  for (std::int64_t i = 0; i < kN; ++i) v[static_cast<std::size_t>(i)] = -3.0 + 0.02 * static_cast<double>(i);
  return v;
}

// Three members: eta, v0 (a number, or one per neuron) and the input factor zipped.
Sweep three_members() {
  Sweep s;
  s.keys.push_back(SweepKey::numbers("qif.eta", {-4.0, -2.5, -1.0}));
  SweepKey v0;
  v0.key = "qif.v0";
  v0.values = {SweepValue{{-2.0}}, SweepValue{per_neuron_v0(), "v0.npy"}, SweepValue{{-1.0}}};
  s.keys.push_back(v0);
  s.keys.push_back(SweepKey::numbers("input.scale", {1.0, 0.5, 1.25}));
  return s;
}

Values member_values(int b) {
  Values v;
  v.eta = {std::vector<double>{-4.0, -2.5, -1.0}[static_cast<std::size_t>(b)]};
  v.v0 = b == 1 ? per_neuron_v0() : std::vector<double>{b == 0 ? -2.0 : -1.0};
  v.scale = std::vector<double>{1.0, 0.5, 1.25}[static_cast<std::size_t>(b)];
  return v;
}

// Every series of member b equals the single run's: bit for bit (tol 0) or within rel.
void expect_member(const Observer& ens, std::int64_t b, const Observer& one, double rel) {
  ASSERT_EQ(ens.samples(), one.samples());
  ASSERT_EQ(ens.steps(), one.steps());
  for (const std::string& key : one.keys()) {
    SCOPED_TRACE("member " + std::to_string(b) + ", series " + key);
    ASSERT_EQ(ens.width(key), one.width(key));
    const Matrix got = ens.member_matrix(key, b);
    const Matrix want = one.to_matrix(key);
    ASSERT_EQ(got.rows, want.rows);
    ASSERT_EQ(got.cols, want.cols);
    for (std::int64_t r = 0; r < want.rows; ++r) {
      for (std::int64_t c = 0; c < want.cols; ++c) {
        if (rel == 0.0) {
          ASSERT_EQ(got(r, c), want(r, c)) << "sample " << r << ", column " << c;
        } else {
          ASSERT_NEAR(got(r, c), want(r, c), rel * (1.0 + std::fabs(want(r, c)))) << "sample " << r << ", column " << c;
        }
      }
    }
  }
}

}  // namespace

TEST(Sweep, ZipCountsAndRefusesUnequalLengthsNamingThem) {
  Sweep s;
  s.keys = {SweepKey::numbers("qif.eta", {1, 2, 3}), SweepKey::numbers("qif.k", {1, 2, 3})};
  EXPECT_EQ(s.members(), 3);
  EXPECT_EQ(s.member_values(2), (std::vector<std::size_t>{2, 2}));
  s.keys[1] = SweepKey::numbers("qif.k", {1, 2});
  try {
    (void)s.members();
    FAIL() << "unequal lengths were accepted";
  } catch (const qifsim::InvalidArgument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'qif.eta' 3"), std::string::npos) << what;
    EXPECT_NE(what.find("'qif.k' 2"), std::string::npos) << what;
  }
  EXPECT_EQ(Sweep{}.members(), 1);
}

TEST(Sweep, GridTakesEveryCombinationLastKeyFastest) {
  Sweep s;
  s.mode = SweepMode::Grid;
  s.keys = {SweepKey::numbers("qif.eta", {1, 2}), SweepKey::numbers("qif.k", {1, 2, 3})};
  ASSERT_EQ(s.members(), 6);
  std::vector<std::vector<std::size_t>> seen;
  for (std::int64_t b = 0; b < 6; ++b) seen.push_back(s.member_values(b));
  const std::vector<std::vector<std::size_t>> want = {{0, 0}, {0, 1}, {0, 2}, {1, 0}, {1, 1}, {1, 2}};
  EXPECT_EQ(seen, want);
  EXPECT_EQ(qifsim::parse_sweep_mode("grid"), SweepMode::Grid);
  EXPECT_THROW(qifsim::parse_sweep_mode("product"), qifsim::InvalidArgument);
}

// With `reproducible`, member b is the single run with member b's values, bit for bit, for
// each coupling operator and both precisions (dense).
TEST(Sweep, ReproducibleMembersEqualSingleRunsBitForBit) {
  const std::vector<std::pair<CouplingMode, qifsim::Precision>> cases = {
      {CouplingMode::Dense, qifsim::Precision::Float64},   {CouplingMode::Dense, qifsim::Precision::Float32},
      {CouplingMode::Sparse, qifsim::Precision::Float64},  {CouplingMode::Procedural, qifsim::Precision::Float64},
      {CouplingMode::Events, qifsim::Precision::Float64}};
  for (const auto& [mode, precision] : cases) {
    SCOPED_TRACE(qifsim::to_string(mode) + (precision == qifsim::Precision::Float32 ? " float32" : " float64"));
    Network net = build(mode, precision, Values{});
    RunOptions o = options(mode, true);
    o.sweep = three_members();
    const Matrix x = inputs();
    const Observer ens = net.run(x, o);
    ASSERT_EQ(ens.members(), 3);
    ASSERT_EQ(ens.to_matrix("qif.v").cols, 3 * kN);
    double spikes = 0.0;
    for (int b = 0; b < 3; ++b) {
      const Values v = member_values(b);
      Network one = build(mode, precision, v);
      const Observer single = one.run(inputs(v.scale), options(mode, true));
      expect_member(ens, b, single, 0.0);
      const Matrix sp = single.to_matrix("qif.spike");
      for (double f : sp.data) spikes += f;
    }
    EXPECT_GT(spikes, 0.0) << "no member spiked: the comparison saw no reset";
  }
}

// The default mode applies a dense J to every member as one GEMM: within rounding of the
// single runs on a short, non-chaotic stretch; members = 1 is the single run exactly.
TEST(Sweep, FastDenseModeIsWithinRoundingAndOneMemberIsTheSingleRun) {
  Network net = build(CouplingMode::Dense, qifsim::Precision::Float64, Values{});
  RunOptions o = options(CouplingMode::Dense, false);
  o.record_vars = {{"qif", "v", false}, {"qif", "s", true}};
  // 3 members: the fixed-order row loop; 17: one GEMM (from 16 members on).
  for (const int count : {3, 17}) {
    SCOPED_TRACE(std::to_string(count) + " members");
    std::vector<double> etas;
    for (int b = 0; b < count; ++b) etas.push_back(-4.0 + 3.0 * b / (count - 1));
    o.sweep.keys = {SweepKey::numbers("qif.eta", etas)};
    Matrix x(60, kIn);
    for (std::int64_t t = 0; t < 60; ++t) x(t, 0) = 1.0, x(t, 1) = 0.0;
    const Observer ens = net.run(x, o);
    for (int b : {0, count / 2, count - 1}) {
      Values v;
      v.eta = {etas[static_cast<std::size_t>(b)]};
      Network one = build(CouplingMode::Dense, qifsim::Precision::Float64, v);
      RunOptions single = o;
      single.sweep = Sweep{};
      expect_member(ens, b, one.run(x, single), 1e-12);
    }
  }
  o.sweep.keys = {SweepKey::numbers("qif.eta", {-2.5})};
  const Observer alone = net.run(inputs(), o);
  ASSERT_EQ(alone.members(), 1);
  Values v;
  v.eta = {-2.5};
  Network one = build(CouplingMode::Dense, qifsim::Precision::Float64, v);
  RunOptions single = o;
  single.sweep = Sweep{};
  expect_member(alone, 0, one.run(inputs(), single), 0.0);
}

TEST(Sweep, GridMembersAndOwnInputsMatchTheirSingleRuns) {
  Network net = build(CouplingMode::Sparse, qifsim::Precision::Float64, Values{});
  RunOptions o = options(CouplingMode::Sparse, true);
  o.sweep.mode = SweepMode::Grid;
  o.sweep.keys = {SweepKey::numbers("qif.eta", {-4.0, -1.0}), SweepKey::numbers("qif.v0", {-2.0, 0.5})};
  // Each member its own input: steps x (4 x 2), member b's columns [2b, 2b + 2).
  Matrix x(kSteps, 4 * kIn);
  for (int b = 0; b < 4; ++b) {
    const Matrix xb = inputs(1.0, 0.7 * b);
    for (std::int64_t t = 0; t < kSteps; ++t) {
      for (std::int64_t j = 0; j < kIn; ++j) x(t, b * kIn + j) = xb(t, j);
    }
  }
  const Observer ens = net.run(x, o);
  ASSERT_EQ(ens.members(), 4);
  for (int b = 0; b < 4; ++b) {
    Values v;
    v.eta = {b < 2 ? -4.0 : -1.0};  // the first key varies slowest
    v.v0 = {b % 2 == 0 ? -2.0 : 0.5};
    Network one = build(CouplingMode::Sparse, qifsim::Precision::Float64, v);
    expect_member(ens, b, one.run(inputs(1.0, 0.7 * b), options(CouplingMode::Sparse, true)), 0.0);
  }
}

TEST(Sweep, NoiseSeedsPerMemberEqualSingleRunsWithThoseSeeds) {
  Network net = build(CouplingMode::Dense, qifsim::Precision::Float64, Values{}, 0.8);
  RunOptions o = options(CouplingMode::Dense, true);
  o.sweep.keys = {SweepKey::numbers("qif.noise_seed", {3, 4})};
  const Observer ens = net.run(inputs(), o);
  for (int b = 0; b < 2; ++b) {
    Values v;
    v.noise_seed = static_cast<std::uint64_t>(3 + b);
    Network one = build(CouplingMode::Dense, qifsim::Precision::Float64, v, 0.8);
    expect_member(ens, b, one.run(inputs(), options(CouplingMode::Dense, true)), 0.0);
  }
  EXPECT_NE(ens.member_matrix("qif.v", 0).data, ens.member_matrix("qif.v", 1).data);
}

TEST(Sweep, LeavesTheNetworkAsItWas) {
  Network net = build(CouplingMode::Dense, qifsim::Precision::Float64, Values{});
  const std::vector<double> v_before = net.get_var("qif", "v");
  RunOptions o = options(CouplingMode::Dense, true);
  o.sweep = three_members();
  (void)net.run(inputs(), o);
  EXPECT_EQ(net.get_var("qif", "v"), v_before);
  EXPECT_EQ(net.step_count(), 0);
}

TEST(Sweep, FilesGainAMemberAxis) {
  Network net = build(CouplingMode::Dense, qifsim::Precision::Float64, Values{});
  RunOptions o = options(CouplingMode::Dense, true);
  o.sweep = three_members();
  const Observer ens = net.run(inputs(), o);
  const std::string dir = ::testing::TempDir() + "/sweep_files";
  ens.save(dir, {"npy", "csv"});
  const qifsim::NpyArray v = qifsim::read_npy(dir + "/qif.v.npy");
  ASSERT_EQ(v.shape, (std::vector<std::int64_t>{ens.samples(), 3, kN}));
  const Matrix m1 = ens.member_matrix("qif.v", 1);
  for (std::int64_t r = 0; r < ens.samples(); r += 17) {
    for (std::int64_t i = 0; i < kN; i += 29) {
      ASSERT_EQ(v.data[static_cast<std::size_t>((r * 3 + 1) * kN + i)], m1(r, i));
    }
  }
  const qifsim::NpyArray s = qifsim::read_npy(dir + "/qif.s.npy");
  EXPECT_EQ(s.shape, (std::vector<std::int64_t>{ens.samples(), 3, 1}));
}

TEST(Sweep, BadSweepsAreRefusedNamingTheProblem) {
  Network net = build(CouplingMode::Dense, qifsim::Precision::Float64, Values{});
  auto refused = [&](Sweep s, const std::string& needle) {
    RunOptions o = options(CouplingMode::Dense, true);
    o.sweep = std::move(s);
    try {
      (void)net.run(inputs(), o);
      ADD_FAILURE() << "accepted; expected an error naming '" << needle << "'";
    } catch (const qifsim::InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  Sweep s;
  s.keys = {SweepKey::numbers("nope.eta", {1, 2})};
  refused(s, "unknown node 'nope'");
  s.keys = {SweepKey::numbers("qif.etta", {1, 2})};
  refused(s, "qif.etta");
  s.keys = {SweepKey::numbers("qif.v", {1, 2})};
  refused(s, "initial value 'v0'");
  s.keys = {SweepKey::numbers("qif.noise_seed", {1.5, 2})};
  refused(s, "whole number");
  s.keys = {SweepKey::numbers("qif.tau", {1.0, -1.0})};
  refused(s, "member 1");
  s.keys = {{"qif.eta", {SweepValue{{1.0, 2.0, 3.0}}}}};
  refused(s, "expected 1 or 203");
  s.keys = {SweepKey::numbers("qif.eta", {1, 2}), SweepKey::numbers("qif.eta", {1, 2})};
  refused(s, "given twice");
  s.keys = {SweepKey::numbers("inp.eta", {1, 2})};
  refused(s, "function node");
  std::vector<double> many(1025, -1.0);
  s.mode = SweepMode::Grid;  // 1025 x 1025 members: over the 2^20 one ensemble takes
  s.keys = {SweepKey::numbers("qif.eta", many), SweepKey::numbers("qif.k", many)};
  refused(s, "at most 1048576");
  s.mode = SweepMode::Zip;
  // Inputs of neither width: one member's or every member's.
  RunOptions o = options(CouplingMode::Dense, true);
  o.sweep.keys = {SweepKey::numbers("qif.eta", {1, 2})};
  EXPECT_THROW((void)net.run(Matrix(10, 3), o), qifsim::InvalidArgument);
}

// A member whose state diverges stops, named with its step; the others run on and equal their
// single runs; its samples up to the stop equal its single run's (which stops with
// DivergenceError there), and hold NaN from then on. When every member diverges, the run ends
// with DivergenceError.
TEST(Sweep, ADivergingMemberStopsAndTheOthersRunOn) {
  Network net = build(CouplingMode::Dense, qifsim::Precision::Float64, Values{});
  for (const std::int64_t check : {std::int64_t{1}, std::int64_t{1000}}) {  // found by the state check, or in a sample
    SCOPED_TRACE("divergence_check_steps " + std::to_string(check));
    RunOptions o = options(CouplingMode::Dense, true);
    o.divergence_check_steps = check;
    o.sampling_steps = 1;
    o.sweep.keys = {SweepKey::numbers("qif.v_reset", {-20.0, 1e300, -20.0}),
                    SweepKey::numbers("qif.v_threshold", {20.0, 1e305, 20.0})};
    const Observer ens = net.run(inputs(), o);
    ASSERT_EQ(ens.samples(), kSteps);
    const auto& stops = ens.member_stops();
    ASSERT_EQ(stops.size(), 3u);
    EXPECT_EQ(stops[0].step, -1);
    EXPECT_EQ(stops[2].step, -1);
    ASSERT_GT(stops[1].step, 0);
    EXPECT_NE(stops[1].reason.find("node 'qif' variable 'v'"), std::string::npos) << stops[1].reason;
    EXPECT_EQ(ens.member_samples(0), kSteps);
    const std::int64_t kept = ens.member_samples(1);
    EXPECT_EQ(kept, stops[1].step);  // one sample per step from step 0
    RunOptions single = o;
    single.sweep = Sweep{};
    for (int b : {0, 2}) {
      Values v;
      Network one = build(CouplingMode::Dense, qifsim::Precision::Float64, v);
      one.set_var("qif", "v_reset", {-20.0});  // below the default threshold, then the threshold
      one.set_var("qif", "v_threshold", {20.0});
      expect_member(ens, b, one.run(inputs(), single), 0.0);
    }
    Network bad = build(CouplingMode::Dense, qifsim::Precision::Float64, Values{});
    bad.set_var("qif", "v_threshold", {1e305});
    bad.set_var("qif", "v_reset", {1e300});
    Observer part(bad.dt(), qifsim::RecordSpec{true, false, single.record_vars});
    EXPECT_THROW(bad.run(inputs(), single, part), qifsim::DivergenceError);
    ASSERT_EQ(part.samples(), kept);
    const Matrix v1 = ens.member_matrix("qif.v", 1);
    const Matrix want = part.to_matrix("qif.v");
    for (std::int64_t r = 0; r < kept; ++r) {
      for (std::int64_t i = 0; i < kN; ++i) ASSERT_EQ(v1(r, i), want(r, i)) << "sample " << r << ", neuron " << i;
    }
    for (std::int64_t r = kept; r < kSteps; ++r) ASSERT_TRUE(std::isnan(v1(r, 0))) << "sample " << r;
  }
  RunOptions all = options(CouplingMode::Dense, true);
  all.sweep.keys = {SweepKey::numbers("qif.v_reset", {1e300, 1e300}), SweepKey::numbers("qif.v_threshold", {1e305, 1e305})};
  EXPECT_THROW((void)net.run(inputs(), all), qifsim::DivergenceError);
}

TEST(Sweep, StoppedAndResumedEqualsOneRun) {
  Network net = build(CouplingMode::Events, qifsim::Precision::Float64, Values{}, 0.5);
  RunOptions o = options(CouplingMode::Events, true);
  o.sweep = three_members();
  o.sweep.keys.push_back(SweepKey::numbers("qif.noise_seed", {1, 2, 3}));
  const Observer whole = net.run(inputs(), o);
  Observer parts(net.dt(), qifsim::RecordSpec{true, false, o.record_vars, {}, 3});
  RunOptions first = o;
  first.stop_at_step = 157;
  net.run(inputs(), first, parts);
  ASSERT_TRUE(net.interrupted());
  EXPECT_EQ(net.resume_step(), 157);
  RunOptions other = o;
  other.resume = true;
  other.sweep.keys[0] = SweepKey::numbers("qif.eta", {-4.0, -2.5, -1.5});
  EXPECT_THROW(net.run(inputs(), other, parts), qifsim::InvalidArgument);  // another sweep
  RunOptions rest = o;
  rest.resume = true;
  net.run(inputs(), rest, parts);
  EXPECT_FALSE(net.interrupted());
  ASSERT_EQ(parts.steps(), whole.steps());
  for (const std::string& key : whole.keys()) {
    for (int b = 0; b < 3; ++b) {
      EXPECT_EQ(parts.member_matrix(key, b).data, whole.member_matrix(key, b).data) << key << ", member " << b;
    }
  }
}

namespace {

// The same values, bit for bit (NaN included: a stopped member's samples).
bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

}  // namespace

// A sweep stopped inside a sampling window, its checkpoint written with the observer and loaded
// into a new network with the same sweep, resumes to the uninterrupted run bit for bit: every
// member's series, spike events and member stops (a member that diverged before the checkpoint
// stays stopped), for events (their J s and last spikes are in the checkpoint) and the sparse
// operator with noise, and for the dense loop with a diverging member.
TEST(Sweep, ACheckpointedSweepResumesInANewNetworkBitForBit) {
  const std::string path = ::testing::TempDir() + "/sweep.ckpt";
  for (const CouplingMode mode : {CouplingMode::Events, CouplingMode::Sparse, CouplingMode::Dense}) {
    SCOPED_TRACE(qifsim::to_string(mode));
    RunOptions o = options(mode, true);
    o.record_spikes = {"qif"};
    o.divergence_check_steps = 1;
    o.sweep = three_members();
    if (mode != CouplingMode::Dense) {
      o.sweep.keys.push_back(SweepKey::numbers("qif.noise_seed", {1, 2, 3}));
    } else {  // member 1 diverges early
      o.sweep.keys.push_back(SweepKey::numbers("qif.v_reset", {-20.0, 1e300, -20.0}));
      o.sweep.keys.push_back(SweepKey::numbers("qif.v_threshold", {20.0, 1e305, 20.0}));
    }
    const double sigma = mode != CouplingMode::Dense ? 0.5 : 0.0;
    Network net = build(mode, qifsim::Precision::Float64, Values{}, sigma);
    const Observer whole = net.run(inputs(), o);
    const std::int64_t stop = 199;  // 199 % 3 = 1: inside a window of the output's mean
    if (mode == CouplingMode::Dense) {
      ASSERT_GE(whole.member_stops()[1].step, 0);
      ASSERT_LT(whole.member_stops()[1].step, stop) << "member 1 should diverge before the checkpoint";
    }
    Network first = build(mode, qifsim::Precision::Float64, Values{}, sigma);
    const qifsim::RecordSpec spec{true, false, o.record_vars, o.record_spikes, 3};
    Observer before(first.dt(), spec);
    RunOptions part = o;
    part.stop_at_step = stop;
    first.run(inputs(), part, before);
    ASSERT_TRUE(first.interrupted());
    first.save_checkpoint(path, &before);

    Network second = build(mode, qifsim::Precision::Float64, Values{}, sigma);
    Observer resumed(second.dt(), spec);
    qifsim::CheckpointLoad how;
    how.observer = &resumed;
    how.sweep = &o.sweep;
    second.load_checkpoint(path, how);
    ASSERT_TRUE(second.interrupted());
    EXPECT_EQ(second.resume_step(), stop);
    EXPECT_EQ(resumed.samples(), before.samples());
    RunOptions rest = o;
    rest.resume = true;
    second.run(inputs(), rest, resumed);
    EXPECT_FALSE(second.interrupted());
    ASSERT_EQ(resumed.steps(), whole.steps());
    for (const std::string& key : whole.keys()) {
      for (int b = 0; b < 3; ++b) {
        EXPECT_TRUE(same_bits(resumed.member_matrix(key, b).data, whole.member_matrix(key, b).data))
            << key << ", member " << b;
      }
    }
    EXPECT_EQ(resumed.spike_steps("qif"), whole.spike_steps("qif"));
    EXPECT_EQ(resumed.spike_neurons("qif"), whole.spike_neurons("qif"));
    EXPECT_EQ(resumed.spike_members("qif"), whole.spike_members("qif"));
    for (int b = 0; b < 3; ++b) {
      EXPECT_EQ(resumed.member_stops()[static_cast<std::size_t>(b)].step, whole.member_stops()[static_cast<std::size_t>(b)].step);
      EXPECT_EQ(resumed.member_samples(b), whole.member_samples(b));
    }
  }
  // The checkpoint holds a sweep: loading it needs that sweep (as many members; the same values
  // unless changes are allowed), and a sweep cannot continue a single run's checkpoint.
  RunOptions o = options(CouplingMode::Dense, true);
  o.sweep = three_members();
  o.sweep.keys.push_back(SweepKey::numbers("qif.v_reset", {-20.0, 1e300, -20.0}));
  o.sweep.keys.push_back(SweepKey::numbers("qif.v_threshold", {20.0, 1e305, 20.0}));
  Network other = build(CouplingMode::Dense, qifsim::Precision::Float64, Values{});
  auto refusal = [&](const Sweep* sweep, bool allow = false) {
    qifsim::CheckpointLoad how;
    how.sweep = sweep;
    how.allow_changes = allow;
    try {
      other.load_checkpoint(path, how);
    } catch (const qifsim::InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string("(loaded)");
  };
  EXPECT_NE(refusal(nullptr).find("holds a sweep of 3 members"), std::string::npos) << refusal(nullptr);
  Sweep two;
  two.keys = {SweepKey::numbers("qif.eta", {-1.0, -2.0})};
  EXPECT_NE(refusal(&two).find("the sweep given has 2"), std::string::npos) << refusal(&two);
  Sweep changed = o.sweep;
  changed.keys[0] = SweepKey::numbers("qif.eta", {-4.0, -2.5, -1.5});
  EXPECT_NE(refusal(&changed).find("holds the sweep"), std::string::npos) << refusal(&changed);
  EXPECT_FALSE(other.interrupted()) << "a refused checkpoint changes nothing";
  EXPECT_EQ(refusal(&changed, true), "(loaded)");
  EXPECT_TRUE(other.interrupted());
  // A single run interrupted after an interrupted sweep replaces it: its checkpoint is a
  // single run's.
  Network single = build(CouplingMode::Dense, qifsim::Precision::Float64, Values{});
  RunOptions swept = o;
  swept.stop_at_step = 30;
  (void)single.run(inputs(), swept);
  RunOptions one = options(CouplingMode::Dense, true);
  one.stop_at_step = 20;
  (void)single.run(inputs(), one);
  single.save_checkpoint(path);
  Network plain = build(CouplingMode::Dense, qifsim::Precision::Float64, Values{});
  plain.load_checkpoint(path);
  EXPECT_EQ(plain.resume_step(), 20);
  other = build(CouplingMode::Dense, qifsim::Precision::Float64, Values{});
  EXPECT_NE(refusal(&o.sweep).find("holds no sweep"), std::string::npos) << refusal(&o.sweep);
}

// Events need one tau_s per population in every member: a member given one tau_s per neuron
// makes auto choose the product for all, and an explicit request for events is refused.
TEST(Sweep, PerNeuronTauSInOneMemberRulesOutEventsForAll) {
  Network net = build(CouplingMode::Events, qifsim::Precision::Float64, Values{});
  std::vector<double> tau_s(kN);
  for (std::int64_t i = 0; i < kN; ++i) tau_s[static_cast<std::size_t>(i)] = 0.5 + 0.001 * static_cast<double>(i);
  Sweep s;
  SweepKey k;
  k.key = "qif.tau_s";
  k.values = {SweepValue{{0.8}}, SweepValue{tau_s}};
  s.keys = {k};
  RunOptions o = options(CouplingMode::Events, true);
  o.sweep = s;
  EXPECT_THROW((void)net.run(inputs(), o), qifsim::InvalidArgument);
  o.coupling = CouplingMode::Auto;
  const Observer ens = net.run(inputs(), o);
  Values v;
  Network one = build(CouplingMode::Events, qifsim::Precision::Float64, v);
  one.set_var("qif", "tau_s", tau_s);
  RunOptions single = options(CouplingMode::Sparse, true);
  expect_member(ens, 1, one.run(inputs(), single), 0.0);
}

// Names follow the model: a sigmoid population's v0 is its centre (a parameter), v_init its
// initial v; a lif population's v0 its initial v.
TEST(Sweep, KeysTakeEachModelsNames) {
  auto sigmoid = [](double centre, double v_init) {
    Network net(1e-2, qifsim::Backend::Cpu);
    qifsim::NeuronPopulation p;
    p.model = "sigmoid";
    p.n = 4;
    p.values["v0"] = centre;
    p.values["v_init"] = v_init;
    net.add_population("sig", p);
    net.compile();
    return net;
  };
  Network net = sigmoid(0.0, 0.0);
  RunOptions o;
  o.progress = qifsim::Progress::Off;
  o.record_vars = {{"sig", "v", false}};
  o.reproducible = true;
  o.sweep.keys = {SweepKey::numbers("sig.v0", {0.5, 2.0}), SweepKey::numbers("sig.v_init", {-1.0, 3.0})};
  const Matrix x(50, 4, 0.3);
  const Observer ens = net.run(x, o);
  RunOptions single = o;
  single.sweep = Sweep{};
  Network a = sigmoid(0.5, -1.0), b = sigmoid(2.0, 3.0);
  expect_member(ens, 0, a.run(x, single), 0.0);
  expect_member(ens, 1, b.run(x, single), 0.0);
  EXPECT_NE(ens.member_matrix("out", 0).data, ens.member_matrix("out", 1).data);
}

// Members keep their own edge state: a delayed, filtered edge into the population and a readout
// function node after it; member b equals the single run with its values bit for bit.
TEST(Sweep, EdgeDelaysFiltersAndReadoutsArePerMember) {
  auto make = [](double eta) {
    Network net(5e-3, qifsim::Backend::Cpu);
    net.add_function("inp", kIn, qifsim::Activation::Identity);
    qifsim::QifPopulation p;
    p.n = kN;
    p.weights = recurrent(CouplingMode::Dense);
    p.eta = eta;
    net.add_population("qif", p);
    Matrix w(kN, kIn, 0.8);
    qifsim::EdgeOptions o;
    o.delays = {3, 0};
    o.filter = Matrix(kIn, kIn, 0.0);
    o.filter(0, 0) = 0.5;
    o.filter(1, 1) = 0.25;
    net.add_edge("inp", "qif", w, o);
    net.add_function("read", 2, qifsim::Activation::Tanh);
    Matrix r(2, kN, 0.0);
    for (std::int64_t i = 0; i < kN; ++i) r(0, i) = 1.0 / kN, r(1, i) = (i % 2 == 0 ? 1.0 : -1.0) / kN;
    net.add_edge("qif", "read", r);
    net.compile();
    return net;
  };
  Network net = make(-3.0);
  RunOptions o;
  o.progress = qifsim::Progress::Off;
  o.reproducible = true;
  o.record_vars = {{"qif", "v", true}, {"read", "out", false}};
  o.sweep.keys = {SweepKey::numbers("qif.eta", {-3.0, 0.5}), SweepKey::numbers("input.scale", {1.0, 2.0})};
  const Observer ens = net.run(inputs(), o);
  RunOptions single = o;
  single.sweep = Sweep{};
  Network a = make(-3.0), b = make(0.5);
  expect_member(ens, 0, a.run(inputs(), single), 0.0);
  expect_member(ens, 1, b.run(inputs(2.0), single), 0.0);
}

// Spike events of a sweep carry the member: member b's events are the single run's events, and
// they come in order of step, then member, then neuron; the files hold rows (step, member, neuron).
TEST(Sweep, SpikeEventsCarryTheMember) {
  Network net = build(CouplingMode::Sparse, qifsim::Precision::Float64, Values{});
  RunOptions o = options(CouplingMode::Sparse, true);
  o.record_spikes = {"qif"};
  o.cutoff = 30;
  o.sweep = three_members();
  const Observer ens = net.run(inputs(), o);
  const auto& steps = ens.spike_steps("qif");
  const auto& members = ens.spike_members("qif");
  const auto& neurons = ens.spike_neurons("qif");
  ASSERT_EQ(members.size(), steps.size());
  ASSERT_GT(steps.size(), 0u);
  for (std::size_t k = 1; k < steps.size(); ++k) {
    const auto a = std::make_tuple(steps[k - 1], members[k - 1], neurons[k - 1]);
    const auto b = std::make_tuple(steps[k], members[k], neurons[k]);
    ASSERT_LT(a, b) << "event " << k;
  }
  for (int b = 0; b < 3; ++b) {
    const Values v = member_values(b);
    Network one = build(CouplingMode::Sparse, qifsim::Precision::Float64, v);
    RunOptions single = options(CouplingMode::Sparse, true);
    single.record_spikes = {"qif"};
    single.cutoff = 30;
    const Observer want = one.run(inputs(v.scale), single);
    std::vector<std::int64_t> got_steps, got_neurons;
    for (std::size_t k = 0; k < steps.size(); ++k) {
      if (members[k] != b) continue;
      got_steps.push_back(steps[k]);
      got_neurons.push_back(neurons[k]);
    }
    EXPECT_EQ(got_steps, want.spike_steps("qif")) << "member " << b;
    EXPECT_EQ(got_neurons, want.spike_neurons("qif")) << "member " << b;
  }
  const std::string dir = ::testing::TempDir() + "/sweep_spikes";
  ens.save(dir, {"npy", "csv"});
  const qifsim::NpyArray rows = qifsim::read_npy(dir + "/qif.spikes.npy");
  ASSERT_EQ(rows.shape, (std::vector<std::int64_t>{static_cast<std::int64_t>(steps.size()), 3}));
  EXPECT_EQ(rows.data[3 * 5 + 1], static_cast<double>(members[5]));
  EXPECT_EQ(rows.data[3 * 5 + 2], static_cast<double>(neurons[5]));
}
