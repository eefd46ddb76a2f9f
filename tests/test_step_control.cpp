// tests/test_step_control.cpp - the per-step arithmetic the GPU kernels derive from the
// step index (kernels/step_control.hpp, plain C++ on the host), against a direct walk
// over the steps that counts samples and windows one by one.
#include <gtest/gtest.h>

#include <cstdint>

#include "model/sample_schedule.hpp"
#include "step_control.hpp"

namespace {

TEST(StepControl, SamplesRingRowsWindowsAndInputRowsFollowTheSchedule) {
  for (std::int64_t sampling : {1, 2, 3, 7}) {
    for (std::int64_t cutoff : {0, 1, 5, 10, 11}) {
      for (std::int64_t half : {1, 4, 5}) {
        for (std::int64_t chunk : {1, 3, 16}) {
          qifsim::kernels::StepControl c;
          c.cutoff = cutoff;
          c.sampling = sampling;
          c.first_sample = (cutoff + sampling - 1) / sampling;
          c.ring_rows = 2 * half;
          c.chunk_steps = chunk;
          c.record = true;
          std::int64_t samples = 0;
          std::int64_t since = 0;  // steps counted since the last sample
          for (std::int64_t t = 0; t < 200; ++t) {
            const bool counted = t >= cutoff;
            ASSERT_EQ(c.counts(t), counted) << "t " << t;
            if (counted) ++since;
            const bool sample = counted && t % sampling == 0;
            ASSERT_EQ(c.is_sample(t), sample) << "t " << t << " sampling " << sampling << " cutoff " << cutoff;
            if (sample) {
              ASSERT_EQ(c.ring_row(t), samples % (2 * half)) << "t " << t;
              ASSERT_EQ(c.window(t), since) << "t " << t << " sampling " << sampling << " cutoff " << cutoff;
              ++samples;
              since = 0;
            }
            // Chunk k of the inputs sits in slot k % 2; its row t - k * chunk.
            const std::int64_t k = t / chunk;
            ASSERT_EQ(c.input_row(t), (k % 2) * chunk + (t - k * chunk)) << "t " << t;
          }
        }
      }
    }
  }
}

TEST(StepControl, ForwardModeNeverSamples) {
  qifsim::kernels::StepControl c;  // record = false
  for (std::int64_t t = 0; t < 10; ++t) {
    EXPECT_FALSE(c.counts(t));
    EXPECT_FALSE(c.is_sample(t));
  }
}

// The host's sample clock (host/model/sample_schedule.hpp): sample count, first sample index
// and the window at every position, against the same walk over the steps.
TEST(SampleSchedule, CountsFirstIndexAndWindowsFollowTheSteps) {
  for (std::int64_t sampling : {1, 2, 3, 7}) {
    for (std::int64_t cutoff : {0, 1, 5, 10, 11}) {
      const qifsim::detail::SampleSchedule sched{sampling, cutoff};
      std::int64_t samples = 0, since = 0, first_sample_step = -1;
      for (std::int64_t next = 0; next <= 120; ++next) {
        ASSERT_EQ(sched.count(next), samples) << "next " << next << " sampling " << sampling << " cutoff " << cutoff;
        ASSERT_EQ(sched.window_at(next), since) << "next " << next << " sampling " << sampling << " cutoff " << cutoff;
        const std::int64_t t = next;  // take step t
        if (t >= cutoff) ++since;
        if (t >= cutoff && t % sampling == 0) {
          if (first_sample_step < 0) first_sample_step = t;
          ++samples;
          since = 0;
        }
      }
      ASSERT_EQ(sched.first_index() * sampling, first_sample_step) << "sampling " << sampling << " cutoff " << cutoff;
    }
  }
}

}  // namespace
