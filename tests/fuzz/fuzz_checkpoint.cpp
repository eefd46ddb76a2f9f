// tests/fuzz/fuzz_checkpoint.cpp - libFuzzer target: Network::load_checkpoint on arbitrary
// bytes, then a resumed run when the bytes were accepted. Any input must load (and then run)
// or give a qifsim::Error; crashes, leaks, undefined behaviour, other exceptions and large
// allocations (-malloc_limit_mb) are findings. The seeds are checkpoints of the network
// below (tests/fuzz/seeds/checkpoint). Format 2 ends with a checksum, which would refuse
// almost every mutation before the parser sees it: every other input is sealed here with a
// fresh checksum, so that mutations reach the sections, lengths and values behind it.
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cstring>
#include <vector>

#include "qifsim/error.hpp"
#include "qifsim/log.hpp"
#include "qifsim/network.hpp"

namespace {

constexpr std::int64_t kN = 6;
constexpr std::int64_t kSteps = 400;

qifsim::Network make_net() {
  qifsim::Network net(1e-3, qifsim::Backend::Cpu);
  qifsim::QifPopulation p;
  p.n = kN;
  p.weights = qifsim::Matrix(kN, kN, 0.4);
  p.eta = std::vector<double>{-4.0, -3.5, -3.0, -2.5, -2.0, -1.5};
  net.add_population("qif", p);
  net.compile();
  return net;
}

qifsim::RunOptions options() {
  qifsim::RunOptions o;
  o.sampling_steps = 4;
  o.progress = qifsim::Progress::Off;
  o.record_vars = {{"qif", "v", false}};
  return o;
}

const qifsim::Matrix& inputs() {
  static const qifsim::Matrix x(kSteps, kN, 14.0);
  return x;
}

// Where this process writes each input: a checkpoint is read from a path.
const std::string& scratch() {
  static const std::string path = "/tmp/qifsim_fuzz_checkpoint." + std::to_string(::getpid());
  return path;
}

}  // namespace

// With QIFSIM_FUZZ_WRITE_SEED=path, write a seed (a checkpoint of an interrupted run with
// its observer) and exit.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  qifsim::set_log_handler(nullptr);
  if (const char* seed = std::getenv("QIFSIM_FUZZ_WRITE_SEED")) {
    qifsim::Network net = make_net();
    qifsim::RunOptions o = options();
    o.stop_at_step = 150;
    qifsim::Observer obs(1e-3, qifsim::RecordSpec{true, false, o.record_vars});
    net.run(inputs(), o, obs);
    net.save_checkpoint(seed, &obs);
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint8_t> bytes(data, data + size);
  if (size >= 20 && (data[size - 1] & 1) == 0) {  // sealed again (the checksum's low bit picks)
    const std::uint64_t sum = XXH3_64bits(bytes.data(), size - 8);
    std::memcpy(bytes.data() + size - 8, &sum, 8);
  }
  std::FILE* f = std::fopen(scratch().c_str(), "wb");
  if (!f) return 0;
  if (size > 0) std::fwrite(bytes.data(), 1, size, f);
  std::fclose(f);
  try {
    qifsim::Network net = make_net();
    qifsim::Observer obs(1e-3, qifsim::RecordSpec{true, false, options().record_vars});
    net.load_checkpoint(scratch(), &obs);
    if (net.interrupted()) {
      qifsim::RunOptions o = options();
      o.resume = true;
      o.divergence_check_steps = 50;  // a diverging loaded state ends as DivergenceError
      net.run(inputs(), o, obs);
    }
  } catch (const qifsim::Error&) {
  }
  std::remove(scratch().c_str());
  return 0;
}
