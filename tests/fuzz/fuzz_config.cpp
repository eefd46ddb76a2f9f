// tests/fuzz/fuzz_config.cpp - libFuzzer target: the TOML config reader on arbitrary text.
// Any input must give a checked config or a qifsim::Error (ConfigError names the key);
// crashes, leaks, undefined behaviour and other exceptions are findings.
#include <cstdint>
#include <string>

#include "qifsim/config.hpp"
#include "qifsim/error.hpp"
#include "qifsim/log.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = [] {
    qifsim::set_log_handler(nullptr);
    return true;
  }();
  (void)quiet;
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    // Relative data paths resolve in an empty folder: file reads fail cleanly.
    qifsim::RunConfig config = qifsim::parse_config(text, "/nonexistent-qifsim-fuzz", "fuzz.toml");
    (void)config.summary();
  } catch (const qifsim::Error&) {
  }
  return 0;
}
