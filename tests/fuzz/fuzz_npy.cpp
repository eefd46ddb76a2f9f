// tests/fuzz/fuzz_npy.cpp - libFuzzer target: the .npy reader on arbitrary bytes.
// Any input must give an array or a qifsim::Error; crashes, leaks, undefined behaviour
// and other exceptions are findings.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "qifsim/error.hpp"
#include "qifsim/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = "/tmp/qifsim_fuzz_npy_" + std::to_string(getpid()) + ".npy";
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    const qifsim::NpyArray a = qifsim::read_npy(path);
    std::size_t n = 1;
    for (auto d : a.shape) n *= static_cast<std::size_t>(d);
    if (n != a.data.size()) __builtin_trap();  // the reader's own contract
    (void)qifsim::read_npy_matrix(path);
  } catch (const qifsim::Error&) {
  }
  return 0;
}
