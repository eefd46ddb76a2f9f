// bench/qifsim_bench.cpp - step throughput of qifsim against N, precision, backend and
// recording mode, with the machine's own copy bandwidth measured in the same binary.
//
//   qifsim_bench [--benchmark_filter=Cpu] [--benchmark_min_time=0.2]
//
// Counters: steps/s, neuron_steps/s, J_bytes/s (dense coupling: N*N*sizeof(T) read per
// step) and J_bw_frac (J_bytes/s over the measured copy bandwidth of the same device,
// bytes read plus bytes written).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "qifsim/qifsim.hpp"

#if QIFSIM_BENCH_CUDA
#include <cuda_runtime_api.h>
#endif

namespace {

enum Mode { kNoRecording = 0, kPerNeuron = 1, kNeuronMean = 2, kEvery10 = 3 };

const char* mode_name(int mode) {
  switch (mode) {
    case kNoRecording: return "no_recording";
    case kPerNeuron: return "per_neuron";
    case kNeuronMean: return "neuron_mean";
    default: return "per_neuron_every10";
  }
}

// Copy `n` bytes with one thread per core, as the multithreaded gemv reads.
void parallel_copy(char* dst, const char* src, std::size_t n) {
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  const std::size_t part = n / threads;
  for (unsigned t = 0; t < threads; ++t) {
    const std::size_t begin = t * part;
    const std::size_t len = t + 1 == threads ? n - begin : part;
    pool.emplace_back([=] { std::memcpy(dst + begin, src + begin, len); });
  }
  for (auto& th : pool) th.join();
}

// Copy bandwidth in bytes/s (read + write counted), measured once per process.
double cpu_copy_bandwidth() {
  static const double bw = [] {
    const std::size_t n = std::size_t{256} << 20;
    std::vector<char> a(n, 1), b(n, 0);
    parallel_copy(b.data(), a.data(), n);  // touch the pages
    double best = 0.0;
    for (int r = 0; r < 5; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      parallel_copy(b.data(), a.data(), n);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      best = std::max(best, 2.0 * static_cast<double>(n) / s);
    }
    benchmark::DoNotOptimize(b.data());
    return best;
  }();
  return bw;
}

#if QIFSIM_BENCH_CUDA
double gpu_copy_bandwidth() {
  static const double bw = [] {
    const std::size_t n = std::size_t{1} << 30;
    void *a = nullptr, *b = nullptr;
    if (cudaMalloc(&a, n) != cudaSuccess || cudaMalloc(&b, n) != cudaSuccess) return 0.0;
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

qifsim::Network build(std::int64_t n, qifsim::Backend backend, qifsim::Precision precision) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> u(0.0, 20.0 / static_cast<double>(n));
  qifsim::QifPopulation p;
  p.n = n;
  p.weights = qifsim::Matrix(n, n);
  for (double& w : p.weights.data) w = u(rng);
  qifsim::Network net(1e-3, backend, precision);
  net.add_population("qif", p);
  net.compile();
  return net;
}

template <class T>
void bench_steps(benchmark::State& state, qifsim::Backend backend, double bandwidth) {
  const std::int64_t n = state.range(0);
  const int mode = static_cast<int>(state.range(1));
  const bool graphs = state.range(2) != 0;
  const qifsim::Precision precision = sizeof(T) == 4 ? qifsim::Precision::Float32 : qifsim::Precision::Float64;
  qifsim::set_log_handler(nullptr);
  if (backend == qifsim::Backend::Cuda && !qifsim::cuda_device_status().usable) {
    state.SkipWithError("no usable GPU");
    return;
  }
  qifsim::Network net = build(n, backend, precision);
  if (net.backend() != backend) {
    state.SkipWithError("backend not available");
    return;
  }
  const std::int64_t steps = std::clamp<std::int64_t>(200000000 / (n * n + 1000 * n), 100, 10000);
  const qifsim::Matrix inputs(steps, n, 15.0);
  qifsim::RunOptions opt;
  opt.progress = qifsim::Progress::Off;
  opt.cuda_graphs = graphs;
  opt.record_output = false;
  if (mode == kPerNeuron || mode == kEvery10) opt.record_vars = {{"qif", "v", false}};
  if (mode == kNeuronMean) opt.record_vars = {{"qif", "v", true}};
  if (mode == kEvery10) opt.sampling_steps = 10;
  if (mode == kNoRecording) opt.record_vars.clear();
  net.run(inputs, opt);  // warm-up
  double seconds = 0.0;
  for (auto _ : state) {
    net.reset();
    const auto t0 = std::chrono::steady_clock::now();
    qifsim::Observer obs = net.run(inputs, opt);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    benchmark::DoNotOptimize(obs.samples());
  }
  const double total = static_cast<double>(state.iterations() * steps);
  state.counters["steps/s"] = benchmark::Counter(total, benchmark::Counter::kIsRate);
  state.counters["neuron_steps/s"] = benchmark::Counter(total * static_cast<double>(n), benchmark::Counter::kIsRate);
  const double j_bytes = static_cast<double>(n) * static_cast<double>(n) * sizeof(T);
  state.counters["J_bytes/s"] = benchmark::Counter(total * j_bytes, benchmark::Counter::kIsRate);
  // Against the copy rate counting bytes read and written (a read-only stream can beat it
  // where a copy pays for write-allocate traffic).
  if (bandwidth > 0.0 && seconds > 0.0) state.counters["J_bw_frac"] = total * j_bytes / seconds / bandwidth;
  state.SetLabel(std::string(mode_name(mode)) + (backend == qifsim::Backend::Cuda ? (graphs ? " graphs" : " plain") : ""));
}

void cpu_args(benchmark::internal::Benchmark* b) {
  for (std::int64_t n : {64, 256, 1000, 1024, 4096}) {
    for (int mode : {kNoRecording, kPerNeuron, kNeuronMean, kEvery10}) b->Args({n, mode, 0});
  }
  b->UseRealTime()->Unit(benchmark::kMillisecond);
}

void BM_CpuStepFloat32(benchmark::State& s) { bench_steps<float>(s, qifsim::Backend::Cpu, cpu_copy_bandwidth()); }
void BM_CpuStepFloat64(benchmark::State& s) { bench_steps<double>(s, qifsim::Backend::Cpu, cpu_copy_bandwidth()); }
BENCHMARK(BM_CpuStepFloat32)->Apply(cpu_args);
BENCHMARK(BM_CpuStepFloat64)->Apply(cpu_args);

void BM_CpuBandwidth(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(cpu_copy_bandwidth());
  state.counters["copy_bytes/s"] = cpu_copy_bandwidth();
}
BENCHMARK(BM_CpuBandwidth)->Iterations(1);

#if QIFSIM_BENCH_CUDA
void gpu_args(benchmark::internal::Benchmark* b) {
  for (std::int64_t n : {64, 256, 1024, 4096, 8192, 16384, 32768}) {
    for (int mode : {kNoRecording, kPerNeuron, kNeuronMean, kEvery10}) b->Args({n, mode, 1});
  }
  for (std::int64_t n : {256, 1024, 4096}) b->Args({n, kNoRecording, 0});  // plain launches
  b->UseRealTime()->Unit(benchmark::kMillisecond);
}
void BM_GpuStepFloat32(benchmark::State& s) { bench_steps<float>(s, qifsim::Backend::Cuda, gpu_copy_bandwidth()); }
void BM_GpuStepFloat64(benchmark::State& s) { bench_steps<double>(s, qifsim::Backend::Cuda, gpu_copy_bandwidth()); }
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

// The cost of handing one batch of K samples x W values to the Observer (host side of a
// ring-buffer flush).
void BM_ObserverFlush(benchmark::State& state) {
  const std::int64_t width = state.range(0);
  const std::int64_t k = 1024;
  std::vector<double> rows(static_cast<std::size_t>(k * width), 1.0);
  std::vector<std::int64_t> steps(static_cast<std::size_t>(k));
  for (std::int64_t i = 0; i < k; ++i) steps[static_cast<std::size_t>(i)] = i;
  for (auto _ : state) {
    state.PauseTiming();
    qifsim::Observer obs(1e-3, false, false, {{"qif", "v", false}});
    obs.bind(0, {width});
    obs.prepare(k, 0);
    state.ResumeTiming();
    obs.append_batch(rows.data(), steps.data(), k);
    benchmark::DoNotOptimize(obs.samples());
  }
  state.counters["bytes/s"] = benchmark::Counter(static_cast<double>(state.iterations() * k * width * 8),
                                                 benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ObserverFlush)->Arg(64)->Arg(1024)->Arg(16384)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
