// kernels/qif_step.hpp - the fused per-step kernel of a QIF population (launcher side).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "model/qif.hpp"
#include "step_control.hpp"

namespace qifsim::kernels {

/// Everything the fused step of one population reads and writes.
template <class T>
struct QifStepArgs {
  std::int64_t n = 0;
  T* v = nullptr;
  T* s = nullptr;
  T* x = nullptr;              ///< adaptation only
  const T* in = nullptr;       ///< this step's input, or the input chunks (in_from_chunk)
  bool in_from_chunk = false;  ///< the population is the input node
  T* in_store = nullptr;       ///< where a chunk input is kept for get_var("I_ext")
  const T* s_in = nullptr;     ///< J s of this step; null when uncoupled
  QifParamRefs<T> p{};
  T dt = 0;
  StepControl ctrl{};
  T* ring = nullptr;           ///< device ring of sample rows
  std::int64_t row_width = 0;
  RecordSlots rec{};           ///< this population's recorded variables
  double* partials = nullptr;  ///< rec.means x ceil(n / 256) chunk sums (the fused kernel: x its grid)
  unsigned int* blocks_done = nullptr;  ///< counter for the last-block reduction (starts 0)
  double* y_sum = nullptr;     ///< window sum of the output (output node only), else null
  bool out_is_v = false;
  std::int64_t out_offset = -1;  ///< output's offset in the ring row; -1: not recorded
};

/// Grid size for n neurons (grid-stride loops make it a tuning choice).
int qif_step_grid(std::int64_t n, int block);
constexpr int kQifStepBlock = 256;

/// One step of one population on `stream`: spike test, recording (values at the step's
/// start, neuron means by block reduction), output window sum, Euler update and reset.
template <class T>
void launch_qif_step(const QifStepArgs<T>& args, bool adaptation, int grid, cudaStream_t stream);

}  // namespace qifsim::kernels
