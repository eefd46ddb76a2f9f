// tests/test_hardening.cpp - what a careless colleague or a careful attacker can do to a run:
// links planted in the output folder, full disks, damaged checkpoints, a second thread,
// sizes one digit too long. Each case names the failure it guards against; the expected
// outcome is the error contract (a typed error naming the problem) and files that are
// untouched where they must be.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "io_test_util.hpp"
#include "qifsim/qifsim.hpp"
#include "run_gate.hpp"

#define XXH_INLINE_ALL
#include <xxhash.h>  // the checkpoint's checksum, to seal edited files again

namespace {

namespace fs = std::filesystem;
using iotest::ScratchDir;
using qifsim::Matrix;

qifsim::QifPopulation coupled(std::int64_t n) {
  qifsim::QifPopulation p;
  p.n = n;
  Matrix J(n, n);
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < n; ++j) J(i, j) = 0.05 * static_cast<double>((i * 7 + j * 3) % 11);
  }
  p.weights = J;
  std::vector<double> eta(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) eta[static_cast<std::size_t>(i)] = -4.0 + 0.1 * static_cast<double>(i);
  p.eta = eta;
  return p;
}

qifsim::Network make_net(std::int64_t n = 6) {
  qifsim::Network net(1e-3, qifsim::Backend::Cpu);
  net.add_population("qif", coupled(n));
  net.compile();
  return net;
}

Matrix drive(std::int64_t steps, std::int64_t n) {
  Matrix x(steps, n);
  for (std::int64_t t = 0; t < steps; ++t) {
    for (std::int64_t i = 0; i < n; ++i) x(t, i) = 12.0 + 4.0 * std::sin(0.003 * static_cast<double>(t + 50 * i));
  }
  return x;
}

qifsim::RunOptions quiet() {
  qifsim::RunOptions o;
  o.progress = qifsim::Progress::Off;
  o.record_vars = {{"qif", "v", false}};
  return o;
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const qifsim::Error& e) {
    return e.what();
  }
  return "<no error>";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Run `body` in a child process and return its exit status (or 128 + signal). The child
