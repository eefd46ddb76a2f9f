// kernels/model_step.cu - the step kernel of RectiPy's other neuron models and its launchers
// (model_step.hpp).
#include "cuda_error.hpp"
#include "model_step.hpp"
#include "nvtx_range.hpp"
#include "population_step.cuh"

namespace qifsim::kernels {
namespace {

constexpr int kMeansBlock = 256;  // model::kReductionBlock: one block per reduction block

template <class T>
__device__ inline T model_record_value(RecordValue which, T v, T s, T x, T w, T s_in, T in, bool spike, T dt) {
  switch (which) {
    case RecordValue::V: return v;
    case RecordValue::S: return s;
    case RecordValue::X: return x;
    case RecordValue::W: return w;
    case RecordValue::Spike: return spike_record(spike, dt);
    case RecordValue::SIn: return s_in;
    case RecordValue::IExt: return in;
    default: return T(0);
  }
}

template <class T, model::ModelId M>
__global__ void __launch_bounds__(kQifStepBlock) model_step_kernel(ModelStepArgs<T> a) {
  __shared__ double scratch[kQifStepBlock];
  const QifStepArgs<T>& b = a.base;
  const std::int64_t t = *b.ctrl.step;
  const StepView<T> view = step_view(b, t);
  PopulationMeans<T> means;
  if constexpr (M == model::ModelId::Iku || M == model::ModelId::IkBiexp) {
    means.v = static_cast<T>(a.means[0]);
    means.spike = static_cast<T>(a.means[1]);
  }
  step_by_chunks(b, view, scratch, [&](std::int64_t i, double* local) {
    const long j = static_cast<long>(i);
    T v = b.v[i];
    T s = b.s[i];
    T x = b.x ? b.x[i] : T(0);
    T w = a.w ? a.w[i] : T(0);
    const T input = view.in[i];
    const T s_in = b.s_in ? b.s_in[i] : T(0);
    if (b.in_from_chunk) b.in_store[i] = input;
    accumulate_output(b, view, i, b.out_is_v ? v : s);
    // A rate model's state is recorded after its step (RectiPy's RateNet records y after the
    // update, as get_var shows it after forward); a spiking model's at the step's start.
    constexpr bool kRate = M == model::ModelId::LeakyTanh || M == model::ModelId::LeakySigmoid;
    if (view.sample && !kRate) {
      const bool spike = a.threshold >= 0 && v >= a.p(a.threshold, j);
      record_neuron(b, view, i,
                    [&](RecordValue which) { return model_record_value(which, v, s, x, w, s_in, input, spike, b.dt); },
                    local);
    }
    if constexpr (M == model::ModelId::Lif) {
      lif_step(v, s, input, s_in, a.p, j, b.dt);
    } else if constexpr (M == model::ModelId::Ik) {
      ik_step<model::IkVariant::Ik>(v, x, s, w, input, s_in, a.p, j, b.dt, means);
    } else if constexpr (M == model::ModelId::Iku) {
      ik_step<model::IkVariant::Iku>(v, x, s, w, input, s_in, a.p, j, b.dt, means);
    } else if constexpr (M == model::ModelId::IkBiexp) {
      ik_step<model::IkVariant::Biexp>(v, x, s, w, input, s_in, a.p, j, b.dt, means);
    } else {
      leaky_step(v, input, s_in, a.p, j, b.dt);
      s = leaky_rate<M == model::ModelId::LeakySigmoid>(v, a.p, j);
    }
    if (view.sample && kRate) {
      record_neuron(b, view, i,
                    [&](RecordValue which) { return model_record_value(which, v, s, x, w, s_in, input, false, b.dt); },
                    local);
    }
    b.v[i] = v;
    b.s[i] = s;
    if (b.x) b.x[i] = x;
    if (a.w) a.w[i] = w;
  });
}

// Block b sums v and the spike flags of neurons b*256 .. b*256+255 (the halving tree of
// model/reduction.hpp) into partials[b] and partials[blocks + b].
template <class T>
__global__ void __launch_bounds__(kMeansBlock) means_partials_kernel(const T* v, ParamRef<T> threshold, std::int64_t n,
                                                                     double* partials) {
  __shared__ double scratch[kMeansBlock];
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * kMeansBlock + threadIdx.x;
  const double value = i < n ? static_cast<double>(v[i]) : 0.0;
  const double spike = i < n && v[i] >= threshold[static_cast<long>(i)] ? 1.0 : 0.0;
  const double v_sum = block_sum(value, scratch);
  const double spike_sum = block_sum(spike, scratch);
  if (threadIdx.x == 0) {
    partials[blockIdx.x] = v_sum;
    partials[gridDim.x + blockIdx.x] = spike_sum;
  }
}

__global__ void means_finish_kernel(const double* partials, unsigned int blocks, std::int64_t n, double* means) {
  if (blockIdx.x != 0 || threadIdx.x != 0) return;
  means[0] = sum_in_block_order(partials, blocks) / static_cast<double>(n);
  means[1] = sum_in_block_order(partials + blocks, blocks) / static_cast<double>(n);
}

template <class T, bool Sigmoid>
__global__ void rates_kernel(const T* v, T* r, ModelParams<T> p, std::int64_t n) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    r[i] = leaky_rate<Sigmoid>(v[i], p, static_cast<long>(i));
  }
}

}  // namespace

