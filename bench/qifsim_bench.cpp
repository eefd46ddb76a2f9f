// bench/qifsim_bench.cpp - step throughput of qifsim against N, precision, backend and
// recording mode, the cost of an Observer flush, and the machine's own memory bandwidth,
// measured in the same binary.
//
//   qifsim_bench [--benchmark_filter=Cpu] [--benchmark_min_time=0.2] [--bw_mib=256]
//
// Benchmarks (arguments: N / recording mode / variant. GPU: 0 plain launches, 1 CUDA Graphs,
// 2 CUDA Graphs with the row-block coupling kernel instead of cuBLAS, 4 CUDA Graphs of the
// fused step (one launch per step). CPU: 0 dense coupling, 3 event-driven coupling,
// RunOptions::event_coupling = 1000):
//   BM_CpuStepFloat32, BM_CpuStepFloat64   Network::run of one coupled population
//   BM_CpuGemvFloat32, BM_CpuGemvFloat64   the dense coupling alone (BLAS gemv, J s): the floor
//   BM_CpuNeuronUpdate*                    the neuron loop alone, tau divided or multiplied by 1/tau
//   BM_CpuStepUncoupled                    run() without J: the per-step fixed cost
//   BM_CpuForwardLoop                      forward() + Observer::record() per step (manual loop)
//   BM_ObserverFlush                       Observer::append_batch of 1024 samples (one flush)
//   BM_CpuBandwidth                        copy and read bandwidth of this machine
//   BM_GpuStep*, BM_GpuBandwidth           the same on the CUDA backend (CUDA builds)
//
// Counters: steps/s, neuron_steps/s, J_bytes/s (dense coupling: N*N*sizeof(T) read per
// step), J_bw_frac (J_bytes/s over the measured copy bandwidth, bytes read plus bytes
// written) and J_read_frac (over the measured read-only bandwidth). Times are those of
// Network::run alone (manual timing; reset() is not timed).
//
// The process exits non-zero when a benchmark fails (an exception, a wrong number of
// samples, a non-finite state), so a run at tiny sizes is a smoke test (ctest: bench_smoke).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cstdint>
#include <exception>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/observer_engine_side.hpp"
#include "cpu/neuron_update.hpp"
#include "qifsim/qifsim.hpp"

#if QIFSIM_BENCH_CUDA
#include <cuda_runtime_api.h>
#endif
#if QIFSIM_BENCH_CBLAS
#include <cblas.h>
#endif