// reports through its exit code: 0 = as expected.
template <class F>
int in_child(F&& body) {
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    int code = 99;
    try {
      code = body();
    } catch (...) {
      code = 98;
    }
    std::fflush(nullptr);
    _exit(code);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::vector<std::string> formats() {
  std::vector<std::string> f = {"npy", "csv"};
  if (qifsim::hdf5_supported()) f.push_back("hdf5");
  return f;
}

std::string file_of(const std::string& format) {
  return format == "npy" ? "out.npy" : format == "csv" ? "out.csv" : "recording.h5";
}

// ---- Output files: never written through a link ------------------------------------------

TEST(OutputFiles, ALinkAtAFileNameIsReplacedNotFollowed) {
  for (const auto& format : formats()) {
    ScratchDir dir;
    const std::string victim = dir / "victim.txt";
    iotest::write_text(victim, "keep me");
    fs::create_directory(dir / "out");
    fs::create_symlink(victim, dir / ("out/" + file_of(format)));

    qifsim::Network net = make_net();
    qifsim::Observer obs(1e-3, qifsim::RecordSpec{true, false, {}});
    const auto sinks = qifsim::attach_file_sinks(obs, dir / "out", {format});
    net.run(drive(200, 6), quiet(), obs);
    qifsim::finish_file_sinks(sinks, obs);

    EXPECT_EQ(iotest::read_text(victim), "keep me") << format;
    EXPECT_FALSE(fs::is_symlink(dir / ("out/" + file_of(format)))) << format;
    EXPECT_GT(fs::file_size(dir / ("out/" + file_of(format))), 100u) << format;
  }
}

TEST(OutputFiles, ALinkAtASpikeFileIsReplacedNotFollowed) {
  for (const std::string format : {"npy", "csv"}) {
    ScratchDir dir;
    const std::string victim = dir / "victim.txt";
    iotest::write_text(victim, "keep me");
    fs::create_directory(dir / "out");
    const std::string name = "out/qif.spikes." + format;
    fs::create_symlink(victim, dir / name);
    qifsim::Network net = make_net();
    qifsim::Observer obs(1e-3, qifsim::RecordSpec{true, false, {}, {"qif"}});
    const auto sinks = qifsim::attach_file_sinks(obs, dir / "out", {format});
    qifsim::RunOptions o = quiet();
    o.record_spikes = {"qif"};
    net.run(Matrix(2000, 6, 400.0), o, obs);
    qifsim::finish_file_sinks(sinks, obs);
    ASSERT_GT(obs.spike_count("qif"), 0);
    EXPECT_EQ(iotest::read_text(victim), "keep me") << format;
    EXPECT_FALSE(fs::is_symlink(dir / name)) << format;
  }
}

TEST(OutputFiles, WholeFileWritersDoNotFollowLinksEither) {
  ScratchDir dir;
  const std::string victim = dir / "victim.txt";
  iotest::write_text(victim, "keep me");
  qifsim::Network net = make_net();
  const qifsim::Observer obs = net.run(drive(50, 6), quiet());
  for (const std::string name : {"out.npy", "out.csv", "qif.v.npy", "steps.npy", "net.ckpt"}) {
    fs::create_symlink(victim, dir / name);
  }
  obs.save(dir.str(), {"npy", "csv"});
  obs.write_npy("out", dir / "out.npy");
  net.save_checkpoint(dir / "net.ckpt");
  EXPECT_EQ(iotest::read_text(victim), "keep me");
  for (const std::string name : {"out.npy", "out.csv", "qif.v.npy", "steps.npy", "net.ckpt"}) {
    EXPECT_FALSE(fs::is_symlink(dir / name)) << name;
  }
  // The checkpoint written through the new path loads.
  qifsim::Network again = make_net();
  again.load_checkpoint(dir / "net.ckpt");
  EXPECT_EQ(again.get_var("qif", "v"), net.get_var("qif", "v"));
}

TEST(OutputFiles, AnOutputFolderThatIsALinkIsRefusedUnlessAllowed) {
  ScratchDir dir;
  fs::create_directory(dir / "real");
  fs::create_directory_symlink(dir / "real", dir / "link");
  qifsim::Network net = make_net();
  qifsim::Observer obs(1e-3, qifsim::RecordSpec{true, false, {}});
  const std::string e = error_of([&] { qifsim::attach_file_sinks(obs, dir / "link", {"npy"}); });
  EXPECT_TRUE(contains(e, "is a symbolic link") && contains(e, "real")) << e;
  EXPECT_TRUE(fs::is_empty(dir / "real"));
  const auto sinks = qifsim::attach_file_sinks(obs, dir / "link", {"npy"}, {}, /*allow_symlink=*/true);
  net.run(drive(20, 6), quiet(), obs);
  qifsim::finish_file_sinks(sinks, obs);
  EXPECT_TRUE(fs::exists(dir / "real/out.npy"));
}

TEST(OutputFiles, AFolderInTheWayOfAFileIsAClearError) {
  ScratchDir dir;
  fs::create_directories(dir / "out/out.npy");
  qifsim::Network net = make_net();
  qifsim::Observer obs(1e-3, qifsim::RecordSpec{true, false, {}});
  const auto sinks = qifsim::attach_file_sinks(obs, dir / "out", {"npy"});
  const std::string e = error_of([&] { net.run(drive(20, 6), quiet(), obs); });
  EXPECT_TRUE(contains(e, "out.npy") && contains(e, "folder of that name")) << e;
  // No temporary file is left behind.
  for (const auto& entry : fs::directory_iterator(dir / "out")) {
    EXPECT_EQ(entry.path().filename().string().find(".part"), std::string::npos) << entry.path();
  }
}

// ---- A full disk: an error naming the file, not a crash ------------------------------------

// A file size limit makes every write past 64 KiB fail with EFBIG, as a full disk fails with
// ENOSPC (SIGXFSZ ignored, as on a full disk there is no signal). HDF5 1.10 used to crash at
// exit after such a failure (SIGSEGV in H5F__close_cb).
TEST(FullDisk, EveryFormatReportsTheFailedWriteAndTheProcessEndsCleanly) {
  for (const auto& format : formats()) {
    ScratchDir dir;
    const int status = in_child([&] {
      std::signal(SIGXFSZ, SIG_IGN);
      struct rlimit limit {64 * 1024, 64 * 1024};
      if (setrlimit(RLIMIT_FSIZE, &limit) != 0) return 90;
      qifsim::Network net = make_net(50);
      qifsim::Observer obs(1e-3, qifsim::RecordSpec{true, false, {{"qif", "v", false}}});
      obs.set_keep_in_memory(false);
      const auto sinks = qifsim::attach_file_sinks(obs, dir / "out", {format});
      qifsim::RunOptions o = quiet();
      o.batch_samples = 100;
      try {
        net.run(drive(5000, 50), o, obs);
        qifsim::finish_file_sinks(sinks, obs);
      } catch (const qifsim::IoError& e) {
        try {
          qifsim::finish_file_sinks(sinks, obs);  // completing after the error must not crash either
        } catch (const qifsim::IoError&) {
        }
        const std::string what = e.what();
        return contains(what, file_of(format) == "out.npy" ? ".npy" : file_of(format) == "out.csv" ? ".csv" : ".h5") &&
                       contains(what, std::strerror(EFBIG))
                   ? 0
                   : 2;
      }
      return 1;  // no error: the limit was not reached
    });
    EXPECT_EQ(status, 0) << format << " (1: no error, 2: wrong message, >128: killed by a signal)";
  }
}

// Spike events on a full disk: the failed write named, the process intact, and (NPY) the file
// still loads with the spikes its header claims.
TEST(FullDisk, SpikeEventsReportTheFailedWriteAndLeaveAValidFile) {
  for (const auto& format : formats()) {
    ScratchDir dir;
    const int status = in_child([&] {
      std::signal(SIGXFSZ, SIG_IGN);
      struct rlimit limit {64 * 1024, 64 * 1024};
      if (setrlimit(RLIMIT_FSIZE, &limit) != 0) return 90;
      qifsim::Network net = make_net(50);
      qifsim::Observer obs(1e-3, qifsim::RecordSpec{false, false, {}, {"qif"}});
      obs.set_keep_in_memory(false);
      const auto sinks = qifsim::attach_file_sinks(obs, dir / "out", {format});
      qifsim::RunOptions o = quiet();
      o.sampling_steps = 10;  // events handed over every 10 steps: the file grows to the limit
      o.batch_samples = 1;
      o.record_spikes = {"qif"};
      try {
        net.run(Matrix(20000, 50, 400.0), o, obs);
        qifsim::finish_file_sinks(sinks, obs);
      } catch (const qifsim::IoError& e) {
        try {
          qifsim::finish_file_sinks(sinks, obs);
        } catch (const qifsim::IoError&) {
        }
        const std::string what = e.what();
        const bool named = contains(what, format == "hdf5" ? ".h5" : "qif.spikes." + format);
        return named && contains(what, std::strerror(EFBIG)) ? 0 : 2;
      }
      return 1;  // no error: the limit was not reached
    });
    EXPECT_EQ(status, 0) << format << " (1: no error, 2: wrong message, >128: killed by a signal)";
    if (format == "npy") {  // what the header claims is there, whole rows of (step, neuron)
      const auto a = qifsim::read_npy(dir / "out/qif.spikes.npy");
      ASSERT_EQ(a.shape.size(), 2u);
      EXPECT_EQ(a.shape[1], 2);
      EXPECT_GT(a.shape[0], 0);
      EXPECT_EQ(static_cast<std::int64_t>(fs::file_size(dir / "out/qif.spikes.npy")), 128 + a.shape[0] * 16);
    }
  }
}

// ---- Checkpoints: every byte read from the file is checked -------------------------------

struct Checkpoint {
  std::string bytes;
  std::size_t next_step_at = 0;  // offset of the interrupted run's next step
  std::size_t y_sum_length_at = 0;
  std::size_t tau_values_at = 0;  // offset of the first tau value
  std::size_t v_reset_values_at = 0;
  std::size_t window_at = 0;  // steps summed since the last sample
};

// Format 2 ends with the XXH3-64 of every byte before it (host/io/checkpoint.cpp): after an
// edit, the tests below seal the file again, so that what is checked is the value itself.
void reseal(std::string& bytes) {
  const std::uint64_t sum = XXH3_64bits(bytes.data(), bytes.size() - 8);
  std::memcpy(&bytes[bytes.size() - 8], &sum, 8);
}

// A checkpoint of an interrupted run of make_net(6), with the offsets of a few fields,
// computed from the documented layout (host/io/checkpoint.cpp): magic 8, version 4, the
// "network" section's tag (8 + 7) and length 8, then dt 8,
// precision 4, node count 8, per node name (8 + length) kind 4 size 8, step 8, flag 1,
// run: steps 8 sampling 8 cutoff 8 next 8, y_sum (8 + 8 k), loss sums 16, window 8, loss
// steps 8; then per population v, s, x, eta, tau, k, tau_s, v_threshold, v_reset, alpha,
// tau_x, each 8 + 8 N; then the observer flag.
Checkpoint interrupted_checkpoint(const std::string& path) {
  qifsim::Network net = make_net(6);
  qifsim::RunOptions o = quiet();
  o.stop_at_step = 300;
  o.sampling_steps = 4;
  qifsim::Observer obs(1e-3, qifsim::RecordSpec{true, false, o.record_vars});
  net.run(drive(1000, 6), o, obs);
  net.save_checkpoint(path, &obs);
  Checkpoint c;
  c.bytes = iotest::read_text(path);
  const std::size_t header = 8 + 4 + (8 + 7) + 8 + 8 + 4 + 8 + (8 + 3) + 4 + 8 + 8 + 1;
  c.next_step_at = header + 8 * 3;
  c.y_sum_length_at = c.next_step_at + 8;
  const std::size_t per_array = 8 + 8 * 6;
  const std::size_t populations_at = c.y_sum_length_at + 8 + 8 * 6 + 16 + 16;
  c.window_at = populations_at - 16;                         // window, loss steps, then the populations
  c.tau_values_at = populations_at + 4 * per_array + 8;     // v, s, x, eta, then tau's values
  c.v_reset_values_at = populations_at + 8 * per_array + 8;  // ..., k, tau_s, v_threshold, then v_reset
  return c;
}

template <class T>
void put(std::string& bytes, std::size_t at, T value) {
  std::memcpy(&bytes[at], &value, sizeof(T));
}

std::string load_error(const std::string& path, std::string bytes, bool seal = true) {
  if (seal && bytes.size() >= 8) reseal(bytes);
  iotest::write_text(path, bytes);
  qifsim::Network net = make_net(6);
  qifsim::Observer obs(1e-3, qifsim::RecordSpec{true, false, quiet().record_vars});
  return error_of([&] { net.load_checkpoint(path, &obs); });
}

// A crafted checkpoint (sealed again, so only the string is wrong) whose node name holds a
// terminal escape: refused naming the character as hex, never echoing it into a message.
TEST(Checkpoint, AControlCharacterInAStringIsRefusedNotEchoed) {
  ScratchDir dir;
  Checkpoint c = interrupted_checkpoint(dir / "a.ckpt");
  const std::size_t name_at = 8 + 4 + (8 + 7) + 8 + 8 + 4 + 8 + 8;  // the first node's name: "qif"
  ASSERT_EQ(c.bytes.substr(name_at, 3), "qif");
  c.bytes[name_at] = '\x1b';
  const std::string e = load_error(dir / "b.ckpt", c.bytes);
  EXPECT_TRUE(contains(e, "control character 0x1b")) << e;
  EXPECT_EQ(e.find('\x1b'), std::string::npos) << "the escape reached the message";
}

TEST(Checkpoint, TheLayoutAssumedByTheseTestsHolds) {
  ScratchDir dir;
  const Checkpoint c = interrupted_checkpoint(dir / "a.ckpt");
  std::int64_t next = 0, y_len = 0;
  double tau = 0.0, v_reset = 0.0;
  std::memcpy(&next, &c.bytes[c.next_step_at], 8);
  std::memcpy(&y_len, &c.bytes[c.y_sum_length_at], 8);
  std::memcpy(&tau, &c.bytes[c.tau_values_at], 8);
  std::memcpy(&v_reset, &c.bytes[c.v_reset_values_at], 8);
  EXPECT_EQ(next, 300);
  EXPECT_EQ(y_len, 6);
  EXPECT_EQ(tau, 1.0);
  EXPECT_EQ(v_reset, -100.0);
  EXPECT_EQ(load_error(dir / "b.ckpt", c.bytes), "<no error>");
}

TEST(Checkpoint, ANegativePositionIsRefusedNotRun) {
  ScratchDir dir;
  Checkpoint c = interrupted_checkpoint(dir / "a.ckpt");
  put<std::int64_t>(c.bytes, c.next_step_at, -1000000000);
  const std::string e = load_error(dir / "b.ckpt", c.bytes);
  EXPECT_TRUE(contains(e, "corrupt interrupted run") && contains(e, "-1000000000")) << e;
}

// The window follows from the position and the schedule (stopped at step 300, sampling 4:
// steps 297..299 since the sample at 296); any other count would average the next sample
// over the wrong steps.
TEST(Checkpoint, AWindowThatDoesNotFitThePositionIsRefused) {
  ScratchDir dir;
  Checkpoint c = interrupted_checkpoint(dir / "a.ckpt");
  std::int64_t window = -1;
  std::memcpy(&window, &c.bytes[c.window_at], 8);
  EXPECT_EQ(window, 3);
  for (const std::int64_t bad : {0, 2, 4}) {
    std::string bytes = c.bytes;
    put<std::int64_t>(bytes, c.window_at, bad);
    const std::string e = load_error(dir / "b.ckpt", bytes);
    EXPECT_TRUE(contains(e, "window of " + std::to_string(bad) + " steps") && contains(e, "gives 3")) << e;
  }
}

TEST(Checkpoint, InvalidParametersAreRefused) {
  ScratchDir dir;
  Checkpoint c = interrupted_checkpoint(dir / "a.ckpt");
  std::string bytes = c.bytes;
  put<double>(bytes, c.tau_values_at, -1.0);
  std::string e = load_error(dir / "b.ckpt", bytes);
  EXPECT_TRUE(contains(e, "not valid") && contains(e, "tau")) << e;
  bytes = c.bytes;
  put<double>(bytes, c.v_reset_values_at, 500.0);
  e = load_error(dir / "b.ckpt", bytes);
  EXPECT_TRUE(contains(e, "v_reset") && contains(e, "below v_threshold")) << e;
  bytes = c.bytes;
  put<double>(bytes, c.tau_values_at, std::numeric_limits<double>::quiet_NaN());
  e = load_error(dir / "b.ckpt", bytes);
  EXPECT_TRUE(contains(e, "not finite")) << e;
}

// A 5 KB file whose length field says 4e8 values used to allocate 3.2 GB before noticing.
// In a child whose address space is capped at 1 GiB, that allocation would fail with
// bad_alloc; the check against the bytes left in the file comes first.
TEST(Checkpoint, ALengthFieldIsCheckedAgainstTheFileBeforeAllocating) {
  ScratchDir dir;
  Checkpoint c = interrupted_checkpoint(dir / "a.ckpt");
  put<std::uint64_t>(c.bytes, c.y_sum_length_at, 400000000);
  reseal(c.bytes);
  iotest::write_text(dir / "b.ckpt", c.bytes);
  const int status = in_child([&] {
#ifndef QIFSIM_TEST_ASAN  // the sanitizer reserves terabytes of address space for itself
    // 1 GiB beyond the address space mapped now (the CUDA libraries alone map several
    // hundred MB): far less than the 3.2 GB the length field claims.
    std::ifstream statm("/proc/self/statm");
    std::uint64_t pages = 0;
    statm >> pages;
    const std::uint64_t cap = pages * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE)) + (std::uint64_t{1} << 30);
    struct rlimit limit {cap, cap};
    if (setrlimit(RLIMIT_AS, &limit) != 0) return 90;
#endif
    qifsim::Network net = make_net(6);
    try {
      net.load_checkpoint(dir / "b.ckpt");
    } catch (const qifsim::IoError& e) {
      return contains(e.what(), "3200000000 bytes follow") ? 0 : 2;
    } catch (const std::bad_alloc&) {
      return 3;
    }
    return 1;
  });
  EXPECT_EQ(status, 0) << "1: accepted, 2: other message, 3: allocated first";
}

