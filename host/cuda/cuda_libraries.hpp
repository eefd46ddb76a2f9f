// host/cuda/cuda_libraries.hpp - cuBLAS and cuSPARSE, loaded when the CUDA backend first needs
// them (dlopen), not when the process starts: mapped at start they take about 190 MB of
// resident memory (cuBLAS with cuBLASLt ~155 MB, cuSPARSE ~30 MB) in every process that links
// qifsim, CPU runs included. The backend calls them through these tables; each member has
// the name (and, through decltype, the type) of the library function it points to.
#pragma once

#include <cublas_v2.h>
#include <cusparse.h>

namespace qifsim::cuda {

struct CublasFunctions {
  decltype(&::cublasCreate) cublasCreate;
  decltype(&::cublasDestroy) cublasDestroy;
  decltype(&::cublasSetStream) cublasSetStream;
  decltype(&::cublasSetWorkspace) cublasSetWorkspace;
  decltype(&::cublasDgemv) cublasDgemv;
  decltype(&::cublasSgemv) cublasSgemv;
  decltype(&::cublasGetStatusName) cublasGetStatusName;
  decltype(&::cublasGetStatusString) cublasGetStatusString;
};

struct CusparseFunctions {
  decltype(&::cusparseCreate) cusparseCreate;
  decltype(&::cusparseDestroy) cusparseDestroy;
  decltype(&::cusparseSetStream) cusparseSetStream;
  decltype(&::cusparseSetPointerMode) cusparseSetPointerMode;
  decltype(&::cusparseCreateConstCsr) cusparseCreateConstCsr;
  decltype(&::cusparseDestroySpMat) cusparseDestroySpMat;
  decltype(&::cusparseCreateDnVec) cusparseCreateDnVec;
  decltype(&::cusparseDestroyDnVec) cusparseDestroyDnVec;
  decltype(&::cusparseDnVecSetValues) cusparseDnVecSetValues;
  decltype(&::cusparseSpMV_bufferSize) cusparseSpMV_bufferSize;
  decltype(&::cusparseSpMV) cusparseSpMV;
  decltype(&::cusparseGetErrorName) cusparseGetErrorName;
  decltype(&::cusparseGetErrorString) cusparseGetErrorString;
};

/// cuBLAS's functions, the library loaded on the first call (thread-safe). BackendError naming
/// the library, where it was looked for and the loader's message when it cannot be loaded or
/// lacks a function; a later call tries again.
const CublasFunctions& cublas();
/// The same for cuSPARSE.
const CusparseFunctions& cusparse();

/// Whether this process has mapped a library whose file name contains `name` (tests: a CPU
/// run maps neither "libcublas" nor "libcusparse").
bool library_mapped(const char* name);

}  // namespace qifsim::cuda
