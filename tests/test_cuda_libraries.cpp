// tests/test_cuda_libraries.cpp - cuBLAS and cuSPARSE are loaded when the CUDA backend first
// needs them (host/cuda/cuda_libraries.hpp): a process that only runs the CPU backend never maps
// them, and once loaded every function the backend calls is there. No GPU needed: loading a
// library and naming a status code do not touch a device. (ctest runs each test in its own
// process, so the first test sees a process in which nothing has loaded them yet.)
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cuda/cuda_libraries.hpp"
#include "qifsim/qifsim.hpp"

namespace {

TEST(CudaLibraries, ACpuRunMapsNeitherCublasNorCusparse) {
  qifsim::Network net(1e-3, qifsim::Backend::Cpu, qifsim::Precision::Float64);
  net.add_function("inp", 1, qifsim::Activation::Identity);
  qifsim::QifPopulation q;
  q.n = 50;
  q.weights = qifsim::Matrix(50, 50, 0.01);
  net.add_population("qif", q);
  net.add_edge("inp", "qif", qifsim::Matrix(50, 1, 1.0));
  net.compile();
  qifsim::RunOptions opt;
  opt.record_vars = {{"qif", "v", true}};
  const std::vector<double> inputs(100, 2.0);
  const qifsim::Observer obs = net.run(qifsim::MatrixView{inputs.data(), 100, 1}, opt);
  EXPECT_EQ(obs.steps().size(), 100u);
  EXPECT_FALSE(qifsim::cuda::library_mapped("libcublas"));
  EXPECT_FALSE(qifsim::cuda::library_mapped("libcusparse"));
  EXPECT_TRUE(qifsim::cuda::library_mapped("libcudart"));  // the check sees the libraries that are linked
}

TEST(CudaLibraries, OnceLoadedEveryFunctionTheBackendCallsIsThere) {
  const qifsim::cuda::CublasFunctions& b = qifsim::cuda::cublas();
  const qifsim::cuda::CusparseFunctions& s = qifsim::cuda::cusparse();
  EXPECT_TRUE(qifsim::cuda::library_mapped("libcublas"));
  EXPECT_TRUE(qifsim::cuda::library_mapped("libcusparse"));
  const void* blas_fns[] = {reinterpret_cast<const void*>(b.cublasCreate), reinterpret_cast<const void*>(b.cublasDestroy),
                            reinterpret_cast<const void*>(b.cublasSetStream),
                            reinterpret_cast<const void*>(b.cublasSetWorkspace),
                            reinterpret_cast<const void*>(b.cublasDgemv), reinterpret_cast<const void*>(b.cublasSgemv)};
  for (const void* f : blas_fns) EXPECT_NE(f, nullptr);
  const void* sparse_fns[] = {
      reinterpret_cast<const void*>(s.cusparseCreate),         reinterpret_cast<const void*>(s.cusparseDestroy),
      reinterpret_cast<const void*>(s.cusparseSetStream),      reinterpret_cast<const void*>(s.cusparseSetPointerMode),
      reinterpret_cast<const void*>(s.cusparseCreateConstCsr), reinterpret_cast<const void*>(s.cusparseDestroySpMat),
      reinterpret_cast<const void*>(s.cusparseCreateDnVec),    reinterpret_cast<const void*>(s.cusparseDestroyDnVec),
      reinterpret_cast<const void*>(s.cusparseDnVecSetValues), reinterpret_cast<const void*>(s.cusparseSpMV_bufferSize),
      reinterpret_cast<const void*>(s.cusparseSpMV)};
  for (const void* f : sparse_fns) EXPECT_NE(f, nullptr);
  // The libraries' own names for status codes: the functions answer, from the loaded library.
  EXPECT_EQ(std::string(b.cublasGetStatusName(CUBLAS_STATUS_NOT_INITIALIZED)), "CUBLAS_STATUS_NOT_INITIALIZED");
  EXPECT_EQ(std::string(s.cusparseGetErrorName(CUSPARSE_STATUS_INVALID_VALUE)), "CUSPARSE_STATUS_INVALID_VALUE");
  EXPECT_FALSE(std::string(b.cublasGetStatusString(CUBLAS_STATUS_ALLOC_FAILED)).empty());
  EXPECT_FALSE(std::string(s.cusparseGetErrorString(CUSPARSE_STATUS_ALLOC_FAILED)).empty());
  // A second call hands back the same table (loaded once).
  EXPECT_EQ(&qifsim::cuda::cublas(), &b);
  EXPECT_EQ(&qifsim::cuda::cusparse(), &s);
}

}  // namespace