// Every prefix of a checkpoint, and every single flipped byte, is refused with a qifsim
// error or (for bytes that are only values) loaded; nothing crashes or hangs.
TEST(Checkpoint, EveryTruncationAndEveryFlippedByteIsHandled) {
  ScratchDir dir;
  const Checkpoint c = interrupted_checkpoint(dir / "a.ckpt");
  for (std::size_t n = 0; n < c.bytes.size(); n += 7) {
    const std::string e = load_error(dir / "b.ckpt", c.bytes.substr(0, n), false);
    EXPECT_NE(e, "<no error>") << "a prefix of " << n << " bytes loaded";
  }
  for (std::size_t i = 0; i < c.bytes.size(); ++i) {
    std::string bytes = c.bytes;
    bytes[i] = static_cast<char>(bytes[i] ^ 0x5a);
    // As it is, the checksum refuses it; sealed again, the structure is checked: a
    // qifsim::Error or a load, anything else fails the test.
    const std::string e = load_error(dir / "b.ckpt", bytes, false);
    if (i >= 12) EXPECT_TRUE(contains(e, "checksum")) << "byte " << i << ": " << e;  // after magic and version
    else EXPECT_NE(e, "<no error>") << "byte " << i;
    if (i + 8 < bytes.size()) load_error(dir / "b.ckpt", bytes, true);
  }
}

