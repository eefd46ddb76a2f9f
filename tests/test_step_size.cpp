// tests/test_step_size.cpp - a dt that does not suit the time constants (most often a unit
// mistake: dt = 1 for a model in seconds, dt = 1e-9) is a warning naming the population,
// given once by compile(); a dt that suits them gives none.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "qifsim/log.hpp"
#include "qifsim/network.hpp"

namespace {

// The warnings compile() gives, captured from the notice handler.
class Warnings : public ::testing::Test {
 protected:
  void SetUp() override {
    qifsim::set_log_handler([this](const std::string& line) {
      if (line.rfind("warning: ", 0) == 0) lines.push_back(line);
    });
  }
  void TearDown() override {
    qifsim::set_log_handler([](const std::string& line) { std::fprintf(stderr, "qifsim: %s\n", line.c_str()); });
  }
  std::vector<std::string> compile_qif(double dt, double eta = -5.0) {
    lines.clear();
    qifsim::Network net(dt, qifsim::Backend::Cpu);
    qifsim::QifPopulation p;
    p.n = 4;
    p.eta = eta;
    net.add_population("qif", p);
    net.compile();
    return lines;
  }
  std::vector<std::string> lines;
};

bool has(const std::vector<std::string>& lines, const std::vector<std::string>& parts) {
  for (const auto& l : lines) {
    bool all = true;
    for (const auto& p : parts) all = all && l.find(p) != std::string::npos;
    if (all) return true;
  }
  return false;
}

TEST_F(Warnings, DtOfOneForAModelInSecondsIsNamed) {
  const auto w = compile_qif(1.0);
  ASSERT_EQ(w.size(), 1u) << "one line for the population: " << ::testing::PrintToString(w);
  EXPECT_TRUE(has(w, {"population 'qif'", "dt = 1 ", "dt / tau = 1 ", "dt / tau_s = 1 ",
                      "4 of 4 neurons spike again on the step after a reset", "time unit"}))
      << ::testing::PrintToString(w);
  EXPECT_TRUE(compile_qif(1e-3).empty()) << ::testing::PrintToString(lines);  // RectiPy's dt: none
}

TEST_F(Warnings, TheStepAfterAResetIsTheClosedForm) {
  // v after one step from v_reset = -100 with no input: -100 + dt (10000 + eta) / tau. At
  // eta = -5 it reaches v_threshold = 100 from dt = 200 / 9995 on.
  const double edge = 200.0 / 9995.0;
  const auto reaches = [](double dt) { return -100.0 + dt * (10000.0 - 5.0) >= 100.0; };
  for (const double dt : {0.99 * edge, 1.01 * edge}) {
    EXPECT_EQ(has(compile_qif(dt), {"spike again on the step after a reset"}), reaches(dt)) << "dt = " << dt;
  }
}

TEST_F(Warnings, DtFarBelowTheTimeConstantsIsNamed) {
  EXPECT_TRUE(has(compile_qif(1e-9), {"population 'qif'", "dt = 1e-09", "dt / tau = 1e-09", "1e+09 steps per time constant"}))
      << ::testing::PrintToString(lines);
}

TEST_F(Warnings, AnotherModelsTimeConstantsAreChecked) {
  // ik in ms: tau_s = 6 ms; dt = 10 ms is 1.7 tau_s.
  qifsim::Network net(10.0, qifsim::Backend::Cpu);
  qifsim::NeuronPopulation p;
  p.model = "ik";
  p.n = 3;
  net.add_population("ik", p);
  lines.clear();
  net.compile();
  EXPECT_TRUE(has(lines, {"population 'ik'", "dt / tau_s = 1.67"})) << ::testing::PrintToString(lines);
  qifsim::Network fine(0.01, qifsim::Backend::Cpu);  // RectiPy's ik examples step 0.01 ms
  fine.add_population("ik", p);
  lines.clear();
  fine.compile();
  EXPECT_TRUE(lines.empty()) << ::testing::PrintToString(lines);
}

}  // namespace
