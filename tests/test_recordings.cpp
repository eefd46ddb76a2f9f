// tests/test_recordings.cpp - recordings that survive: files valid at every batch, a folder
// owned by its run (manifest, lock, inputs kept), checkpoints that know what they resume, and
// a resumed recording equal to an uninterrupted one bit for bit.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "io_test_util.hpp"
#include "qifsim/config.hpp"
#include "qifsim/qifsim.hpp"
#include "run_gate.hpp"

namespace {

namespace fs = std::filesystem;
using iotest::contains_all;
using iotest::ScratchDir;

// A small network with spikes, its output and a per-neuron variable recorded, batches of a
// few samples so that a run hands over many.
std::string config_text(std::int64_t steps, const std::string& formats = "[\"npy\", \"csv\"]",
                        const std::string& extra_record = "") {
  return "dt = 1e-3\nsteps = " + std::to_string(steps) +
         "\n[[population]]\nname = \"qif\"\nn = 8\n"
         "weights = { kind = \"uniform\", low = 0.0, high = 0.4, seed = 5 }\n"
         "eta = { kind = \"lorentzian\", center = -5.0, width = 1.0 }\n"
         "[input]\nvalue = 12.0\n"
         "[record]\nvars = [[\"qif\", \"v\"], [\"qif\", \"s\", true]]\nsampling_steps = 3\ncutoff = 2\n"
         "batch_samples = 7\nformats = " +
         formats + "\nout_dir = \"out\"\n" + extra_record;
}

// The config in dir/run.toml, its output folder dir/out (or dir/NAME for a set
// "record.out_dir=NAME").
qifsim::RunConfig make_config(const ScratchDir& dir, std::int64_t steps, const std::string& formats = "[\"npy\", \"csv\"]",
                              std::vector<std::string> sets = {}, const std::string& extra = "") {
  const std::string path = dir / "run.toml";
  iotest::write_text(path, config_text(steps, formats, extra));
  bool named = false;
  for (auto& s : sets) {
    if (s.rfind("record.out_dir=", 0) == 0) {
      s = "record.out_dir=\"" + (dir / s.substr(15)) + "\"";
      named = true;
    }
  }
  if (!named) sets.push_back("record.out_dir=\"" + (dir / "out") + "\"");
  qifsim::RunConfig cfg = qifsim::load_config(path, sets);
  cfg.options.progress = qifsim::Progress::Off;
  return cfg;
}

// A run of `steps` steps into dir/NAME (npy), stopped before step `stop`: interrupted, with a
// checkpoint to resume from.
void stop_a_run_in(const ScratchDir& dir, const std::string& name, std::int64_t steps, std::int64_t stop) {
  qifsim::RunConfig part = make_config(dir, steps, "[\"npy\"]", {"record.out_dir=" + name});
  part.options.stop_at_step = stop;
  qifsim::run_config(part, false);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "<no error>";
}

std::size_t count_lines(const std::string& text) {
  std::size_t n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

// Checks the files on disk each time a batch arrives, before the file sinks write it: every
// NPY file is valid and holds exactly the rows its header claims (those of the batches
// before), every CSV file ends on a whole line after as many rows.
class FileInspector : public qifsim::SampleSink {
 public:
  explicit FileInspector(std::string dir) : dir_(std::move(dir)) {}
  void write(const qifsim::Observer&, std::int64_t count, const std::int64_t*,
             const std::vector<const double*>&) override {
    check();
    rows_ += count;
    ++batches_;
  }
  void check() {
    for (const char* name : {"out", "qif.v", "qif.s", "steps", "time"}) {
      const iotest::NpyFile f = iotest::read_npy_file(dir_ + "/" + name + ".npy");  // throws unless size == header
      if (f.shape.empty() || f.shape[0] != rows_) ++mismatches_;
    }
    for (const char* name : {"out", "qif.v", "qif.s"}) {
      const std::string text = iotest::read_text(dir_ + "/" + name + ".csv");
      if (text.empty() || text.back() != '\n' || count_lines(text) != static_cast<std::size_t>(rows_) + 1) ++mismatches_;
    }
  }
  std::int64_t rows_ = 0;
  int batches_ = 0;
  int mismatches_ = 0;

 private:
  std::string dir_;
};

TEST(Recordings, EveryFileIsValidUpToTheRowsItClaimsAfterEveryBatch) {
  ScratchDir dir;
  qifsim::RunConfig cfg = make_config(dir, 2000);
  qifsim::Observer obs = qifsim::config_observer(cfg, false);
  auto inspector = std::make_shared<FileInspector>(cfg.out_dir);
  obs.add_sink(inspector);  // before the file sinks: it sees the files as the batch before left them
  const qifsim::RunReport report = qifsim::run_config_into(cfg, cfg.input_source(), obs);
  inspector->check();  // and as the run left them
  EXPECT_EQ(inspector->rows_, qifsim::sample_count(2000, 3, 2));
  EXPECT_GT(inspector->batches_, 50);
  EXPECT_EQ(inspector->mismatches_, 0);
  EXPECT_EQ(report.samples, inspector->rows_);
}

// Two runs of the same config, the second stopped at a step and resumed from its folder
// alone: its files equal the first's bit for bit, for every format; with event coupling too
// (the checkpoint carries its J s and last spikes).
TEST(Recordings, AStoppedRunResumedFromItsFolderEqualsAnUninterruptedOne) {
  ScratchDir dir;
  const std::string formats = qifsim::hdf5_supported() ? "[\"npy\", \"csv\", \"hdf5\"]" : "[\"npy\", \"csv\"]";
  for (const std::string coupling : {"auto", "events"}) {
    SCOPED_TRACE("coupling " + coupling);
    const std::string set = "coupling=\"" + coupling + "\"";
    qifsim::RunConfig whole = make_config(dir, 3000, formats, {"record.out_dir=whole", set});
    qifsim::run_config(whole, false);
    for (const std::int64_t stop : {1, 700, 1501, 2999}) {
      qifsim::RunConfig part = make_config(dir, 3000, formats, {"record.out_dir=part", set});
      part.options.stop_at_step = stop;
      const qifsim::ConfigRun first = qifsim::run_config(part, false);
      ASSERT_TRUE(first.interrupted()) << stop;
      EXPECT_EQ(first.next_step, stop);
      EXPECT_EQ(first.samples, qifsim::sample_count(stop, 3, 2));
      EXPECT_TRUE(fs::exists(dir / "part/qifsim.ckpt"));
      EXPECT_NE(iotest::read_text(dir / "part/manifest.json").find("\"status\": \"interrupted\""), std::string::npos);
      qifsim::RunConfig rest = qifsim::resume_config(dir / "part");
      rest.options.progress = qifsim::Progress::Off;
      const qifsim::ConfigRun second = qifsim::run_config(rest, false);
      EXPECT_FALSE(second.interrupted());
      EXPECT_EQ(second.first_step, stop);
      EXPECT_EQ(second.samples, qifsim::sample_count(3000, 3, 2));
      for (const char* name : {"out.npy", "qif.v.npy", "qif.s.npy", "steps.npy", "time.npy", "out.csv", "qif.v.csv",
                               "qif.s.csv"}) {
        EXPECT_EQ(iotest::read_text(dir / (std::string("part/") + name)), iotest::read_text(dir / (std::string("whole/") + name)))
            << name << " after a stop at step " << stop;
      }
      EXPECT_FALSE(fs::exists(dir / "part/qifsim.ckpt")) << "a complete run leaves no checkpoint";
      EXPECT_NE(iotest::read_text(dir / "part/manifest.json").find("\"status\": \"complete\""), std::string::npos);
    }
  }
}

// Periodic checkpoints stop and continue the run in the same process: the recording is the
// uninterrupted one, and a checkpoint was on disk while the run went.
TEST(Recordings, PeriodicCheckpointsChangeNothingInTheRecording) {
  ScratchDir dir;
  qifsim::RunConfig whole = make_config(dir, 60000, "[\"npy\"]", {"record.out_dir=whole", "record.checkpoint_seconds=0"});
  qifsim::run_config(whole, false);
  qifsim::RunConfig often = make_config(dir, 60000, "[\"npy\"]", {"record.out_dir=often", "record.checkpoint_seconds=0.01"});
  qifsim::Observer obs = qifsim::config_observer(often, false);
  struct Watch : qifsim::SampleSink {
    std::string ckpt;
    int seen = 0;
    void write(const qifsim::Observer&, std::int64_t, const std::int64_t*, const std::vector<const double*>&) override {
      if (fs::exists(ckpt)) {
        ++seen;
      } else if (seen == 0) {
        // Until the first checkpoint, each batch (7 samples) takes at least 1 ms: the 0.01 s
        // period comes due inside the run however fast the machine steps.
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
  };
  auto watch = std::make_shared<Watch>();
  watch->ckpt = dir / "often/qifsim.ckpt";
  obs.add_sink(watch);
  qifsim::run_config_into(often, often.input_source(), obs);
  EXPECT_GT(watch->seen, 0) << "no checkpoint was written while the run went";
  for (const char* name : {"out.npy", "qif.v.npy", "qif.s.npy", "steps.npy"}) {
    EXPECT_EQ(iotest::read_text(dir / (std::string("often/") + name)), iotest::read_text(dir / (std::string("whole/") + name)))
        << name;
  }
}

// After a kill, the files may hold samples the checkpoint does not count: the resumed run
// cuts them off. Files holding fewer than it counts are refused, naming the file.
TEST(Recordings, ResumeCutsFilesToTheCheckpointAndRefusesShortOnes) {
  ScratchDir dir;
  qifsim::RunConfig whole = make_config(dir, 1500, "[\"npy\", \"csv\"]", {"record.out_dir=whole"});
  qifsim::run_config(whole, false);
  qifsim::RunConfig part = make_config(dir, 1500, "[\"npy\", \"csv\"]", {"record.out_dir=part"});
  part.options.stop_at_step = 600;
  qifsim::run_config(part, false);
  // What a run killed after the checkpoint leaves: more rows (the header counts them too)
  // and more lines.
  qifsim::RunConfig longer = make_config(dir, 1500, "[\"npy\", \"csv\"]", {"record.out_dir=longer"});
  longer.options.stop_at_step = 900;
  qifsim::run_config(longer, false);
  for (const char* name : {"out.npy", "qif.v.npy", "qif.s.npy", "steps.npy", "time.npy", "out.csv", "qif.v.csv", "qif.s.csv"}) {
    fs::copy_file(dir / (std::string("longer/") + name), dir / (std::string("part/") + name),
                  fs::copy_options::overwrite_existing);
  }
  qifsim::RunConfig rest = qifsim::resume_config(dir / "part");
  rest.options.progress = qifsim::Progress::Off;
  qifsim::run_config(rest, false);
  for (const char* name : {"out.npy", "qif.s.npy", "time.npy", "out.csv", "qif.s.csv"}) {
    EXPECT_EQ(iotest::read_text(dir / (std::string("part/") + name)), iotest::read_text(dir / (std::string("whole/") + name)))
        << name;
  }
  // Shorter: a file cut below what the checkpoint counts.
  qifsim::RunConfig again = make_config(dir, 1500, "[\"npy\"]", {"record.out_dir=short"});
  again.options.stop_at_step = 900;
  qifsim::run_config(again, false);
  fs::copy_file(dir / "part/out.npy", dir / "short/out.npy", fs::copy_options::overwrite_existing);  // complete...
  qifsim::RunConfig early = make_config(dir, 1500, "[\"npy\"]", {"record.out_dir=early"});
  early.options.stop_at_step = 300;
  qifsim::run_config(early, false);
  fs::copy_file(dir / "early/qif.v.npy", dir / "short/qif.v.npy", fs::copy_options::overwrite_existing);
  qifsim::RunConfig resume_short = qifsim::resume_config(dir / "short");
  const std::string e = error_of([&] { qifsim::run_config(resume_short, false); });
  EXPECT_TRUE(contains_all(e, {"qif.v.npy", "samples", "checkpoint"})) << e;
}

// A resume continues only files that still hold the rows the run wrote (the checkpoint keeps
// a digest of each series' rows): another array of the same shape, renumbered steps or an
// edited CSV line is refused naming the file, and the manifest stays as it was.
TEST(Recordings, AResumeRefusesFilesWhoseRowsWereReplaced) {
  ScratchDir dir;
  const auto flip = [](std::string& bytes, std::size_t at) { bytes[at] = static_cast<char>(bytes[at] ^ 0x01); };
  struct Case {
    const char* file;
    std::function<void(std::string&)> edit;
  };
  const std::vector<Case> cases = {
      {"out.npy", [&](std::string& b) { flip(b, 128 + 8 * 3); }},          // a value of the first row (header: 128 bytes)
      {"qif.v.npy", [&](std::string& b) { flip(b, b.size() - 2); }},      // a value of the last row kept
      {"steps.npy", [&](std::string& b) { flip(b, 128); }},               // the first sample's step, renumbered
      {"time.npy", [&](std::string& b) { flip(b, 128 + 8); }},
      {"qif.s.csv", [&](std::string& b) {                                 // a digit of the first line's mean s
         const std::size_t second = b.find('\n', b.find('\n') + 1);
         b[second - 1] = b[second - 1] == '1' ? '2' : '1';
       }},
      {"out.csv", [&](std::string& b) {                                   // the first line's step number
         const std::size_t first = b.find('\n') + 1;
         b[first] = b[first] == '1' ? '2' : '1';
       }},
  };
  for (const Case& c : cases) {
    const std::string name = std::string("part_") + c.file;
    qifsim::RunConfig part = make_config(dir, 1500, "[\"npy\", \"csv\"]", {"record.out_dir=" + name});
    part.options.stop_at_step = 700;
    qifsim::run_config(part, false);
    const std::string path = dir / (name + "/" + c.file);
    std::string bytes = iotest::read_text(path);
    c.edit(bytes);
    iotest::write_text(path, bytes);
    const std::string manifest = iotest::read_text(dir / (name + "/manifest.json"));
    qifsim::RunConfig rest = qifsim::resume_config(dir / name);
    rest.options.progress = qifsim::Progress::Off;
    const std::string e = error_of([&] { qifsim::run_config(rest, false); });
    EXPECT_TRUE(contains_all(e, {c.file, "not the ones this run recorded"})) << c.file << ": " << e;
    EXPECT_EQ(iotest::read_text(dir / (name + "/manifest.json")), manifest) << c.file;
  }
  // Left alone, the same files resume (a digest that cannot fail would refuse nothing above).
  qifsim::RunConfig part = make_config(dir, 1500, "[\"npy\", \"csv\"]", {"record.out_dir=intact"});
  part.options.stop_at_step = 700;
  qifsim::run_config(part, false);
  qifsim::RunConfig rest = qifsim::resume_config(dir / "intact");
  rest.options.progress = qifsim::Progress::Off;
  EXPECT_FALSE(qifsim::run_config(rest, false).interrupted());
}

// A recorded spike is spike / dt; files of a run checkpointed before that (no "spike = 1/dt"
// entry in its checkpoint) hold 0/1 and are not continued in the new scale.
TEST(Recordings, AResumeOfSpikeFilesInTheOldScaleIsRefused) {
  ScratchDir dir;
  for (const bool old_scale : {true, false}) {
    const std::string name = old_scale ? "old" : "new";
    qifsim::RunConfig part = make_config(dir, 900, "[\"npy\"]", {"record.out_dir=" + name, "record.vars=[[\"qif\", \"spike\", true]]"});
    part.options.stop_at_step = 300;
    qifsim::run_config(part, false);
    const std::string ckpt = dir / (name + "/qifsim.ckpt");
    qifsim::CheckpointInfo info = qifsim::read_checkpoint_info(ckpt);
    bool had = false;
    for (auto it = info.details.begin(); it != info.details.end();) {
      const bool spike = it->first == "spike";
      had = had || (spike && it->second == "1/dt");
      it = spike && old_scale ? info.details.erase(it) : it + 1;
    }
    ASSERT_TRUE(had) << "a checkpoint says how it records spikes";
    part.network.save_checkpoint(ckpt, nullptr, &info);  // as written before the entry existed
    qifsim::RunConfig rest = qifsim::resume_config(dir / name);
    rest.options.progress = qifsim::Progress::Off;
    const std::string e = error_of([&] { qifsim::run_config(rest, false); });
    if (old_scale) {
      EXPECT_TRUE(contains_all(e, {"qif.spike", "0 or 1", "spike / dt", "start a new run"})) << e;
    } else {
      EXPECT_EQ(e, "<no error>");
    }
  }
}

// The checkpoint knows what defined its run: a resume with another eta, other weights or
// another schedule is refused naming the keys, unless changes are allowed (then recorded).
TEST(Recordings, AResumeThatDiffersFromItsCheckpointIsRefusedNamingTheKeys) {
  ScratchDir dir;
  stop_a_run_in(dir, "part", 1500, 500);
  // The config file changed since: eta, the weights' seed and the input.
  std::string text = config_text(1500, "[\"npy\"]");
  text.replace(text.find("center = -5.0"), 13, "center = -4.0");
  text.replace(text.find("seed = 5"), 8, "seed = 6");
  text.replace(text.find("value = 12.0"), 12, "value = 11.0");
  iotest::write_text(dir / "run.toml", text);
  qifsim::RunConfig changed = qifsim::resume_config(dir / "part");
  const std::string e = error_of([&] { qifsim::run_config(changed, false); });
  EXPECT_TRUE(contains_all(e, {"population[0].eta", "population[0].weights", "input", "--allow-changes"})) << e;
  EXPECT_EQ(e.find("population[0].tau"), std::string::npos) << "unchanged keys are not named: " << e;
  EXPECT_TRUE(fs::exists(dir / "part/qifsim.ckpt")) << "a refused resume leaves the checkpoint";
  // Allowed: it runs, and the manifest says what changed.
  qifsim::RunConfig allowed = qifsim::resume_config(dir / "part", "", {"population.0.tau_s=2.0"});
  allowed.allow_changes = true;
  allowed.options.progress = qifsim::Progress::Off;
  const qifsim::ConfigRun r = qifsim::run_config(allowed, false);
  EXPECT_FALSE(r.interrupted());
  EXPECT_EQ(r.changes.size(), 4u);
  EXPECT_TRUE(contains_all(iotest::read_text(dir / "part/manifest.json"), {"\"changes\": [", "population[0].eta", "\"resumed_from\": 500"}));
  // A scalar change is shown with both values.
  bool shown = false;
  for (const auto& c : r.changes) shown = shown || c == "population[0].tau_s: 1 -> 2";
  EXPECT_TRUE(shown) << ::testing::PrintToString(r.changes);
}

// A resume refused (by the fingerprint, or at checkpoint load: another n, which no
// checkpoint continues) leaves the manifest exactly as it was, and the folder resumable.
TEST(Recordings, ARefusedResumeLeavesTheManifestAsItWas) {
  ScratchDir dir;
  stop_a_run_in(dir, "part", 1500, 500);
  const std::string before = iotest::read_text(dir / "part/manifest.json");
  ASSERT_TRUE(contains_all(before, {"\"status\": \"interrupted\"", "\"checkpoint\": \"qifsim.ckpt\""})) << before;
  for (const bool allow : {false, true}) {
    qifsim::RunConfig changed = qifsim::resume_config(dir / "part", "", {"population.0.n=9"});
    changed.allow_changes = allow;
    changed.options.progress = qifsim::Progress::Off;
    const std::string e = error_of([&] { qifsim::run_config(changed, false); });
    EXPECT_NE(e, "<no error>");
    EXPECT_EQ(iotest::read_text(dir / "part/manifest.json"), before) << (allow ? "allowed" : "refused") << ": " << e;
  }
  // Other series: the files would end at different lengths, so refused even when allowed.
  for (const char* set : {"record.vars=[]", "record.output=false"}) {
    qifsim::RunConfig fewer = qifsim::resume_config(dir / "part", "", {set});
    fewer.allow_changes = true;
    fewer.options.progress = qifsim::Progress::Off;
    const std::string e = error_of([&] { qifsim::run_config(fewer, false); });
    EXPECT_TRUE(contains_all(e, {"resume: this run would record", "record.vars or record.output changed"})) << set << ": " << e;
    EXPECT_EQ(iotest::read_text(dir / "part/manifest.json"), before) << set;
  }
  qifsim::RunConfig rest = qifsim::resume_config(dir / "part");
  rest.options.progress = qifsim::Progress::Off;
  EXPECT_FALSE(qifsim::run_config(rest, false).interrupted());
  EXPECT_NE(iotest::read_text(dir / "part/manifest.json").find("\"status\": \"complete\""), std::string::npos);
}

// A rerun removes what the previous run listed in its manifest only where the name is one a
// run writes: a manifest edited to list another file does not get that file deleted.
TEST(Folders, ARerunDeletesOnlyNamesARunWrites) {
  ScratchDir dir;
  qifsim::RunConfig first = make_config(dir, 300, "[\"npy\"]");
  qifsim::run_config(first, false);
  iotest::write_text(dir / "out/thesis.tex", "keep me");
  iotest::write_text(dir / "out/stale.npy", "old");
  std::string manifest = iotest::read_text(dir / "out/manifest.json");
  manifest.replace(manifest.find("\"files\": ["), 10, "\"files\": [\n    \"thesis.tex\",\n    \"stale.npy\",");
  iotest::write_text(dir / "out/manifest.json", manifest);
  qifsim::RunConfig again = make_config(dir, 300, "[\"npy\"]");
  qifsim::run_config(again, false);
  EXPECT_EQ(iotest::read_text(dir / "out/thesis.tex"), "keep me");
  EXPECT_FALSE(fs::exists(dir / "out/stale.npy")) << "a recording's name the previous run listed goes";
}

TEST(Recordings, ACheckpointWithAFlippedByteIsRefusedAndTheFolderStaysResumable) {
  ScratchDir dir;
  stop_a_run_in(dir, "part", 1500, 500);
  const std::string good = iotest::read_text(dir / "part/qifsim.ckpt");
  std::string bad = good;
  bad[bad.size() / 2] = static_cast<char>(bad[bad.size() / 2] ^ 1);
  iotest::write_text(dir / "part/qifsim.ckpt", bad);
  const std::string e = error_of([&] { qifsim::resume_config(dir / "part"); });
  EXPECT_TRUE(contains_all(e, {"qifsim.ckpt", "checksum"})) << e;
  iotest::write_text(dir / "part/qifsim.ckpt", good);
  qifsim::RunConfig rest = qifsim::resume_config(dir / "part");
  rest.options.progress = qifsim::Progress::Off;
  EXPECT_EQ(error_of([&] { qifsim::run_config(rest, false); }), "<no error>");
}

// ---- Folders ------------------------------------------------------------------------------

// A rerun into the folder removes what the previous run wrote (it recorded more there) and
// nothing else; the README's commands can be run twice.
TEST(Folders, ARerunRemovesWhatThePreviousRunOwnedAndNothingElse) {
  ScratchDir dir;
  qifsim::RunConfig first = make_config(dir, 600, "[\"npy\", \"csv\"]");
  qifsim::run_config(first, false);
  iotest::write_text(dir / "out/notes.txt", "mine");
  qifsim::RunConfig second = make_config(dir, 300, "[\"npy\"]", {"record.vars=[]", "record.output=true"});
  qifsim::run_config(second, false);
  EXPECT_TRUE(fs::exists(dir / "out/out.npy"));
  EXPECT_FALSE(fs::exists(dir / "out/qif.v.npy")) << "the previous run's variable stays beside the new recording";
  EXPECT_FALSE(fs::exists(dir / "out/out.csv"));
  EXPECT_TRUE(fs::exists(dir / "out/notes.txt")) << "a file the run did not write was removed";
  EXPECT_EQ(iotest::read_npy_file(dir / "out/time.npy").shape[0], qifsim::sample_count(300, 3, 2));
}

// A folder in use by a running run is refused, naming it; nothing of the running run changes.
TEST(Folders, ASecondRunIntoAFolderInUseIsRefused) {
  ScratchDir dir;
  qifsim::RunConfig first = make_config(dir, 3000, "[\"npy\"]");
  // The first run waits in its first batch until the second has tried.
  auto gate = std::make_shared<qtest::RunGate>();
  qifsim::Observer obs = qifsim::config_observer(first, false);
  obs.add_sink(gate);
  std::thread t([&] { qifsim::run_config_into(first, first.input_source(), obs); });
  gate->wait_reached();
  qifsim::RunConfig other = make_config(dir, 300, "[\"npy\"]");
  const std::string e = error_of([&] { qifsim::run_config(other, false); });
  gate->open();
  t.join();
  EXPECT_TRUE(contains_all(e, {"out", "in use by another run", "pid"})) << e;
  EXPECT_EQ(iotest::read_npy_file(dir / "out/time.npy").shape[0], qifsim::sample_count(3000, 3, 2));
  EXPECT_NE(iotest::read_text(dir / "out/manifest.json").find("\"status\": \"complete\""), std::string::npos);
}

// A FIFO planted at OUT/manifest.json is refused by name at once, for a new run and for a
// resume, instead of being waited on forever. In a child with an alarm: a hang fails.
TEST(Folders, AFifoAtTheManifestIsRefusedNotWaitedOn) {
  ScratchDir dir;
  fs::create_directories(dir / "out");
  ASSERT_EQ(::mkfifo((dir / "out/manifest.json").c_str(), 0644), 0);
  for (const bool resume : {false, true}) {
    std::fflush(nullptr);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      alarm(30);
      try {
        if (resume) {
          qifsim::resume_config(dir / "out", "", {});
        } else {
          qifsim::RunConfig cfg = make_config(dir, 300, "[\"npy\"]");
          qifsim::run_config(cfg, false);
        }
      } catch (const std::exception& e) {
        _exit(contains_all(e.what(), {"manifest.json", "FIFO"}) ? 0 : 2);
      }
      _exit(1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status)) << (resume ? "resume" : "run") << ": killed by signal " << WTERMSIG(status)
                                   << " (14: it waited on the FIFO)";
    EXPECT_EQ(WEXITSTATUS(status), 0) << (resume ? "resume" : "run")
                                      << ": 1: no error, 2: an error that does not name the FIFO";
  }
}

// Outputs that would replace the run's own inputs are refused before anything is written
// or removed: a weights file named like a recording, and a config in its own folder is kept.
TEST(Folders, OutputsThatWouldReplaceTheRunsInputsAreRefused) {
  ScratchDir dir;
  fs::create_directories(dir / "out");
  std::vector<double> w(64, 0.01);
  iotest::write_f8(dir / "out/out.npy", "(8, 8)", w);
  std::string text = config_text(300, "[\"npy\"]");
  text.replace(text.find("weights = {"), text.find('\n', text.find("weights = {")) - text.find("weights = {"),
               "weights = \"out/out.npy\"");
  iotest::write_text(dir / "run.toml", text);
  qifsim::RunConfig cfg = qifsim::load_config(dir / "run.toml", {"record.out_dir=\"" + (dir / "out") + "\""});
  const std::string e = error_of([&] { qifsim::run_config(cfg, false); });
  EXPECT_TRUE(contains_all(e, {"out.npy", "its own input"})) << e;
  EXPECT_EQ(iotest::read_npy_file(dir / "out/out.npy").f8, w) << "the input was changed";
  // The config read from inside the output folder is fine: its copy is not written over it.
  iotest::write_text(dir / "out2/qifsim_run.toml", "");
  fs::create_directories(dir / "out2");
  iotest::write_text(dir / "out2/qifsim_run.toml", config_text(300, "[\"npy\"]"));
  qifsim::RunConfig inside = qifsim::load_config(dir / "out2/qifsim_run.toml", {"record.out_dir=\"" + dir.str() + "/out2\""});
  inside.options.progress = qifsim::Progress::Off;
  EXPECT_EQ(error_of([&] { qifsim::run_config(inside, false); }), "<no error>");
  EXPECT_EQ(iotest::read_text(dir / "out2/qifsim_run.toml"), config_text(300, "[\"npy\"]"));
  // Run again: the previous manifest lists no input, and the config stays.
  EXPECT_EQ(error_of([&] { qifsim::run_config(inside, false); }), "<no error>");
  EXPECT_TRUE(fs::exists(dir / "out2/qifsim_run.toml"));
}

// ---- Full disks: every write error is an error, and what was written stays valid ----------

// In a child whose files may not grow past 48 KiB (writes fail as on a full disk), the run
// fails with an error naming a file; the NPY files left are valid and hold what their
// headers claim, and the manifest says the run failed.
TEST(Recordings, AFullDiskFailsTheRunAndLeavesValidFiles) {
  ScratchDir dir;
  const std::string out = dir / "out";
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit limit {48 * 1024, 48 * 1024};
    if (setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(90);
    try {
      qifsim::RunConfig cfg = make_config(dir, 200000, "[\"npy\"]");
      qifsim::run_config(cfg, false);
    } catch (const qifsim::IoError& e) {
      _exit(std::string(e.what()).find(".npy") != std::string::npos ? 0 : 2);
    } catch (...) {
      _exit(3);
    }
    _exit(1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: no error, 2: error not naming the file, 3: another error";
  std::int64_t rows = -1;
  for (const char* name : {"out.npy", "qif.v.npy", "qif.s.npy", "steps.npy", "time.npy"}) {
    const iotest::NpyFile f = iotest::read_npy_file(out + "/" + name);  // throws unless the size matches
    EXPECT_GE(f.shape[0], 0);
    if (rows < 0 || f.shape[0] < rows) rows = f.shape[0];
  }
  EXPECT_GT(rows, 0);
  const std::string manifest = iotest::read_text(out + "/manifest.json");
  EXPECT_TRUE(contains_all(manifest, {"\"status\": \"failed\"", "\"error\": \""})) << manifest;
}

}  // namespace