// A checkpoint says which weights it was saved with; loading it into a network with other
// weights would continue another run, and is refused naming the edge (unless allowed).
TEST(Checkpoint, OtherWeightsAreRefusedNamingThem) {
  ScratchDir dir;
  qifsim::Network net = make_net(6);
  net.save_checkpoint(dir / "a.ckpt");
  qifsim::Network other(1e-3, qifsim::Backend::Cpu);
  qifsim::QifPopulation p = coupled(6);
  Matrix J = p.weights.dense();
  J(2, 3) += 0.01;
  p.weights = J;
  other.add_population("qif", p);
  other.compile();
  const std::string e = error_of([&] { other.load_checkpoint(dir / "a.ckpt"); });
  EXPECT_TRUE(contains(e, "other weights") && contains(e, "weights of 'qif'")) << e;
  qifsim::CheckpointLoad how;
  how.allow_changes = true;
  EXPECT_EQ(error_of([&] { other.load_checkpoint(dir / "a.ckpt", how); }), "<no error>");
}

// ---- One thread at a time ----------------------------------------------------------------

// While the run of another thread is held inside its first batch (RunGate), every call is
// refused; the run then stops at its next step boundary and resumes as if nothing happened.
TEST(Threads, ASecondThreadIsRefusedWhileARunIsInProgressAndChangesNothing) {
  const Matrix x = drive(20000, 6);
  qifsim::RunOptions o = quiet();
  o.record_vars = {{"qif", "v", true}};
  o.sampling_steps = 10;
  o.batch_samples = 100;  // the first batch after 1000 steps
  qifsim::Network ref = make_net();
  const qifsim::Observer whole = ref.run(x, o);

  qifsim::Network net = make_net();
  std::atomic<bool> stop{false};
  o.stop = &stop;
  qifsim::Observer obs(1e-3, qifsim::RecordSpec{true, false, o.record_vars});
  auto gate = std::make_shared<qtest::RunGate>();
  obs.add_sink(gate);
  std::thread runner([&] { net.run(x, o, obs); });
  gate->wait_reached();
  std::vector<std::string> errors;
  errors.push_back(error_of([&] { net.input_width(); }));
  errors.push_back(error_of([&] { net.add_population("late", coupled(3)); }));
  errors.push_back(error_of([&] { net.set_var("qif", "eta", {3.0}); }));
  errors.push_back(error_of([&] { net.get_var("qif", "v"); }));
  errors.push_back(error_of([&] { net.reset(); }));
  errors.push_back(error_of([&] { net.run(x, o); }));
  errors.push_back(error_of([&] { net.compile(); }));
  stop = true;
  gate->open();
  runner.join();
  for (const auto& e : errors) EXPECT_TRUE(contains(e, "in use by another thread")) << e;
  // Nothing the refused calls asked for happened: the run continues to the same result.
  ASSERT_TRUE(net.interrupted());
  EXPECT_LT(net.resume_step(), x.rows);
  o.stop = nullptr;
  o.resume = true;
  net.run(x, o, obs);
  ASSERT_EQ(obs.steps(), whole.steps());
  EXPECT_EQ(obs.to_matrix("qif.v").data, whole.to_matrix("qif.v").data);
  EXPECT_THROW(net.node_size("late"), qifsim::InvalidArgument);
}