template <class T>
void launch_model_step(const ModelStepArgs<T>& args, model::ModelId id, int grid, cudaStream_t stream) {
  const cuda::NvtxRange range("model_step");
  switch (id) {
    case model::ModelId::Lif:
      model_step_kernel<T, model::ModelId::Lif><<<grid, kQifStepBlock, 0, stream>>>(args);
      break;
    case model::ModelId::Ik:
      model_step_kernel<T, model::ModelId::Ik><<<grid, kQifStepBlock, 0, stream>>>(args);
      break;
    case model::ModelId::Iku:
      model_step_kernel<T, model::ModelId::Iku><<<grid, kQifStepBlock, 0, stream>>>(args);
      break;
    case model::ModelId::IkBiexp:
      model_step_kernel<T, model::ModelId::IkBiexp><<<grid, kQifStepBlock, 0, stream>>>(args);
      break;
    case model::ModelId::LeakyTanh:
      model_step_kernel<T, model::ModelId::LeakyTanh><<<grid, kQifStepBlock, 0, stream>>>(args);
      break;
    case model::ModelId::LeakySigmoid:
      model_step_kernel<T, model::ModelId::LeakySigmoid><<<grid, kQifStepBlock, 0, stream>>>(args);
      break;
    case model::ModelId::Qif: return;  // launch_qif_step
  }
  QIFSIM_CUDA_CHECK_LAUNCH(model_step_kernel);
}

template <class T>
void launch_population_means(const T* v, ParamRef<T> threshold, std::int64_t n, double* partials, double* means,
                             cudaStream_t stream) {
  const cuda::NvtxRange range("population_means");
  const auto blocks = static_cast<unsigned int>((n + kMeansBlock - 1) / kMeansBlock);
  means_partials_kernel<T><<<blocks, kMeansBlock, 0, stream>>>(v, threshold, n, partials);
  QIFSIM_CUDA_CHECK_LAUNCH(means_partials_kernel);
  means_finish_kernel<<<1, 1, 0, stream>>>(partials, blocks, n, means);
  QIFSIM_CUDA_CHECK_LAUNCH(means_finish_kernel);
}

template <class T>
void launch_model_rates(model::ModelId id, const T* v, T* r, const ModelParams<T>& p, std::int64_t n,
                        cudaStream_t stream) {
  const int grid = qif_step_grid(n, kQifStepBlock);
  if (id == model::ModelId::LeakySigmoid) {
    rates_kernel<T, true><<<grid, kQifStepBlock, 0, stream>>>(v, r, p, n);
  } else {
    rates_kernel<T, false><<<grid, kQifStepBlock, 0, stream>>>(v, r, p, n);
  }
  QIFSIM_CUDA_CHECK_LAUNCH(rates_kernel);
}

#define QIFSIM_MODEL_LAUNCHERS(T)                                                                               \
  template void launch_model_step<T>(const ModelStepArgs<T>&, model::ModelId, int, cudaStream_t);               \
  template void launch_population_means<T>(const T*, ParamRef<T>, std::int64_t, double*, double*, cudaStream_t); \
  template void launch_model_rates<T>(model::ModelId, const T*, T*, const ModelParams<T>&, std::int64_t, cudaStream_t);
QIFSIM_MODEL_LAUNCHERS(float)
QIFSIM_MODEL_LAUNCHERS(double)
#undef QIFSIM_MODEL_LAUNCHERS

}  // namespace qifsim::kernels
