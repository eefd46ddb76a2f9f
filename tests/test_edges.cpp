// tests/test_edges.cpp - RectiPy's other edge kinds in the C++ API and configs (EdgeOptions):
// delays per source unit, a filter y <- F y + x, both (F times the whole rolled buffer) and a
// mask taken as written, against references written here step by step.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "io_test_util.hpp"
#include "qifsim/config.hpp"
#include "qifsim/qifsim.hpp"

namespace {

using Vec = std::vector<double>;
constexpr std::int64_t kIn = 3, kOut = 2, kSteps = 30;

struct Case {
  qifsim::Matrix x{kSteps, kIn}, w{kOut, kIn}, filter{kIn, kIn}, mask{kOut, kIn};
  std::vector<std::int64_t> delays{2, 0, 3};
};

Case make_case() {
  std::mt19937_64 rng(282);
  std::normal_distribution<double> g(0.0, 1.0);
  Case c;
  for (double& v : c.x.data) v = g(rng);
  for (double& v : c.w.data) v = g(rng);
  for (double& v : c.filter.data) v = 0.4 * g(rng);
  for (std::size_t i = 0; i < c.mask.data.size(); ++i) c.mask.data[i] = (i % 3 == 1) ? 0.0 : 1.0;
  return c;
}

// inp (kIn, identity) -> out (kOut, identity) through one edge, compiled.
std::unique_ptr<qifsim::Network> make_net(const Case& c, const qifsim::EdgeOptions& options,
                                          qifsim::Backend backend = qifsim::Backend::Cpu, bool compile = true) {
  auto net = std::make_unique<qifsim::Network>(1e-3, backend);
  net->add_function("inp", kIn, qifsim::Activation::Identity);
  net->add_function("out", kOut, qifsim::Activation::Identity);
  net->add_edge("inp", "out", c.w, options);
  if (compile) net->compile();
  return net;
}

qifsim::RunOptions quiet() {
  qifsim::RunOptions opt;
  opt.progress = qifsim::Progress::Off;
  return opt;
}

// The recorded output of make_net's network.
qifsim::Matrix run(const Case& c, const qifsim::EdgeOptions& options) {
  return make_net(c, options)->run(c.x, quiet()).to_matrix("out");
}

Vec times(const qifsim::Matrix& w, const Vec& z) {
  Vec y(static_cast<std::size_t>(w.rows), 0.0);
  for (std::int64_t r = 0; r < w.rows; ++r)
    for (std::int64_t k = 0; k < w.cols; ++k) y[static_cast<std::size_t>(r)] += w(r, k) * z[static_cast<std::size_t>(k)];
  return y;
}

Vec row(const qifsim::Matrix& m, std::int64_t t) { return Vec(m.row(t), m.row(t) + m.cols); }

void expect_rows(const qifsim::Matrix& got, const std::vector<Vec>& want, const char* what) {
  ASSERT_EQ(got.rows, static_cast<std::int64_t>(want.size())) << what;
  for (std::int64_t t = 0; t < got.rows; ++t)
    for (std::int64_t j = 0; j < got.cols; ++j)
      EXPECT_NEAR(got(t, j), want[static_cast<std::size_t>(t)][static_cast<std::size_t>(j)], 1e-12) << what << " step " << t;
}

TEST(Edges, DelaysShiftEachSourceUnitByItsSteps) {
  const Case c = make_case();
  qifsim::EdgeOptions o;
  o.delays = c.delays;
  std::vector<Vec> want;
  for (std::int64_t t = 0; t < kSteps; ++t) {
    Vec z(kIn, 0.0);  // unit i as it was delays[i] steps ago (0 before the run)
    for (std::int64_t i = 0; i < kIn; ++i) {
      const std::int64_t from = t - c.delays[static_cast<std::size_t>(i)];
      z[static_cast<std::size_t>(i)] = from >= 0 ? c.x(from, i) : 0.0;
    }
    want.push_back(times(c.w, z));
  }
  expect_rows(run(c, o), want, "delays");
}

TEST(Edges, AFilterIsARecurrenceOnTheEdge) {
  const Case c = make_case();
  qifsim::EdgeOptions o;
  o.filter = c.filter;
  Vec y(kIn, 0.0);
  std::vector<Vec> want;
  for (std::int64_t t = 0; t < kSteps; ++t) {
    const Vec fy = times(c.filter, y);
    for (std::int64_t i = 0; i < kIn; ++i) y[static_cast<std::size_t>(i)] = fy[static_cast<std::size_t>(i)] + c.x(t, i);
    want.push_back(times(c.w, y));
  }
  expect_rows(run(c, o), want, "filter");
}

TEST(Edges, DelaysWithAFilterMultiplyTheWholeRolledBuffer) {
  const Case c = make_case();
  qifsim::EdgeOptions o;
  o.delays = c.delays;
  o.filter = c.filter;
  const std::int64_t cols = 4;  // max delay + 1
  std::vector<Vec> buf(kIn, Vec(cols, 0.0));  // buf[i][c]
  std::vector<Vec> want;
  for (std::int64_t t = 0; t < kSteps; ++t) {
    for (auto& r : buf) std::rotate(r.begin(), r.begin() + 1, r.end());  // roll by -1, circular
    std::vector<Vec> next(kIn, Vec(cols, 0.0));
    for (std::int64_t i = 0; i < kIn; ++i)
      for (std::int64_t k = 0; k < kIn; ++k)
        for (std::int64_t col = 0; col < cols; ++col) next[i][col] += c.filter(i, k) * buf[k][col];
    buf = next;
    for (std::int64_t i = 0; i < kIn; ++i) buf[i][c.delays[static_cast<std::size_t>(i)]] = c.x(t, i);  // row i only
    Vec z(kIn);
    for (std::int64_t i = 0; i < kIn; ++i) z[static_cast<std::size_t>(i)] = buf[i][0];
    want.push_back(times(c.w, z));
  }
  expect_rows(run(c, o), want, "delays and filter");
}

TEST(Edges, AMaskMultipliesTheWeightsAsWritten) {
  const Case c = make_case();
  qifsim::EdgeOptions o;
  o.mask = c.mask;
  qifsim::Matrix wm = c.w;
  for (std::size_t i = 0; i < wm.data.size(); ++i) wm.data[i] *= c.mask.data[i];
  std::vector<Vec> want;
  for (std::int64_t t = 0; t < kSteps; ++t) want.push_back(times(wm, row(c.x, t)));
  expect_rows(run(c, o), want, "mask");
}

TEST(Edges, ResetZeroesTheEdgesStateAndBadOptionsAreNamed) {
  const Case c = make_case();
  qifsim::EdgeOptions o;
  o.delays = c.delays;
  const auto net = make_net(c, o);
  const qifsim::Matrix first = net->run(c.x, quiet()).to_matrix("out");
  net->reset();
  EXPECT_EQ(net->run(c.x, quiet()).to_matrix("out").data, first.data) << "after reset() the buffer starts empty";

  qifsim::Network bad(1e-3, qifsim::Backend::Cpu);
  bad.add_function("inp", kIn, qifsim::Activation::Identity);
  bad.add_function("out", kOut, qifsim::Activation::Identity);
  qifsim::EdgeOptions wrong;
  wrong.delays = {1, 2};
  EXPECT_TRUE(iotest::contains_all([&] {
    try {
      bad.add_edge("inp", "out", c.w, wrong);
    } catch (const qifsim::InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string();
  }(), {"edge 'inp' -> 'out'", "2 delays", "one per source unit (3)"}));
  wrong.delays = {1, -2, 0};
  EXPECT_THROW(bad.add_edge("inp", "out", c.w, wrong), qifsim::InvalidArgument);
  qifsim::EdgeOptions f;
  f.filter = qifsim::Matrix(2, 2);
  EXPECT_THROW(bad.add_edge("inp", "out", c.w, f), qifsim::InvalidArgument);
}

// Rows [from, to) of m.
qifsim::Matrix rows_of(const qifsim::Matrix& m, std::int64_t from, std::int64_t to) {
  qifsim::Matrix out(to - from, m.cols);
  std::copy(m.row(from), m.row(to), out.data.begin());
  return out;
}

// Every stateful kind: delays (row write and RectiPy's), a filter alone, delays with a filter.
std::vector<std::pair<std::string, qifsim::EdgeOptions>> stateful_kinds(const Case& c) {
  std::vector<std::pair<std::string, qifsim::EdgeOptions>> kinds(5);
  kinds[0].first = "delays";
  kinds[0].second.delays = c.delays;
  kinds[1].first = "delays, RectiPy's write";
  kinds[1].second.delays = c.delays;
  kinds[1].second.rectipy_buffer_write = true;
  kinds[2].first = "filter";
  kinds[2].second.filter = c.filter;
  kinds[3].first = "delays and filter";
  kinds[3].second.delays = c.delays;
  kinds[3].second.filter = c.filter;
  kinds[4].first = "delays and filter, RectiPy's write";
  kinds[4].second = kinds[3].second;
  kinds[4].second.rectipy_buffer_write = true;
  return kinds;
}

TEST(Edges, CheckpointsHoldTheEdgesStateAndTheRunGoesOnBitForBit) {
  const Case c = make_case();
  const iotest::ScratchDir dir;
  const std::int64_t half = 13;  // not a multiple of any buffer's columns
  for (const auto& [what, o] : stateful_kinds(c)) {
    const qifsim::Matrix whole = run(c, o);
    const auto first = make_net(c, o);
    (void)first->run(rows_of(c.x, 0, half), quiet());
    const std::string path = dir / "edge.ckpt";
    first->save_checkpoint(path);
    const auto second = make_net(c, o);
    second->load_checkpoint(path);
    const qifsim::Matrix rest = second->run(rows_of(c.x, half, kSteps), quiet()).to_matrix("out");
    EXPECT_EQ(rest.data, rows_of(whole, half, kSteps).data) << what;

    // A network whose edge has other delays (or none) does not take this state.
    qifsim::EdgeOptions other = o;
    if (other.delays.empty()) {
      other.delays = {1, 1, 1};
    } else {
      other.delays[0] += 1;
    }
    const auto changed = make_net(c, other);
    EXPECT_THROW(changed->load_checkpoint(path), qifsim::Error) << what;
    const auto plain = make_net(c, qifsim::EdgeOptions{});
    EXPECT_THROW(plain->load_checkpoint(path), qifsim::Error) << what;
  }
  // A checkpoint of the edge without state does not restore one with state.
  const auto plain = make_net(c, qifsim::EdgeOptions{});
  const std::string path = dir / "plain.ckpt";
  plain->save_checkpoint(path);
  qifsim::EdgeOptions d;
  d.delays = c.delays;
  const auto delayed = make_net(c, d);
  EXPECT_TRUE(iotest::contains_all(
      [&] {
        try {
          delayed->load_checkpoint(path);
        } catch (const qifsim::Error& e) {
          return std::string(e.what());
        }
        return std::string();
      }(),
      {"no state of the edges"}));
}

TEST(Edges, TheCudaBackendRunsEveryKindAsTheCpuDoes) {
  const qifsim::DeviceStatus status = qifsim::cuda_device_status();
  if (!status.usable) GTEST_SKIP() << "no usable GPU: " << status.description;
  const Case c = make_case();
  for (const auto& [what, o] : stateful_kinds(c)) {
    const qifsim::Matrix cpu = run(c, o);
    const auto gpu = make_net(c, o, qifsim::Backend::Cuda);
    ASSERT_EQ(gpu->backend(), qifsim::Backend::Cuda);
    const qifsim::Matrix got = gpu->run(c.x, quiet()).to_matrix("out");
    ASSERT_EQ(got.data.size(), cpu.data.size()) << what;
    for (std::size_t i = 0; i < got.data.size(); ++i) EXPECT_NEAR(got.data[i], cpu.data[i], 1e-12) << what << " " << i;
    // The state as checkpoints hold it, mid-run, continues on the other backend.
    gpu->reset();
    (void)gpu->run(rows_of(c.x, 0, 7), quiet());
    const iotest::ScratchDir dir;
    const std::string path = dir / "gpu.ckpt";
    gpu->save_checkpoint(path);
    const auto on_cpu = make_net(c, o);
    on_cpu->load_checkpoint(path);
    const qifsim::Matrix rest = on_cpu->run(rows_of(c.x, 7, kSteps), quiet()).to_matrix("out");
    for (std::int64_t t = 0; t < rest.rows; ++t)
      for (std::int64_t j = 0; j < rest.cols; ++j) EXPECT_NEAR(rest(t, j), cpu(t + 7, j), 1e-12) << what << " step " << t + 7;
  }
}

TEST(Edges, ConfigEdgesTakeDelaysFilterAndMask) {
  const std::string text = R"(dt = 1e-3
steps = 30
[[function]]
name = "inp"
size = 3
[[population]]
name = "p"
n = 2
[[edge]]
source = "inp"
target = "p"
weights = [[1.0, 2.0, 3.0], [0.5, -1.0, 0.25]]
delays = [2, 0, 1]
mask = [[1.0, 0.0, 1.0], [1.0, 1.0, 0.0]]
[input]
value = 1.0
[[input.step]]
start = 0.005
stop = 0.006
value = 2.0
[record]
output = false
vars = [["p", "I_ext"]]
formats = []
)";
  qifsim::RunConfig cfg = qifsim::parse_config(text, ".", "edges.toml");
  cfg.options.progress = qifsim::Progress::Off;
  const qifsim::ConfigRun r = qifsim::run_config(cfg, true);
  const qifsim::Matrix out = r.observer.to_matrix("p", "I_ext");  // what the edge delivers each step
  // Input u(t) = 1, 3 at step 5; w masked: [[1, 0, 3], [0.5, -1, 0]]; unit i delayed by [2, 0, 1].
  const auto u = [](std::int64_t t) { return t < 0 ? 0.0 : (t == 5 ? 3.0 : 1.0); };
  for (std::int64_t t = 0; t < 30; ++t) {
    EXPECT_NEAR(out(t, 0), 1.0 * u(t - 2) + 3.0 * u(t - 1), 1e-12) << t;
    EXPECT_NEAR(out(t, 1), 0.5 * u(t - 2) - 1.0 * u(t), 1e-12) << t;
  }
  const std::string bad = text;
  EXPECT_THROW(qifsim::parse_config(std::string(bad).replace(bad.find("[2, 0, 1]"), 9, "[2, 0.5, 1]"), ".", "e.toml"),
               qifsim::ConfigError);
}

}  // namespace