TEST(Threads, NetworksOfTheirOwnRunInParallel) {
  const Matrix x = drive(20000, 6);
  qifsim::Network ref = make_net();
  const qifsim::Observer whole = ref.run(x, quiet());
  std::vector<qifsim::Observer> results(4, qifsim::Observer(1e-3, qifsim::RecordSpec{true, false, quiet().record_vars}));
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] {
      qifsim::Network net = make_net();
      net.run(x, quiet(), results[i]);
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : results) EXPECT_EQ(r.to_matrix("qif.v").data, whole.to_matrix("qif.v").data);
}

// ---- Inputs fetched piece by piece --------------------------------------------------------

TEST(InputSource, RunsBitForBitAsTheArrayAndFetchesInOrder) {
  const Matrix x = drive(30000, 6);
  qifsim::RunOptions o = quiet();
  o.sampling_steps = 3;
  qifsim::Network a = make_net();
  const qifsim::Observer whole = a.run(x, o);

  std::vector<std::pair<std::int64_t, std::int64_t>> calls;
  qifsim::InputSource src;
  src.rows = x.rows;
  src.cols = x.cols;
  src.fetch = [&](std::int64_t first, std::int64_t count, double* dst) {
    calls.emplace_back(first, count);
    std::copy(x.row(first), x.row(first) + count * x.cols, dst);
  };
  qifsim::Network b = make_net();
  qifsim::Observer obs(1e-3, qifsim::RecordSpec{true, false, o.record_vars});
  b.run(src, o, obs);
  EXPECT_EQ(obs.to_matrix("out").data, whole.to_matrix("out").data);
  EXPECT_EQ(obs.to_matrix("qif.v").data, whole.to_matrix("qif.v").data);
  ASSERT_FALSE(calls.empty());
  std::int64_t next = 0;
  for (const auto& [first, count] : calls) {
    EXPECT_EQ(first, next);
    EXPECT_GT(count, 0);
    next = first + count;
  }
  EXPECT_EQ(next, x.rows);
}

