// host/cuda/cuda_libraries.cpp - cuBLAS and cuSPARSE loaded on first use (cuda_libraries.hpp).
// The library is looked up by its soname (LD_LIBRARY_PATH, the system's folders), then beside
// the CUDA runtime this process uses, then in the toolkit folder qifsim was built against.
#include "cuda/cuda_libraries.hpp"

#include <cuda_runtime.h>
#include <dlfcn.h>

#include <fstream>
#include <string>
#include <vector>

#include "qifsim/error.hpp"

#define QIFSIM_STRINGIFY_(x) #x
#define QIFSIM_STRINGIFY(x) QIFSIM_STRINGIFY_(x)

namespace qifsim::cuda {
namespace {

std::string folder_of(const std::string& file) {
  const std::size_t slash = file.rfind('/');
  return slash == std::string::npos ? std::string() : file.substr(0, slash);
}

// The folders tried after the soname alone: the CUDA runtime's, the build's toolkit.
std::vector<std::string> fallback_folders() {
  std::vector<std::string> folders;
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&cudaGetDeviceCount), &info) != 0 && info.dli_fname != nullptr) {
    const std::string runtime = folder_of(info.dli_fname);
    if (!runtime.empty()) folders.push_back(runtime);
  }
#ifdef QIFSIM_CUDA_LIBRARY_DIR
  folders.emplace_back(QIFSIM_CUDA_LIBRARY_DIR);
#endif
  return folders;
}

void* open_library(const std::string& soname) {
  std::string tried = soname;
  std::string why;
  if (void* handle = dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL)) return handle;
  if (const char* e = dlerror()) why = e;
  for (const std::string& folder : fallback_folders()) {
    const std::string path = folder + "/" + soname;
    if (void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) return handle;
    tried += ", " + path;
  }
  throw BackendError("the CUDA backend needs " + soname + ", which could not be loaded (tried " + tried + ": " + why +
                     "); install the CUDA toolkit's libraries or add their folder to LD_LIBRARY_PATH");
}

template <class F>
void bind(void* library, const std::string& soname, const char* symbol, F& fn) {
  fn = reinterpret_cast<F>(dlsym(library, symbol));
  if (fn == nullptr) {
    throw BackendError("the CUDA backend needs " + std::string(symbol) + " from " + soname +
                       ", which that library lacks (a different CUDA version than qifsim was built for?)");
  }
}

// BIND(table, f): table.f from the symbol the header names f (cublasCreate: cublasCreate_v2).
#define QIFSIM_BIND(table, library, soname, f) bind(library, soname, QIFSIM_STRINGIFY(f), table.f)

CublasFunctions load_cublas() {
  const std::string soname = "libcublas.so." QIFSIM_STRINGIFY(CUBLAS_VER_MAJOR);
  void* lib = open_library(soname);
  CublasFunctions t{};
  QIFSIM_BIND(t, lib, soname, cublasCreate);
  QIFSIM_BIND(t, lib, soname, cublasDestroy);
  QIFSIM_BIND(t, lib, soname, cublasSetStream);
  QIFSIM_BIND(t, lib, soname, cublasSetWorkspace);
  QIFSIM_BIND(t, lib, soname, cublasDgemv);
  QIFSIM_BIND(t, lib, soname, cublasSgemv);
  QIFSIM_BIND(t, lib, soname, cublasGetStatusName);
  QIFSIM_BIND(t, lib, soname, cublasGetStatusString);
  return t;
}

CusparseFunctions load_cusparse() {
  const std::string soname = "libcusparse.so." QIFSIM_STRINGIFY(CUSPARSE_VER_MAJOR);
  void* lib = open_library(soname);
  CusparseFunctions t{};
  QIFSIM_BIND(t, lib, soname, cusparseCreate);
  QIFSIM_BIND(t, lib, soname, cusparseDestroy);
  QIFSIM_BIND(t, lib, soname, cusparseSetStream);
  QIFSIM_BIND(t, lib, soname, cusparseSetPointerMode);
  QIFSIM_BIND(t, lib, soname, cusparseCreateConstCsr);
  QIFSIM_BIND(t, lib, soname, cusparseDestroySpMat);
  QIFSIM_BIND(t, lib, soname, cusparseCreateDnVec);
  QIFSIM_BIND(t, lib, soname, cusparseDestroyDnVec);
  QIFSIM_BIND(t, lib, soname, cusparseDnVecSetValues);
  QIFSIM_BIND(t, lib, soname, cusparseSpMV_bufferSize);
  QIFSIM_BIND(t, lib, soname, cusparseSpMV);
  QIFSIM_BIND(t, lib, soname, cusparseGetErrorName);
  QIFSIM_BIND(t, lib, soname, cusparseGetErrorString);
  return t;
}

#undef QIFSIM_BIND

}  // namespace

const CublasFunctions& cublas() {
  static const CublasFunctions table = load_cublas();  // a throw leaves it unset: tried again
  return table;
}

const CusparseFunctions& cusparse() {
  static const CusparseFunctions table = load_cusparse();
  return table;
}

bool library_mapped(const char* name) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.find(name) != std::string::npos) return true;
  }
  return false;
}

}  // namespace qifsim::cuda
