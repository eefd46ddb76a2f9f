// tests/test_gemv_loop.cpp - the CPU backend's own matrix-vector product (host/cpu/gemv_loop.cpp,
// baseline and AVX2 copies) against the summation order documented in host/cpu/blas.hpp, written
// here as plain scalar code: bit for bit, for shapes whose rows are not a multiple of 4 and
// whose columns are not a multiple of 8, with beta 0 and not, on one thread and threaded.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "cpu/blas.hpp"

namespace {

template <class T>
std::vector<T> reference(std::int64_t rows, std::int64_t cols, const std::vector<T>& A, const std::vector<T>& x,
                         T beta, std::vector<T> y) {
  for (std::int64_t i = 0; i < rows; ++i) {
    const std::int64_t whole = cols - cols % 8;
    T lane[8] = {};
    for (std::int64_t j = 0; j < whole; ++j) lane[j % 8] = lane[j % 8] + A[i * cols + j] * x[j];
    T sum = ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
    for (std::int64_t j = whole; j < cols; ++j) sum = sum + A[i * cols + j] * x[j];
    y[i] = beta == T(0) ? sum : sum + beta * y[i];
  }
  return y;
}

template <class T>
void check(std::int64_t rows, std::int64_t cols, T beta, bool allow_avx2) {
  SCOPED_TRACE(std::string(sizeof(T) == 8 ? "float64 " : "float32 ") + std::to_string(rows) + " x " +
               std::to_string(cols) + (beta == T(0) ? "" : " beta") + (allow_avx2 ? "" : " baseline"));
  std::mt19937 rng(static_cast<unsigned>(rows * 1000 + cols));
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<T> A(static_cast<std::size_t>(rows * cols)), x(static_cast<std::size_t>(cols)),
      y(static_cast<std::size_t>(rows));
  for (T& a : A) a = static_cast<T>(u(rng));
  for (T& v : x) v = static_cast<T>(u(rng) * 3.0);
  for (T& v : y) v = static_cast<T>(u(rng));
  const std::vector<T> want = reference(rows, cols, A, x, beta, y);
  qifsim::detail::gemv_loop<T>(rows, cols, A.data(), x.data(), beta, y.data(), allow_avx2);
  for (std::size_t i = 0; i < y.size(); ++i) {
    ASSERT_EQ(std::memcmp(&y[i], &want[i], sizeof(T)), 0) << "row " << i << ": " << y[i] << " vs " << want[i];
  }
}

template <class T>
void check_shapes(bool allow_avx2) {
  const std::int64_t shapes[][2] = {{1, 1}, {3, 7}, {4, 8}, {5, 9}, {64, 64}, {100, 100}, {191, 191}, {7, 300},
                                    {600, 513}};  // the last is threaded (>= kParallelGemvElements)
  for (const auto& s : shapes) {
    check<T>(s[0], s[1], T(0), allow_avx2);
    check<T>(s[0], s[1], T(1), allow_avx2);
  }
}

TEST(GemvLoop, Float64FollowsTheDocumentedOrderBitForBit) { check_shapes<double>(true); }
TEST(GemvLoop, Float32FollowsTheDocumentedOrderBitForBit) { check_shapes<float>(true); }
TEST(GemvLoop, BaselineCopyFollowsTheDocumentedOrderBitForBit) {
  check_shapes<double>(false);
  check_shapes<float>(false);
}

}  // namespace
