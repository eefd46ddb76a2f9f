// kernels/fused_step.hpp - one kernel launch per step for a network of one coupled QIF
// population: each block computes its neurons' rows of J s and updates them (launcher side).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "qif_step.hpp"

namespace qifsim::kernels {

constexpr int kFusedStepBlock = 128;

/// The population's step arguments plus what the fused step needs on top. s lives in two
/// buffers: the step taken at t reads s from `step.s` when t - run_start is even (else from
/// `s_alt`) and writes the new s to the other one, so no block overwrites a value another
/// block still reads. The caller copies `s_alt` into `step.s` after an odd number of steps.
template <class T>
struct FusedStepArgs {
  QifStepArgs<T> step{};      ///< step.s_in is unused; step.partials holds kMaxRecordSlots x
                              ///< grid values
  T* s_in_out = nullptr;      ///< receives J s of each step (what get_var("s_in") reads)
  const T* J = nullptr;       ///< n x n, row-major (row i = weights onto neuron i)
  T* s_alt = nullptr;         ///< the second s buffer (n values)
  std::int64_t run_start = 0; ///< the step at which the run began (buffer parity)
};

/// Blocks of the fused step for n neurons (one block per neuron, up to a limit).
int fused_step_grid(std::int64_t n);

/// One whole step on `stream`: J s, spike test, recording, update, and t + 1 (the last block
/// advances the device counter step.ctrl.step, so no separate kernel is needed).
template <class T>
void launch_fused_step(const FusedStepArgs<T>& args, bool adaptation, int grid, cudaStream_t stream);

}  // namespace qifsim::kernels
