// kernels/node_kernels.hpp - the small per-step kernels besides the population update:
// function-node activations, function-node recording, the loss, and the step counter.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "step_control.hpp"

namespace qifsim::kernels {

/// Activations, numbered as qifsim::Activation.
enum class ActivationKind : int { Identity, Tanh, Sigmoid, Softmax, Softmin, LogSoftmax };

/// out = activation(in) for a function node of n units. With in_from_chunk, `in` is the
/// input chunks and the step's row is copied to in_store.
template <class T>
void launch_activation(ActivationKind act, const T* in, bool in_from_chunk, T* in_store,
                       const StepControl& ctrl, std::int64_t n, T* out, cudaStream_t stream);

/// On sample steps, write a function node's recorded values ("in"/"out", or their means)
/// into the ring; when y_sum is set (the node is the output node) add its output to the
/// window sum every counted step and write the window mean at samples (out_offset >= 0).
template <class T>
void launch_function_observe(const StepControl& ctrl, const T* in, const T* out, std::int64_t n,
                             const RecordSlots& rec, T* ring, std::int64_t row_width,
                             double* y_sum, std::int64_t out_offset, cudaStream_t stream);

/// Loss of this step's output y (k values) against the targets row: mean squared (l1 =
/// false) or mean absolute error. sums[0] is the window sum, sums[1] the total, sums[2]
/// the number of counted steps; at samples the window mean goes to the ring (offset >= 0).
template <class T>
void launch_loss(const StepControl& ctrl, const T* y, std::int64_t k, const double* targets,
                 bool l1, double* sums, T* ring, std::int64_t row_width, std::int64_t loss_offset,
                 cudaStream_t stream);

/// ++*step.
void launch_advance_step(std::int64_t* step, cudaStream_t stream);

/// Divergence check of n values: the smallest index of a NaN/Inf goes to *first_index
/// (atomicMin; start it at ~0ull) and the step of the first check that saw one to
/// *found_step (start it at -1).
template <class T>
void launch_find_nonfinite(const T* values, std::int64_t n, const std::int64_t* step,
                           unsigned long long* first_index, long long* found_step, cudaStream_t stream);

}  // namespace qifsim::kernels
