// kernels/node_kernels.cu - function-node, loss and step-counter kernels with launchers.
#include <algorithm>
#include <cmath>

#include "block_reduce.cuh"
#include "nvtx_range.hpp"
#include "cuda_error.hpp"
#include "node_kernels.hpp"

namespace qifsim::kernels {
namespace {

constexpr int kBlock = 256;  // one block per node: function nodes are small

template <class T>
__global__ void __launch_bounds__(kBlock) activation_kernel(ActivationKind act, const T* in_base,
    bool in_from_chunk, T* in_store, StepControl ctrl, std::int64_t n, T* out) {
  __shared__ double scratch[kBlock];
  __shared__ T top_scratch[kBlock];
  const std::int64_t t = *ctrl.step;
  const T* in = in_from_chunk ? in_base + ctrl.input_row(t) * n : in_base;
  if (in_from_chunk) {
    for (std::int64_t i = threadIdx.x; i < n; i += blockDim.x) in_store[i] = in[i];
  }
  switch (act) {
    case ActivationKind::Identity:
      for (std::int64_t i = threadIdx.x; i < n; i += blockDim.x) out[i] = in[i];
      return;
    case ActivationKind::Tanh:
      for (std::int64_t i = threadIdx.x; i < n; i += blockDim.x) out[i] = tanh(in[i]);
      return;
    case ActivationKind::Sigmoid:
      for (std::int64_t i = threadIdx.x; i < n; i += blockDim.x) out[i] = T(1) / (T(1) + exp(-in[i]));
      return;
    default:
      break;
  }
  // softmax / softmin / log_softmax: a max and a sum over the vector.
  const T sign = act == ActivationKind::Softmin ? T(-1) : T(1);
  T top = sign * in[0];
  for (std::int64_t i = threadIdx.x; i < n; i += blockDim.x) top = max(top, sign * in[i]);
  top = block_max(top, top_scratch);
  const double sum = ordered_sum_by_block(n, [&](std::int64_t i) { return exp(sign * in[i] - top); }, scratch);
  if (act == ActivationKind::LogSoftmax) {
    const T log_sum = top + static_cast<T>(log(sum));
    for (std::int64_t i = threadIdx.x; i < n; i += blockDim.x) out[i] = in[i] - log_sum;
  } else {
    for (std::int64_t i = threadIdx.x; i < n; i += blockDim.x) {
      out[i] = static_cast<T>(static_cast<double>(exp(sign * in[i] - top)) / sum);
    }
  }
}

template <class T>
__global__ void __launch_bounds__(kBlock) function_observe_kernel(StepControl ctrl, const T* in,
    const T* out, std::int64_t n, RecordSlots rec, T* ring, std::int64_t row_width, double* y_sum,
    std::int64_t out_offset) {
  __shared__ double scratch[kBlock];
  const std::int64_t t = *ctrl.step;
  const bool counts = ctrl.counts(t);
  const bool sample = ctrl.is_sample(t);
  T* row = sample ? ring + ctrl.ring_row(t) * row_width : nullptr;
  if (y_sum && counts) {
    const double inv_window = sample ? 1.0 / static_cast<double>(ctrl.window(t)) : 0.0;
    for (std::int64_t i = threadIdx.x; i < n; i += blockDim.x) {
      double acc = y_sum[i] + static_cast<double>(out[i]);
      if (sample) {
        if (out_offset >= 0) row[out_offset + i] = static_cast<T>(acc * inv_window);
        acc = 0.0;
      }
      y_sum[i] = acc;
    }
  }
  if (!sample) return;
  for (int k = 0; k < rec.count; ++k) {
    const RecordSlot slot = rec.slot[k];
    const T* src = slot.value == RecordValue::In ? in : out;
    if (slot.mean) {
      const double total = ordered_sum_by_block(n, [src](std::int64_t i) { return src[i]; }, scratch);
      if (threadIdx.x == 0) row[slot.offset] = static_cast<T>(total / static_cast<double>(n));
    } else {
      for (std::int64_t i = threadIdx.x; i < n; i += blockDim.x) row[slot.offset + i] = src[i];
    }
  }
}

template <class T>
__global__ void __launch_bounds__(kBlock) loss_kernel(StepControl ctrl, const T* y, std::int64_t k,
    const double* targets, bool l1, double* sums, T* ring, std::int64_t row_width,
    std::int64_t loss_offset) {
  __shared__ double scratch[kBlock];
  const std::int64_t t = *ctrl.step;
  if (!ctrl.counts(t)) return;
  const double* target = targets + ctrl.input_row(t) * k;
  const double total = ordered_sum_by_block(k, [&](std::int64_t j) {
    const double d = static_cast<double>(y[j]) - target[j];
    return l1 ? fabs(d) : d * d;
  }, scratch);
  if (threadIdx.x != 0) return;
  const double loss = total / static_cast<double>(k);
  sums[0] += loss;
  sums[1] += loss;
  sums[2] += 1.0;
  if (ctrl.is_sample(t)) {
    if (loss_offset >= 0) {
      ring[ctrl.ring_row(t) * row_width + loss_offset] =
          static_cast<T>(sums[0] / static_cast<double>(ctrl.window(t)));
    }
    sums[0] = 0.0;
  }
}

__global__ void advance_step_kernel(std::int64_t* step) { ++*step; }

template <class T>
__global__ void find_nonfinite_kernel(const T* values, std::int64_t n, const std::int64_t* step,
                                      unsigned long long* first_index, long long* found_step) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    if (!isfinite(values[i])) {
      atomicMin(first_index, static_cast<unsigned long long>(i));
      atomicCAS(reinterpret_cast<unsigned long long*>(found_step), static_cast<unsigned long long>(-1LL),
                static_cast<unsigned long long>(*step));
    }
  }
}

}  // namespace