namespace {

using Clock = std::chrono::steady_clock;

std::atomic<int> g_failures{0};
std::size_t g_bw_bytes = std::size_t{256} << 20;  // --bw_mib: bytes per bandwidth buffer

void fail(benchmark::State& state, const std::string& why) {
  ++g_failures;
  std::fprintf(stderr, "qifsim_bench: FAILED: %s\n", why.c_str());
  state.SkipWithError(why.c_str());
}

double elapsed(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

enum Mode { kNoRecording = 0, kPerNeuron = 1, kNeuronMean = 2, kEvery10 = 3, kOutput = 4 };

const char* mode_name(int mode) {
  switch (mode) {
    case kNoRecording: return "no_recording";
    case kPerNeuron: return "per_neuron_v";
    case kNeuronMean: return "neuron_mean_v";
    case kEvery10: return "per_neuron_v_every10";
    default: return "output";
  }
}

// ---- Machine bandwidth -----------------------------------------------------------------

unsigned threads() { return std::max(1u, std::thread::hardware_concurrency()); }

template <class F>
void on_all_threads(std::size_t n, F body) {  // body(begin, len, thread)
  const unsigned t_count = threads();
  std::vector<std::thread> pool;
  const std::size_t part = n / t_count / 64 * 64;
  for (unsigned t = 0; t < t_count; ++t) {
    const std::size_t begin = t * part;
    const std::size_t len = t + 1 == t_count ? n - begin : part;
    pool.emplace_back([=] { body(begin, len, t); });
  }
  for (auto& th : pool) th.join();
}

typedef double Vec __attribute__((vector_size(64)));  // 8 doubles: one cache line

struct Bandwidth {
  double copy = 0.0;  // bytes/s, bytes read plus bytes written (memcpy, one thread per core)
  double read = 0.0;  // bytes/s, read-only (a sum over the buffer, one thread per core)
  // (the last part of a thread's range that does not fill the streams is not read: < 0.1%)
};

// Best of 5, on buffers far larger than the last-level cache; measured once per process.
const Bandwidth& cpu_bandwidth() {
  static const Bandwidth bw = [] {
    const std::size_t n = g_bw_bytes;
    const std::size_t count = n / sizeof(double);
    std::vector<double> a(count, 1.0), b(count, 0.0);
    Bandwidth r;
    for (int rep = 0; rep < 6; ++rep) {  // the first round touches the pages
      const auto t0 = Clock::now();
      on_all_threads(count, [&](std::size_t begin, std::size_t len, unsigned) {
        std::memcpy(b.data() + begin, a.data() + begin, len * sizeof(double));
      });
      const double s = elapsed(t0);
      if (rep > 0) r.copy = std::max(r.copy, 2.0 * static_cast<double>(count * sizeof(double)) / s);
    }
    // Read-only: each thread sums its half through 1, 2 or 4 concurrent streams (a gemv
    // reads several rows at once); the best pattern counts.
    std::vector<double> sums(threads(), 0.0);
    for (int streams : {1, 2, 4}) {
      for (int rep = 0; rep < 3; ++rep) {
        const auto t0 = Clock::now();
        on_all_threads(count, [&](std::size_t begin, std::size_t len, unsigned t) {
          const double* p = a.data() + begin;
          const std::size_t part = len / static_cast<std::size_t>(streams) / 8 * 8;
          Vec acc[4] = {};
          for (std::size_t i = 0; i < part; i += 8) {
            for (int st = 0; st < streams; ++st) {
              Vec x;
              std::memcpy(&x, p + static_cast<std::size_t>(st) * part + i, sizeof(Vec));
              acc[st] += x;
            }
          }
          double total = 0.0;
          for (const Vec& v : acc) {
            for (int j = 0; j < 8; ++j) total += v[j];
          }
          sums[t] = total;
        });
        const double s = elapsed(t0);
        r.read = std::max(r.read, static_cast<double>(count * sizeof(double)) / s);
      }
    }
    benchmark::DoNotOptimize(b.data());
    benchmark::DoNotOptimize(sums.data());
    return r;
  }();
  return bw;
}

#if QIFSIM_BENCH_CUDA
double gpu_copy_bandwidth() {
  static const double bw = [] {
    const std::size_t n = std::size_t{1} << 30;
    void *a = nullptr, *b = nullptr;
    if (cudaMalloc(&a, n) != cudaSuccess || cudaMalloc(&b, n) != cudaSuccess) {
      cudaFree(a);
      return 0.0;
    }
    cudaEvent_t e0, e1;
    cudaEventCreate(&e0);
    cudaEventCreate(&e1);
    cudaMemcpy(b, a, n, cudaMemcpyDeviceToDevice);
    float best_ms = 1e30f;
    for (int r = 0; r < 5; ++r) {
      cudaEventRecord(e0);
      cudaMemcpy(b, a, n, cudaMemcpyDeviceToDevice);
      cudaEventRecord(e1);
      cudaEventSynchronize(e1);
      float ms = 0;
      cudaEventElapsedTime(&ms, e0, e1);
      best_ms = std::min(best_ms, ms);
    }
    cudaEventDestroy(e0);
    cudaEventDestroy(e1);
    cudaFree(a);
    cudaFree(b);
    return 2.0 * static_cast<double>(n) / (best_ms * 1e-3);
  }();
  return bw;
}
#endif

// ---- Networks --------------------------------------------------------------------------

// One population, J uniform in [0, 20/N), RectiPy's defaults, driven by input 15: every
// neuron fires regularly, the state stays finite. J is drawn from a counter-based hash
// (splitmix64 of the flat index) on every core, so N = 32768 takes well under a second.
qifsim::Network build(std::int64_t n, qifsim::Backend backend, qifsim::Precision precision, bool coupled = true) {
  qifsim::QifPopulation p;
  p.n = n;
  if (coupled) {
    qifsim::Matrix J(n, n);
    const double scale = 20.0 / static_cast<double>(n) * 0x1.0p-53;
    double* w = J.data.data();
    on_all_threads(J.data.size(), [=](std::size_t begin, std::size_t len, unsigned) {
      for (std::size_t i = begin; i < begin + len; ++i) {
        std::uint64_t z = (i + 1) * 0x9e3779b97f4a7c15ULL;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        w[i] = static_cast<double>(z >> 11) * scale;
      }
    });
    p.weights = std::move(J);
  }
  qifsim::Network net(1e-3, backend, precision);
  net.add_population("qif", std::move(p));
  net.compile();
  return net;
}

// The network of the last (N, backend, precision) asked for: the benchmarks of one size
// share it (reset() before each timed run), so J is drawn and uploaded once per size.
qifsim::Network& shared_network(std::int64_t n, qifsim::Backend backend, qifsim::Precision precision) {
  static std::unique_ptr<qifsim::Network> net;
  static std::int64_t net_n = -1;
  static qifsim::Backend net_backend = qifsim::Backend::Cpu;
  static qifsim::Precision net_precision = qifsim::Precision::Float64;
  if (!net || net_n != n || net_backend != backend || net_precision != precision) {
    net.reset();  // free the previous J first
    net = std::make_unique<qifsim::Network>(build(n, backend, precision));
    net_n = n;
    net_backend = backend;
    net_precision = precision;
  }
  return *net;
}

// Steps per timed run: about 2e8 multiply-adds of coupling on the CPU, at least 100 and at
// most 10000. On the GPU, where a step is 10-100x faster, about 2e10 (tens of milliseconds
// per run), so that run()'s fixed costs (graph capture, ring and staging buffers) stay small
// against the steps: with 100 steps they added ~30% at N = 1024 on an H100.
std::int64_t steps_for(std::int64_t n, qifsim::Backend backend = qifsim::Backend::Cpu) {
  const double work = backend == qifsim::Backend::Cuda ? 2e10 : 2e8;
  const double per_step = static_cast<double>(n) * static_cast<double>(n) +
                          (backend == qifsim::Backend::Cuda ? 1e6 : 1000.0 * static_cast<double>(n));
  return std::clamp<std::int64_t>(static_cast<std::int64_t>(work / per_step), 100, 10000);
}

qifsim::RunOptions options_for(int mode, int variant) {
  const bool graphs = variant != 0;
  qifsim::RunOptions opt;
  opt.progress = qifsim::Progress::Off;
  opt.cuda_graphs = graphs;
  if (variant == 2) opt.cuda_coupling = qifsim::CudaCoupling::RowBlocks;
  if (variant == 4) opt.cuda_coupling = qifsim::CudaCoupling::Fused;
  if (variant == 3) opt.event_coupling = 1000;
  opt.record_output = mode == kOutput;
  if (mode == kPerNeuron || mode == kEvery10) opt.record_vars = {{"qif", "v", false}};
  if (mode == kNeuronMean) opt.record_vars = {{"qif", "v", true}};
  if (mode == kEvery10) opt.sampling_steps = 10;
  return opt;
}

std::int64_t expected_samples(std::int64_t steps, const qifsim::RunOptions& opt) {
  return qifsim::sample_count(steps, opt.sampling_steps, opt.cutoff);
}

bool state_finite(const qifsim::Network& net) {
  for (const char* var : {"v", "s"}) {
    for (double x : net.get_var("qif", var)) {
      if (!std::isfinite(x)) return false;
    }
  }
  return true;
}

void set_rates(benchmark::State& state, std::int64_t n, double total_steps, double seconds, double j_bytes,
               double copy_bw, double read_bw) {
  state.counters["steps/s"] = benchmark::Counter(total_steps, benchmark::Counter::kIsRate);
  state.counters["neuron_steps/s"] =
      benchmark::Counter(total_steps * static_cast<double>(n), benchmark::Counter::kIsRate);
  if (j_bytes > 0.0) {
    state.counters["J_bytes/s"] = benchmark::Counter(total_steps * j_bytes, benchmark::Counter::kIsRate);
    if (seconds > 0.0 && copy_bw > 0.0) state.counters["J_bw_frac"] = total_steps * j_bytes / seconds / copy_bw;
    if (seconds > 0.0 && read_bw > 0.0) state.counters["J_read_frac"] = total_steps * j_bytes / seconds / read_bw;
  }
}

// One warm-up run, then Network::run from the initial state once per benchmark iteration,
// timed alone (reset() outside the clock). Checks the sample count and that the state
// stays finite; returns the seconds spent in run(), or a negative value after fail().
double timed_runs(benchmark::State& state, qifsim::Network& net, const qifsim::Matrix& inputs,
                  const qifsim::RunOptions& opt) {
  net.reset();
  net.run(inputs, opt);  // warm-up: threads, pages, CUDA graphs
  double seconds = 0.0;
  for (auto _ : state) {
    net.reset();
    const auto t0 = Clock::now();
    qifsim::Observer obs = net.run(inputs, opt);
    const double s = elapsed(t0);
    state.SetIterationTime(s);
    seconds += s;
    if (obs.samples() != expected_samples(inputs.rows, opt)) {
      fail(state, "wrong number of samples: " + std::to_string(obs.samples()));
      return -1.0;
    }
  }
  if (!state_finite(net)) {
    fail(state, "the state is not finite after the run");
    return -1.0;
  }
  return seconds;
}

template <class T>
void bench_steps(benchmark::State& state, qifsim::Backend backend) {
  const std::int64_t n = state.range(0);
  const int mode = static_cast<int>(state.range(1));
  const int variant = static_cast<int>(state.range(2));
  const qifsim::Precision precision = sizeof(T) == 4 ? qifsim::Precision::Float32 : qifsim::Precision::Float64;
  qifsim::set_log_handler(nullptr);
  double copy_bw = 0.0, read_bw = 0.0;
  if (backend == qifsim::Backend::Cuda) {
    if (!qifsim::cuda_device_status().usable) {
      state.SkipWithError("no usable GPU");  // expected on CPU machines: not a failure
      return;
    }
#if QIFSIM_BENCH_CUDA
    copy_bw = gpu_copy_bandwidth();
#endif
  } else {
    copy_bw = cpu_bandwidth().copy;
    read_bw = cpu_bandwidth().read;
  }
  try {
    qifsim::Network& net = shared_network(n, backend, precision);
    if (net.backend() != backend) {
      fail(state, "backend " + qifsim::to_string(backend) + " not in use");
      return;
    }
    const std::int64_t steps = steps_for(n, backend);
    const qifsim::Matrix inputs(steps, n, 15.0);
    const qifsim::RunOptions opt = options_for(mode, variant);
    const double seconds = timed_runs(state, net, inputs, opt);
    if (seconds < 0.0) return;
    set_rates(state, n, static_cast<double>(state.iterations() * steps), seconds,
              static_cast<double>(n) * static_cast<double>(n) * sizeof(T), copy_bw, read_bw);
    state.SetLabel(std::string(mode_name(mode)) +
                   (backend == qifsim::Backend::Cuda ? (variant == 4   ? " graphs fused"
                                                     : variant == 2 ? " graphs rows"
                                                     : variant == 1 ? " graphs"
                                                                    : " plain")
                                                    : (variant == 3 ? " events" : "")) +
                   " steps=" + std::to_string(steps));
  } catch (const std::exception& e) {
    fail(state, e.what());
  }
}

void cpu_args(benchmark::internal::Benchmark* b) {
  for (std::int64_t n : {64, 128, 256, 512, 1000, 1024, 2048, 4096}) {
    for (int mode : {kNoRecording, kOutput, kPerNeuron, kNeuronMean, kEvery10}) b->Args({n, mode, 0});
  }
  for (std::int64_t n : {64, 128, 256, 512, 1000, 1024, 2048, 4096}) {
    for (int mode : {kNoRecording, kOutput}) b->Args({n, mode, 3});  // event-driven coupling
  }
  b->UseManualTime()->Unit(benchmark::kMillisecond);
}

void BM_CpuStepFloat32(benchmark::State& s) { bench_steps<float>(s, qifsim::Backend::Cpu); }
void BM_CpuStepFloat64(benchmark::State& s) { bench_steps<double>(s, qifsim::Backend::Cpu); }
BENCHMARK(BM_CpuStepFloat32)->Apply(cpu_args);
BENCHMARK(BM_CpuStepFloat64)->Apply(cpu_args);

// The floor of a coupled step: the BLAS gemv J s alone, same sizes, same library.
#if QIFSIM_BENCH_CBLAS
template <class T>
void bench_gemv(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  const auto count = static_cast<std::size_t>(n);
  std::vector<T> J(count * count), s(count, T(0.5)), y(count);
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> u(0.0, 20.0 / static_cast<double>(n));
  for (T& w : J) w = static_cast<T>(u(rng));
  const int ni = static_cast<int>(n);
  auto gemv = [&] {
    if constexpr (sizeof(T) == 8) {
      cblas_dgemv(CblasRowMajor, CblasNoTrans, ni, ni, 1.0, J.data(), ni, s.data(), 1, 0.0, y.data(), 1);
    } else {
      cblas_sgemv(CblasRowMajor, CblasNoTrans, ni, ni, 1.0f, J.data(), ni, s.data(), 1, 0.0f, y.data(), 1);
    }
  };
  gemv();
  const std::int64_t reps = steps_for(n);
  double seconds = 0.0;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    for (std::int64_t r = 0; r < reps; ++r) {
      gemv();
      benchmark::ClobberMemory();
    }
    const double sec = elapsed(t0);
    state.SetIterationTime(sec);
    seconds += sec;
  }
  benchmark::DoNotOptimize(y.data());
  set_rates(state, n, static_cast<double>(state.iterations() * reps), seconds,
            static_cast<double>(n) * static_cast<double>(n) * sizeof(T), cpu_bandwidth().copy, cpu_bandwidth().read);
}
void gemv_args(benchmark::internal::Benchmark* b) {
  for (std::int64_t n : {64, 128, 256, 512, 1000, 1024, 2048, 4096}) b->Arg(n);
  b->UseManualTime()->Unit(benchmark::kMillisecond);
}
void BM_CpuGemvFloat32(benchmark::State& s) { bench_gemv<float>(s); }
void BM_CpuGemvFloat64(benchmark::State& s) { bench_gemv<double>(s); }
BENCHMARK(BM_CpuGemvFloat32)->Apply(gemv_args);
BENCHMARK(BM_CpuGemvFloat64)->Apply(gemv_args);
#endif

// The neuron loop alone (update_neurons, no coupling, no recording), one population of N with
// scalar parameters, tau = tau_s = 1 (a power of two) divided by, or multiplied by its exact
// inverse (range(1) = 1; the same bits). Counter: neuron_steps/s.
template <class T>
void bench_neuron_update(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  const bool inverse = state.range(1) != 0;
  const auto count = static_cast<std::size_t>(n);
  const auto span = static_cast<std::size_t>(std::min<std::int64_t>(n, qifsim::detail::kNeuronSpan));
  std::vector<T> v(count), s(count, T(0.5)), x(count, T(0)), in(count, T(3)), s_in(count, T(0.1));
  for (std::size_t i = 0; i < count; ++i) v[i] = static_cast<T>(-2.0 + 4.0 * static_cast<double>(i % 97) / 97.0);
  std::array<std::vector<T>, qifsim::model::kQifParamCount> params;
  const double values[] = {-5.0, 1.0, 1.0, 1.0, 100.0, -100.0, 1.0, 10.0};  // QifParam order
  std::array<const T*, qifsim::model::kQifParamCount> slots{};
  for (std::size_t a = 0; a < params.size(); ++a) {
    params[a].assign(span, static_cast<T>(values[a]));
    slots[a] = params[a].data();
  }
  const auto prm = qifsim::kernels::qif_params<qifsim::kernels::QifParamPtrs<T>>(slots);
  const std::uint32_t scalar = (1u << qifsim::model::kQifParamCount) - 1u;
  qifsim::detail::ExactInverses<T> inv;
  if (inverse) inv = {T(1), T(1)};
  const qifsim::detail::NeuronArrays<T> arrays{v.data(), s.data(), x.data(), in.data(), s_in.data(), nullptr};
  for (auto _ : state) {
    qifsim::detail::update_neurons<T, false, false>(arrays, prm, n, static_cast<T>(1e-3), true, scalar, inv);
    benchmark::ClobberMemory();
  }
  state.counters["neuron_steps/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * static_cast<double>(n), benchmark::Counter::kIsRate);
}
void neuron_update_args(benchmark::internal::Benchmark* b) {
  for (std::int64_t n : {4096, 65536, 1048576}) {
    for (int inverse : {0, 1}) b->Args({n, inverse});
  }
  b->Unit(benchmark::kMicrosecond);
}
void BM_CpuNeuronUpdateFloat32(benchmark::State& s) { bench_neuron_update<float>(s); }
void BM_CpuNeuronUpdateFloat64(benchmark::State& s) { bench_neuron_update<double>(s); }
BENCHMARK(BM_CpuNeuronUpdateFloat32)->Apply(neuron_update_args);
BENCHMARK(BM_CpuNeuronUpdateFloat64)->Apply(neuron_update_args);

// The per-step fixed cost: run() of an uncoupled population (no J), float64, no recording.
void BM_CpuStepUncoupled(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  qifsim::set_log_handler(nullptr);
  try {
    qifsim::Network net = build(n, qifsim::Backend::Cpu, qifsim::Precision::Float64, /*coupled=*/false);
    const std::int64_t steps = 10000;
    const qifsim::Matrix inputs(steps, n, 15.0);
    const qifsim::RunOptions opt = options_for(kNoRecording, false);
    const double seconds = timed_runs(state, net, inputs, opt);
    if (seconds < 0.0) return;
    set_rates(state, n, static_cast<double>(state.iterations() * steps), seconds, 0.0, 0.0, 0.0);
    state.counters["ns/step"] = seconds / static_cast<double>(state.iterations() * steps) * 1e9;
  } catch (const std::exception& e) {
    fail(state, e.what());
  }
}
BENCHMARK(BM_CpuStepUncoupled)->Arg(1)->Arg(64)->Arg(1024)->UseManualTime()->Unit(benchmark::kMillisecond);

// A neuron mean recorded every step (bench/RESULTS.md, section 15): N uncoupled QIF neurons
// (eta a ramp over [-2, 2)), the input 3 through a one-unit node and an all-to-all edge (one
// value per step), 500 steps; recorded: nothing (0), the mean of spike (1) or of v (2).
template <class T>
void bench_recorded_mean(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  const int what = static_cast<int>(state.range(1));
  qifsim::set_log_handler(nullptr);
  try {
    qifsim::Network net(1e-3, qifsim::Backend::Cpu,
                        sizeof(T) == 4 ? qifsim::Precision::Float32 : qifsim::Precision::Float64);
    net.add_function("inp", 1, qifsim::Activation::Identity);
    qifsim::QifPopulation q;
    q.n = n;
    std::vector<double> eta(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) eta[static_cast<std::size_t>(i)] = -2.0 + 4.0 * static_cast<double>(i) / static_cast<double>(n);
    q.eta = eta;
    net.add_population("qif", q);
    net.add_edge("inp", "qif", qifsim::Weights::all_to_all(n, 1, 1.0));
    net.compile();
    const std::int64_t steps = 500;
    const qifsim::Matrix inputs(steps, 1, 3.0);
    qifsim::RunOptions opt;
    opt.progress = qifsim::Progress::Off;
    opt.record_output = false;
    if (what == 1) opt.record_vars = {{"qif", "spike", true}};
    if (what == 2) opt.record_vars = {{"qif", "v", true}};
    const double seconds = timed_runs(state, net, inputs, opt);
    if (seconds < 0.0) return;
    state.counters["ms/step"] = seconds / static_cast<double>(state.iterations() * steps) * 1e3;
  } catch (const std::exception& e) {
    fail(state, e.what());
  }
}
void recorded_mean_args(benchmark::internal::Benchmark* b) {
  for (std::int64_t n : {std::int64_t{65536}, std::int64_t{1000000}}) {
    for (int what : {0, 1, 2}) b->Args({n, what});
  }
  b->UseManualTime()->Unit(benchmark::kMillisecond);
}
void BM_CpuRecordedMeanFloat64(benchmark::State& s) { bench_recorded_mean<double>(s); }
void BM_CpuRecordedMeanFloat32(benchmark::State& s) { bench_recorded_mean<float>(s); }
BENCHMARK(BM_CpuRecordedMeanFloat64)->Apply(recorded_mean_args);
BENCHMARK(BM_CpuRecordedMeanFloat32)->Apply(recorded_mean_args);

// Subnormal state: a coupled N = 100 population whose s starts normal (1) or subnormal
// (1e-310 in float64, 1e-40 in float32, where s ends after long quiet stretches), the
// subnormals kept or flushed (RunOptions::subnormals). No recording, no input (no spikes).
template <class T>
void bench_subnormals(benchmark::State& state) {
  const bool subnormal_start = state.range(0) != 0;
  const bool flush = state.range(1) != 0;
  const std::int64_t n = 100;
  qifsim::set_log_handler(nullptr);
  try {
    const qifsim::Precision precision = sizeof(T) == 4 ? qifsim::Precision::Float32 : qifsim::Precision::Float64;
    qifsim::Network net(1e-3, qifsim::Backend::Cpu, precision);
    qifsim::QifPopulation p;
    p.n = n;
    p.weights = qifsim::Matrix(n, n, 0.01);
    p.s0 = subnormal_start ? (sizeof(T) == 4 ? 1e-40 : 1e-310) : 1.0;
    net.add_population("qif", p);
    net.compile();
    const std::int64_t steps = 20000;
    const qifsim::Matrix inputs(steps, n, 0.0);
    qifsim::RunOptions opt = options_for(kNoRecording, false);
    opt.subnormals = flush ? qifsim::Subnormals::Flush : qifsim::Subnormals::Keep;
    const double seconds = timed_runs(state, net, inputs, opt);
    if (seconds < 0.0) return;
    set_rates(state, n, static_cast<double>(state.iterations() * steps), seconds, 0.0, 0.0, 0.0);
    state.SetLabel(std::string(subnormal_start ? "s subnormal" : "s normal") + (flush ? ", flushed" : ", kept"));
  } catch (const std::exception& e) {
    fail(state, e.what());
  }
}
void subnormal_args(benchmark::internal::Benchmark* b) {
  for (int start : {0, 1}) {
    for (int flush : {0, 1}) b->Args({start, flush});
  }
  b->UseManualTime()->Unit(benchmark::kMillisecond);
}
void BM_CpuSubnormalsFloat64(benchmark::State& s) { bench_subnormals<double>(s); }
void BM_CpuSubnormalsFloat32(benchmark::State& s) { bench_subnormals<float>(s); }
BENCHMARK(BM_CpuSubnormalsFloat64)->Apply(subnormal_args);
BENCHMARK(BM_CpuSubnormalsFloat32)->Apply(subnormal_args);

// A hand-written loop as in RectiPy's tutorial: forward() and Observer::record() of the
// output and every neuron's v, each step (float64, coupled).
void BM_CpuForwardLoop(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  qifsim::set_log_handler(nullptr);
  try {
    qifsim::Network net = build(n, qifsim::Backend::Cpu, qifsim::Precision::Float64);
    const std::int64_t steps = std::min<std::int64_t>(steps_for(n), 2000);
    const std::vector<double> x(static_cast<std::size_t>(n), 15.0);
    double seconds = 0.0;
    for (auto _ : state) {
      net.reset();
      qifsim::Observer obs(net.dt(), true, false, {{"qif", "v", false}});
      const auto t0 = Clock::now();
      for (std::int64_t t = 0; t < steps; ++t) obs.record(t, net.forward(x), 0.0, {net.get_var("qif", "v")});
      const double s = elapsed(t0);
      state.SetIterationTime(s);
      seconds += s;
      if (obs.samples() != steps) {
        fail(state, "wrong number of samples");
        return;
      }
    }
    set_rates(state, n, static_cast<double>(state.iterations() * steps), seconds,
              static_cast<double>(n) * static_cast<double>(n) * 8.0, cpu_bandwidth().copy, cpu_bandwidth().read);
  } catch (const std::exception& e) {
    fail(state, e.what());
  }
}
BENCHMARK(BM_CpuForwardLoop)->Arg(64)->Arg(1000)->UseManualTime()->Unit(benchmark::kMillisecond);

void BM_CpuBandwidth(benchmark::State& state) {
  const Bandwidth& bw = cpu_bandwidth();
  for (auto _ : state) benchmark::DoNotOptimize(bw.copy);
  state.counters["copy_bytes/s"] = bw.copy;
  state.counters["read_bytes/s"] = bw.read;
  state.counters["buffer_MiB"] = static_cast<double>(g_bw_bytes >> 20);
  state.counters["threads"] = threads();
}
BENCHMARK(BM_CpuBandwidth)->Iterations(1);

#if QIFSIM_BENCH_CUDA
void gpu_args(benchmark::internal::Benchmark* b) {
  for (std::int64_t n : {64, 256, 1024, 4096, 8192, 16384, 32768}) {
    for (int mode : {kNoRecording, kOutput, kPerNeuron, kNeuronMean, kEvery10}) b->Args({n, mode, 1});
  }
  for (std::int64_t n : {256, 1024, 4096}) b->Args({n, kNoRecording, 0});  // plain launches
  for (std::int64_t n : {64, 256, 1024, 4096, 8192, 16384, 32768}) b->Args({n, kNoRecording, 2});  // row-block J s
  for (std::int64_t n : {64, 256, 1024, 4096, 8192, 16384, 32768}) b->Args({n, kNoRecording, 4});  // fused step
  for (std::int64_t n : {1024, 4096}) {
    for (int mode : {kOutput, kNeuronMean}) b->Args({n, mode, 4});
  }
  b->UseManualTime()->Unit(benchmark::kMillisecond);
}
void BM_GpuStepFloat32(benchmark::State& s) { bench_steps<float>(s, qifsim::Backend::Cuda); }
void BM_GpuStepFloat64(benchmark::State& s) { bench_steps<double>(s, qifsim::Backend::Cuda); }
BENCHMARK(BM_GpuStepFloat32)->Apply(gpu_args);
BENCHMARK(BM_GpuStepFloat64)->Apply(gpu_args);

void BM_GpuBandwidth(benchmark::State& state) {
  if (gpu_copy_bandwidth() <= 0.0) {
    state.SkipWithError("no usable GPU");
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(gpu_copy_bandwidth());
  state.counters["copy_bytes/s"] = gpu_copy_bandwidth();
}
BENCHMARK(BM_GpuBandwidth)->Iterations(1);
#endif

// The cost of one flush: Observer::append_batch of K = 1024 sample rows of W values from
// the ring buffer (T = the engine's precision) into fresh storage, as run() does when the
// ring is full. Timed alone (creating and freeing the Observer is not).
template <class T>
void bench_flush(benchmark::State& state) {
  const std::int64_t width = state.range(0);
  const std::int64_t k = 1024;
  std::vector<T> rows(static_cast<std::size_t>(k * width), T(1));
  std::vector<std::int64_t> steps(static_cast<std::size_t>(k));
  for (std::int64_t i = 0; i < k; ++i) steps[static_cast<std::size_t>(i)] = i;
  double seconds = 0.0;
  for (auto _ : state) {
    qifsim::Observer obs(1e-3, false, false, {{"qif", "v", false}});
    qifsim::detail::ObserverEngineSide side(obs);
    side.bind(0, {width});
    side.prepare(k, 0);
    const auto t0 = Clock::now();
    side.append_batch(rows.data(), steps.data(), k);
    const double s = elapsed(t0);
    state.SetIterationTime(s);
    seconds += s;
    if (obs.samples() != k) {
      fail(state, "flush lost samples");
      return;
    }
  }
  const double values = static_cast<double>(state.iterations() * k * width);
  state.counters["bytes/s"] = benchmark::Counter(values * sizeof(double), benchmark::Counter::kIsRate);
  state.counters["ns/sample"] = seconds / static_cast<double>(state.iterations() * k) * 1e9;
  state.counters["ns/value"] = seconds / values * 1e9;
}
void BM_ObserverFlushFloat64(benchmark::State& s) { bench_flush<double>(s); }
void BM_ObserverFlushFloat32(benchmark::State& s) { bench_flush<float>(s); }
BENCHMARK(BM_ObserverFlushFloat64)->Arg(1)->Arg(64)->Arg(1024)->Arg(4096)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ObserverFlushFloat32)->Arg(64)->Arg(1024)->Arg(4096)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  // Our own flags, after Google Benchmark has taken its own.
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--bw_mib=", 0) == 0) {
      const long mib = std::strtol(a.c_str() + 9, nullptr, 10);
      if (mib < 1) {
        std::fprintf(stderr, "qifsim_bench: --bw_mib must be >= 1\n");
        return 2;
      }
      g_bw_bytes = static_cast<std::size_t>(mib) << 20;
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::AddCustomContext("qifsim", QIFSIM_VERSION_STRING);
  benchmark::AddCustomContext("qifsim_cuda_device", qifsim::cuda_device_status().description);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (g_failures > 0) {
    std::fprintf(stderr, "qifsim_bench: %d benchmark(s) failed\n", g_failures.load());
    return 1;
  }
  return 0;
}
