// tests/test_progress.cpp - the progress display's rate and ETA come from the steps taken
// since stepping began: a slow set-up before the first step does not inflate the first ETA.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "core/progress.hpp"

namespace {

// Everything the reporter wrote to a temporary file (not a terminal: one line per 10%).
std::string written(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string text;
  char buf[256];
  while (std::fgets(buf, sizeof buf, f)) text += buf;
  return text;
}

TEST(Progress, TheFirstEtaCountsOnlyTheStepsAfterSetUp) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  double now = 100.0;  // the test's clock, in seconds
  qifsim::detail::ProgressReporter p(qifsim::Progress::On, 10000, 0, f, [&now] { return now; });
  now += 10.0;  // set-up: 10 s before the first step
  p.tick(1);
  now += 1.0;  // then 1000 steps per second
  p.tick(1001);
  // 8999 steps left at (1001 - 1) / 1 s = 1000 steps/s: 9 s; counting the set-up (old), 1001
  // steps in 11 s gave about 99 s.
  const std::string text = written(f);
  EXPECT_NE(text.find("1/10000 steps (0%), 0 steps/s, ETA --"), std::string::npos) << "no estimate yet: " << text;
  EXPECT_NE(text.find("1001/10000 steps (10%), 1e+03 steps/s, ETA 9s"), std::string::npos) << text;
  std::fclose(f);
}

TEST(Progress, AContinuedRunCountsFromItsFirstStep) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  double now = 0.0;
  qifsim::detail::ProgressReporter p(qifsim::Progress::On, 10000, 5000, f, [&now] { return now; });
  now += 3.0;
  p.tick(5001);
  now += 2.0;  // 1000 steps in 2 s: 500 steps/s, 3999 steps left: 8 s
  p.tick(6001);
  const std::string text = written(f);
  EXPECT_NE(text.find("6001/10000 steps (60%), 500 steps/s, ETA 8s"), std::string::npos) << text;
  std::fclose(f);
}

}  // namespace