template <class T>
void launch_activation(ActivationKind act, const T* in, bool in_from_chunk, T* in_store,
                       const StepControl& ctrl, std::int64_t n, T* out, cudaStream_t stream) {
  const cuda::NvtxRange range("activation");
  activation_kernel<T><<<1, kBlock, 0, stream>>>(act, in, in_from_chunk, in_store, ctrl, n, out);
  QIFSIM_CUDA_CHECK_LAUNCH(activation_kernel);
}

template <class T>
void launch_function_observe(const StepControl& ctrl, const T* in, const T* out, std::int64_t n,
                             const RecordSlots& rec, T* ring, std::int64_t row_width,
                             double* y_sum, std::int64_t out_offset, cudaStream_t stream) {
  const cuda::NvtxRange range("function_observe");
  function_observe_kernel<T><<<1, kBlock, 0, stream>>>(ctrl, in, out, n, rec, ring, row_width,
                                                       y_sum, out_offset);
  QIFSIM_CUDA_CHECK_LAUNCH(function_observe_kernel);
}

template <class T>
void launch_loss(const StepControl& ctrl, const T* y, std::int64_t k, const double* targets,
                 bool l1, double* sums, T* ring, std::int64_t row_width, std::int64_t loss_offset,
                 cudaStream_t stream) {
  const cuda::NvtxRange range("loss");
  loss_kernel<T><<<1, kBlock, 0, stream>>>(ctrl, y, k, targets, l1, sums, ring, row_width,
                                           loss_offset);
  QIFSIM_CUDA_CHECK_LAUNCH(loss_kernel);
}

void launch_advance_step(std::int64_t* step, cudaStream_t stream) {
  const cuda::NvtxRange range("advance_step");
  advance_step_kernel<<<1, 1, 0, stream>>>(step);
  QIFSIM_CUDA_CHECK_LAUNCH(advance_step_kernel);
}

template <class T>
void launch_find_nonfinite(const T* values, std::int64_t n, const std::int64_t* step,
                           unsigned long long* first_index, long long* found_step, cudaStream_t stream) {
  const cuda::NvtxRange range("find_nonfinite");
  const int grid = static_cast<int>(std::min<std::int64_t>((n + kBlock - 1) / kBlock, 1024));
  find_nonfinite_kernel<T><<<grid, kBlock, 0, stream>>>(values, n, step, first_index, found_step);
  QIFSIM_CUDA_CHECK_LAUNCH(find_nonfinite_kernel);
}

#define QIFSIM_INSTANTIATE(T)                                                                   \
  template void launch_activation<T>(ActivationKind, const T*, bool, T*, const StepControl&,  \
                                     std::int64_t, T*, cudaStream_t);                         \
  template void launch_function_observe<T>(const StepControl&, const T*, const T*,             \
                                           std::int64_t, const RecordSlots&, T*, std::int64_t, \
                                           double*, std::int64_t, cudaStream_t);               \
  template void launch_loss<T>(const StepControl&, const T*, std::int64_t, const double*, bool, \
                               double*, T*, std::int64_t, std::int64_t, cudaStream_t);  \
  template void launch_find_nonfinite<T>(const T*, std::int64_t, const std::int64_t*,          \
                                         unsigned long long*, long long*, cudaStream_t);
QIFSIM_INSTANTIATE(float)
QIFSIM_INSTANTIATE(double)
#undef QIFSIM_INSTANTIATE

}  // namespace qifsim::kernels
