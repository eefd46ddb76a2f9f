// bench/gemm_peak.cpp - the machine's dense product rates that bound an ensemble's dense step
// (bench/RESULTS.md section 19): OpenBLAS's GEMM of B members' x against J (Y = X J^T, B x N
// times N x N, as Coupling::apply_batch calls it) and its GEMV of one x (as a single run does),
// in float64 and float32, nothing else in the loop. One JSON line per shape and precision.
//
//   qifsim_gemm_peak [--n 1000] [--members 64] [--reps 100]
#include <cblas.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace {

template <class T>
void measure(int n, int b, int reps) {
  std::vector<T> A(static_cast<std::size_t>(n) * n, T(0.001)), X(static_cast<std::size_t>(b) * n, T(1)),
      Y(static_cast<std::size_t>(b) * n);
  auto gemm = [&] {
    if constexpr (sizeof(T) == 8) {
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b, n, n, 1.0, X.data(), n, A.data(), n, 0.0, Y.data(), n);
    } else {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b, n, n, 1.0f, X.data(), n, A.data(), n, 0.0f, Y.data(), n);
    }
  };
  auto gemv = [&] {
    if constexpr (sizeof(T) == 8) {
      cblas_dgemv(CblasRowMajor, CblasNoTrans, n, n, 1.0, A.data(), n, X.data(), 1, 0.0, Y.data(), 1);
    } else {
      cblas_sgemv(CblasRowMajor, CblasNoTrans, n, n, 1.0f, A.data(), n, X.data(), 1, 0.0f, Y.data(), 1);
    }
  };
  auto rate = [&](auto&& f, int calls, double flops_per_call) {
    f();
    const auto t0 = std::chrono::steady_clock::now();
    for (int r = 0; r < calls; ++r) f();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return flops_per_call * calls / s / 1e9;
  };
  const double nn = static_cast<double>(n) * n;
  const double gemm_rate = rate(gemm, reps, 2.0 * nn * b);
  const double gemv_rate = rate(gemv, reps * b, 2.0 * nn);
  std::printf("{\"tool\": \"qifsim_gemm_peak\", \"n\": %d, \"members\": %d, \"precision\": \"%s\", \"gemm_gflops\": %.1f, "
              "\"gemv_gflops\": %.1f}\n",
              n, b, sizeof(T) == 8 ? "float64" : "float32", gemm_rate, gemv_rate);
}

}  // namespace

int main(int argc, char** argv) {
  int n = 1000, b = 64, reps = 100;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--n") n = std::stoi(argv[i + 1]);
    else if (a == "--members") b = std::stoi(argv[i + 1]);
    else if (a == "--reps") reps = std::stoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: qifsim_gemm_peak [--n N] [--members B] [--reps R]\n");
      return 2;
    }
  }
  measure<double>(n, b, reps);
  measure<float>(n, b, reps);
  return 0;
}
