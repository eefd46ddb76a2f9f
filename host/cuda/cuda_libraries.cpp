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
  // glibc keeps dlerror's message per thread: this thread's failed dlopen above.
  if (const char* e = dlerror()) why = e;  // NOLINT(concurrency-mt-unsafe)
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

// The symbol a header's name stands for (cublasCreate: "cublasCreate_v2").
#define QIFSIM_SYMBOL(f) QIFSIM_STRINGIFY(f)

CublasFunctions load_cublas() {
  const std::string soname = "libcublas.so." QIFSIM_STRINGIFY(CUBLAS_VER_MAJOR);
  void* lib = open_library(soname);
  CublasFunctions t{};
  bind(lib, soname, QIFSIM_SYMBOL(cublasCreate), t.cublasCreate);
  bind(lib, soname, QIFSIM_SYMBOL(cublasDestroy), t.cublasDestroy);
  bind(lib, soname, QIFSIM_SYMBOL(cublasSetStream), t.cublasSetStream);
  bind(lib, soname, QIFSIM_SYMBOL(cublasSetWorkspace), t.cublasSetWorkspace);
  bind(lib, soname, QIFSIM_SYMBOL(cublasDgemv), t.cublasDgemv);
  bind(lib, soname, QIFSIM_SYMBOL(cublasSgemv), t.cublasSgemv);
  bind(lib, soname, QIFSIM_SYMBOL(cublasGetStatusName), t.cublasGetStatusName);
  bind(lib, soname, QIFSIM_SYMBOL(cublasGetStatusString), t.cublasGetStatusString);
  return t;
}

CusparseFunctions load_cusparse() {
  const std::string soname = "libcusparse.so." QIFSIM_STRINGIFY(CUSPARSE_VER_MAJOR);
  void* lib = open_library(soname);
  CusparseFunctions t{};
  bind(lib, soname, QIFSIM_SYMBOL(cusparseCreate), t.cusparseCreate);
  bind(lib, soname, QIFSIM_SYMBOL(cusparseDestroy), t.cusparseDestroy);
  bind(lib, soname, QIFSIM_SYMBOL(cusparseSetStream), t.cusparseSetStream);
  bind(lib, soname, QIFSIM_SYMBOL(cusparseSetPointerMode), t.cusparseSetPointerMode);
  bind(lib, soname, QIFSIM_SYMBOL(cusparseCreateConstCsr), t.cusparseCreateConstCsr);
  bind(lib, soname, QIFSIM_SYMBOL(cusparseDestroySpMat), t.cusparseDestroySpMat);
  bind(lib, soname, QIFSIM_SYMBOL(cusparseCreateDnVec), t.cusparseCreateDnVec);
  bind(lib, soname, QIFSIM_SYMBOL(cusparseDestroyDnVec), t.cusparseDestroyDnVec);
  bind(lib, soname, QIFSIM_SYMBOL(cusparseDnVecSetValues), t.cusparseDnVecSetValues);
  bind(lib, soname, QIFSIM_SYMBOL(cusparseSpMV_bufferSize), t.cusparseSpMV_bufferSize);
  bind(lib, soname, QIFSIM_SYMBOL(cusparseSpMV), t.cusparseSpMV);
  bind(lib, soname, QIFSIM_SYMBOL(cusparseGetErrorName), t.cusparseGetErrorName);
  bind(lib, soname, QIFSIM_SYMBOL(cusparseGetErrorString), t.cusparseGetErrorString);
  return t;
}

#undef QIFSIM_SYMBOL

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