TEST(InputSource, ANonFiniteValueInALaterPieceStopsTheRunKeepingTheSamples) {
  Matrix x = drive(300000, 6);  // several pieces of 4 MiB
  x(250000, 2) = std::numeric_limits<double>::infinity();
  qifsim::InputSource src;
  src.rows = x.rows;
  src.cols = x.cols;
  src.fetch = [&](std::int64_t first, std::int64_t count, double* dst) {
    std::copy(x.row(first), x.row(first) + count * x.cols, dst);
  };
  qifsim::Network net = make_net();
  qifsim::RunOptions o = quiet();
  o.record_vars = {};
  qifsim::Observer obs(1e-3, qifsim::RecordSpec{true, false, {}});
  const std::string e = error_of([&] { net.run(src, o, obs); });
  EXPECT_TRUE(contains(e, "input (250000, 2) is not finite")) << e;
  EXPECT_GT(obs.samples(), 0);
  EXPECT_LE(obs.samples(), 250000);
}

// ---- Sizes one digit too long --------------------------------------------------------------

TEST(Memory, AnEngineThatCannotFitIsRefusedAtCompileNamingItsLargestPart) {
  qifsim::Network net(1e-3, qifsim::Backend::Cpu);
  qifsim::QifPopulation big;
  big.n = std::int64_t{1} << 40;  // scalar parameters: nothing of size N exists before compile
  net.add_population("big", big);
  const std::string e = error_of([&] { net.compile(); });
  EXPECT_TRUE(contains(e, "population 'big'") && contains(e, "1099511627776 neurons") && contains(e, "available"))
      << e;
  EXPECT_FALSE(net.compiled());
}

TEST(Memory, WeightsWhoseSizeOverflowsAreRefusedNotDropped) {
  qifsim::Network net(1e-3, qifsim::Backend::Cpu);
  qifsim::QifPopulation p;
  p.n = std::int64_t{1} << 32;
  Matrix J;
  J.rows = p.n;  // N x N claimed, N^2 = 2^64 overflows to 0 values
  J.cols = p.n;
  p.weights = J;
  const std::string e = error_of([&] { net.add_population("p", p); });
  EXPECT_TRUE(contains(e, "population 'p': weights") && contains(e, "more than any array can hold")) << e;
}

}  // namespace
