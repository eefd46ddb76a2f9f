// tests/test_edges.cpp - RectiPy's other edge kinds in the C++ API and configs (EdgeOptions):
// delays per source unit, a filter y <- F y + x, both (F times the whole rolled buffer) and a
// mask taken as written, against references written here step by step.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
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
  EXPECT_THROW(net->save_checkpoint(iotest::ScratchDir() / "x.ckpt"), qifsim::InvalidArgument);

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
  const auto gpu = make_net(c, o, qifsim::Backend::Cuda, /*compile=*/false);
  EXPECT_THROW(gpu->compile(), qifsim::BackendError);  // named: the edge runs on the CPU backend
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
