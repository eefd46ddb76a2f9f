// cli/main.cpp - the `qifsim` command: run or check a TOML config, plot recordings.
//
//   qifsim run CONFIG.toml [--set KEY=VALUE]... [-o DIR] [-f FORMAT]... [--quiet] [--plot]
//   qifsim run --resume DIR [--allow-changes]     (continue a stopped or killed run)
//   qifsim check CONFIG.toml [--set KEY=VALUE]...
//   qifsim plot DIR [plot options]                (the qifsim-plot helper, Python/matplotlib)
//   mpirun -np R qifsim run CONFIG.toml            (one network split over R processes)
//
// Everything but argument handling lives in the library (qifsim/config.hpp).
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "qifsim/config.hpp"
#include "qifsim/qifsim.hpp"
#if QIFSIM_CLI_MPI
#include "qifsim/mpi.hpp"
#endif

namespace {

namespace fs = std::filesystem;

constexpr int kExitError = 1;
constexpr int kExitConfig = 2;
constexpr int kExitInterrupted = 130;  // 128 + SIGINT, as shells report it

// Ctrl-C asks the run to stop at the next step boundary; a second Ctrl-C ends at once.
std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler needs a lock-free flag");

extern "C" void on_interrupt(int) {
  g_stop.store(true);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

// The plot helper: beside the executable when installed, else in the source tree.
std::string plot_script() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path beside = exe.parent_path() / "qifsim-plot";
    if (fs::exists(beside, ec)) return beside.string();
  }
  return QIFSIM_SOURCE_DIR "/scripts/qifsim-plot";
}

// Debian's python3 (with python3-matplotlib) unless QIFSIM_PYTHON names another.
std::string python() {
  // The environment is read before the run starts any thread.
  if (const char* p = std::getenv("QIFSIM_PYTHON"); p && *p) return p;  // NOLINT(concurrency-mt-unsafe)
  std::error_code ec;
  if (fs::exists("/usr/bin/python3", ec)) return "/usr/bin/python3";
  return "python3";
}

// The helper's argument vector: python, the script, then `args` as they are (no shell sees
// them, so a folder named with quotes or `$(...)` is only a name).
std::vector<std::string> plot_command(const std::vector<std::string>& args) {
  std::vector<std::string> argv_s = {python(), plot_script()};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  return argv_s;
}

std::vector<char*> c_argv(std::vector<std::string>& argv_s) {
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  return argv;
}

// `qifsim plot ...`: become the helper.
int run_plot(const std::vector<std::string>& args) {
  std::vector<std::string> argv_s = plot_command(args);
  std::vector<char*> argv = c_argv(argv_s);
  std::fflush(stdout);
  execvp(argv[0], argv.data());
  std::perror(("qifsim plot: cannot start " + argv_s[0]).c_str());
  return kExitError;
}

// `qifsim run ... --plot`: start the helper as a child and wait for it.
int plot_after_run(const std::string& dir) {
  std::vector<std::string> argv_s = plot_command({"--", dir});
  std::vector<char*> argv = c_argv(argv_s);
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ);
  if (rc != 0) {
    std::cerr << "qifsim: --plot: cannot start " << argv_s[0] << ": " << std::error_code(rc, std::generic_category()).message() << "\n";
    return kExitError;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      std::cerr << "qifsim: --plot: waiting for the plot helper failed: "
                << std::error_code(errno, std::generic_category()).message() << "\n";
      return kExitError;
    }
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : kExitError;
}

// Why a run could not write into `dir` (empty: it can), without creating anything: the
// folder, or the nearest folder above it that exists, must be a writable folder.
std::string output_folder_problem(const std::string& dir, bool allow_symlink) {
  std::error_code ec;
  fs::path p = dir.empty() ? fs::path(".") : fs::path(dir);
  if (fs::is_symlink(p, ec) && !allow_symlink) {
    return "its output folder '" + dir + "' is a symbolic link (qifsim run --allow-symlink allows it)";
  }
  fs::path existing = p;
  while (!existing.empty() && !fs::exists(existing, ec)) existing = existing.parent_path();
  if (existing.empty()) existing = ".";
  if (!fs::is_directory(existing, ec)) {
    return "its output folder '" + dir + "' cannot be made: '" + existing.string() + "' is not a folder";
  }
  if (::access(existing.c_str(), W_OK | X_OK) != 0) {
    return "its output folder '" + dir + "' cannot be written: '" + existing.string() + "': " +
           std::error_code(errno, std::generic_category()).message();
  }
  return "";
}

struct RunArgs {
  std::string config;
  std::vector<std::string> sets;
  std::string out_dir;
  std::vector<std::string> formats;
  bool quiet = false;
  bool progress = false;
  bool plot = false;
  bool allow_symlink = false;  // the output folder may be a symbolic link
  std::string resume;          // the output folder of a stopped or killed run (or its checkpoint)
  bool allow_changes = false;  // resume although the config changed since the checkpoint
  int ranks = 1;               // check: how the network would split over this many ranks
};

qifsim::RunConfig load(const RunArgs& a) {
  qifsim::RunConfig cfg = qifsim::load_config(a.config, a.sets);
  if (!a.out_dir.empty()) cfg.out_dir = a.out_dir;
  if (a.allow_symlink) cfg.allow_symlink = true;
  if (!a.formats.empty()) {
    cfg.formats.clear();
    for (const auto& f : a.formats) {
      if (f == "none") continue;
      const std::string c = f == "h5" ? "hdf5" : f;
      const auto known = qifsim::file_formats();
      if (std::find(known.begin(), known.end(), c) == known.end()) {
        throw qifsim::ConfigError("--format " + f + ": unknown format (npy, hdf5, csv, none)");
      }
      if (c == "hdf5" && !qifsim::hdf5_supported()) {
        throw qifsim::ConfigError("--format hdf5: this qifsim build has no HDF5 support");
      }
      cfg.formats.push_back(c);
    }
  }
  return cfg;
}

// The processes started together by an MPI launcher (mpirun, srun, mpiexec): how many, from
// the launcher's environment (OpenMPI, PMIx, or PMI as MPICH and Slurm set it); 1 without one.
int launched_ranks() {
  // The environment is read before anything starts a thread.
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE"}) {
    if (const char* v = std::getenv(name); v && *v) {  // NOLINT(concurrency-mt-unsafe)
      const long ranks = std::strtol(v, nullptr, 10);
      return ranks > 1 && ranks < (1L << 30) ? static_cast<int>(ranks) : 1;
    }
  }
  return 1;
}

int run_loaded(const RunArgs& a, qifsim::RunConfig& cfg, const qifsim::Communicator& ranks);

int run(const RunArgs& a, const qifsim::Communicator& ranks) {
  const bool split = ranks.distributed();
  const bool root = ranks.rank() == 0;
  if (split && !a.resume.empty()) {
    throw qifsim::ConfigError("--resume: a run over " + std::to_string(ranks.size()) +
                              " ranks writes no checkpoint in this version, so it cannot be continued; run it again");
  }
  if (a.quiet || !root) qifsim::set_log_handler(nullptr);  // over ranks, rank 0 speaks
  qifsim::RunConfig cfg;  // Ctrl-C or SIGTERM while reading ends the command at once
  if (!a.resume.empty()) {
    if (!a.out_dir.empty() || !a.formats.empty()) {
      throw qifsim::ConfigError("--resume continues the run in its own folder with its own formats; "
                                "-o and -f do not apply");
    }
    cfg = qifsim::resume_config(a.resume, a.config, a.sets);
    cfg.allow_changes = a.allow_changes;
    if (a.allow_symlink) cfg.allow_symlink = true;
  } else {
    if (a.config.empty()) throw qifsim::ConfigError("qifsim run: give a config file (or --resume FOLDER)");
    if (a.allow_changes) throw qifsim::ConfigError("--allow-changes goes with --resume");
    if (!split) {
      cfg = load(a);
    } else {  // every rank reads the config: a rank that cannot (its memory, its files) stops all
      std::string error;
      try {
        cfg = load(a);
      } catch (const qifsim::ConfigError& e) {
        error = e.what();
      }
      const std::string failure = ranks.first_failure(error);
      if (!failure.empty()) throw qifsim::ConfigError(error.empty() ? failure : error);
    }
  }
  if (!split) return run_loaded(a, cfg, ranks);
  // Every rank read the config; each builds its part. Rank 0 writes the files; checkpoints
  // are not written over ranks in this version.
  cfg.checkpoint_seconds = 0.0;
  if (!root) cfg.formats.clear();
  // Errors of the library (qifsim::Error) arise alike on every rank: from the same config and
  // inputs, or told to all by the exchanges (a divergence, a rank short of memory); each rank
  // ends normally and rank 0 says it (cli_main). A file that cannot be written (rank 0 writes
  // them) or memory running out is one rank's: it ends every rank, after rank 0 has finished
  // its files (run_config does that before its error reaches here).
  try {
    cfg.network.set_communicator(ranks);
    cfg.network.compile();
    return run_loaded(a, cfg, ranks);
  } catch (const qifsim::IoError& e) {
    ranks.abort_all(std::string("error: ") + e.what());
  } catch (const qifsim::Error&) {
    throw;
  } catch (const std::exception& e) {
    ranks.abort_all(std::string("error: ") + e.what());
  }
}

// A config read (and split over the ranks): run it and report.
int run_loaded(const RunArgs& a, qifsim::RunConfig& cfg, const qifsim::Communicator& ranks) {
  const bool split = ranks.distributed();
  const bool root = ranks.rank() == 0;
  // From here on Ctrl-C (or SIGTERM) stops the run cleanly at a step boundary.
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  cfg.options.stop = &g_stop;
  // Progress on stderr: a bar on a terminal, plain lines otherwise; Auto stays silent for
  // runs that end within a couple of seconds.
  cfg.options.progress = a.quiet || !root ? qifsim::Progress::Off : a.progress ? qifsim::Progress::On : qifsim::Progress::Auto;
  const bool quiet = a.quiet || !root;
  if (!quiet) std::cout << cfg.summary() << std::flush;
  if (!quiet && split) {
    std::cout << "ranks    " << cfg.network.partition_summary() << "\n"
              << "memory   " << cfg.network.memory_summary() << "\n"
              << std::flush;
  }
  if (!quiet && cfg.resume) {
    const qifsim::CheckpointInfo saved = qifsim::read_checkpoint_info((fs::path(cfg.out_dir) / "qifsim.ckpt").string());
    std::cout << "resume   " << cfg.out_dir << " from step " << saved.detail("next_step") << " ("
              << saved.detail("samples") << " samples in its files)\n"
              << std::flush;
  }
  for (const auto& f : cfg.formats) {
    if (quiet) break;
    const double values =
        static_cast<double>(qifsim::sample_count(cfg.steps(), cfg.options.sampling_steps, cfg.options.cutoff)) *
        static_cast<double>(cfg.network.output_width() + 16);
    if (f == "csv" && values > 1e7) {
      std::cerr << "qifsim: note: CSV is meant for small runs; this one writes about " << values / 1e6
                << " million values as text (npy or hdf5 are faster and smaller)\n";
    }
  }
  const auto start = std::chrono::steady_clock::now();
  // With files, samples go to disk batch by batch and nothing is kept in memory.
  // (Over ranks, the ranks but 0 write nothing and keep nothing: their samples are rank 0's.)
  const qifsim::ConfigRun result = qifsim::run_config(cfg, /*keep_in_memory=*/cfg.formats.empty() && root);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::int64_t ran = result.next_step - result.first_step;
  if (!quiet) {
    for (const auto& c : result.changes) std::cout << "changed  " << c << " (--allow-changes; in manifest.json)\n";
  }
  if (result.interrupted()) {
    // The recordings are complete up to the stop; the checkpoint lets `--resume`
    // continue exactly there, into the same files.
    if (isatty(STDERR_FILENO)) std::cerr << "\n";  // after the progress bar
    std::cerr << "qifsim: interrupted at step " << result.next_step << " of " << cfg.steps() << "; " << result.samples
              << " samples in the files";
    for (const auto& f : result.files) std::cerr << "\n  " << f;
    std::cerr << "\nqifsim: checkpoint " << result.checkpoint << "\nqifsim: continue with: qifsim run --resume "
              << cfg.out_dir << "\n";
    return kExitInterrupted;
  }
  const std::int64_t members = cfg.options.sweep.members();
  if (!root) return result.next_step < cfg.steps() ? kExitInterrupted : 0;
  if (split && result.next_step < cfg.steps()) {
    if (isatty(STDERR_FILENO)) std::cerr << "\n";
    std::cerr << "qifsim: interrupted at step " << result.next_step << " of " << cfg.steps() << "; " << result.samples
              << " samples in the files";
    for (const auto& f : result.files) std::cerr << "\n  " << f;
    std::cerr << "\nqifsim: a run over " << ranks.size()
              << " ranks writes no checkpoint in this version, so there is nothing to continue\n";
    return kExitInterrupted;
  }
  if (result.next_step < cfg.steps()) {  // stopped with nothing on disk (record.formats = [])
    if (isatty(STDERR_FILENO)) std::cerr << "\n";
    std::cerr << "qifsim: interrupted at step " << result.next_step << " of " << cfg.steps()
              << "; record.formats = [] writes no files and no checkpoint, so there is nothing to continue\n";
    return kExitInterrupted;
  }
  if (!quiet) {
    std::cout << "done     " << result.samples << " samples; " << ran << " steps in " << seconds << " s ("
              << static_cast<double>(ran) / seconds << " steps/s";
    if (members > 1) std::cout << ", " << static_cast<double>(ran * members) / seconds << " member-steps/s";
    std::cout << ")";
    if (result.first_step > 0) std::cout << ", steps " << result.first_step << " to " << result.next_step;
    std::cout << "\n";
    for (const auto& f : result.files) std::cout << "wrote    " << f << "\n";
    if (cfg.formats.empty()) std::cout << "note     nothing was written (record.formats = [])\n";
  }
  if (a.plot) {
    if (cfg.formats.empty()) {
      std::cerr << "qifsim: --plot needs recordings on disk (record.formats)\n";
      return kExitError;
    }
    return plot_after_run(cfg.out_dir);
  }
  return 0;
}

}  // namespace

static int cli_main(int argc, char** argv, const qifsim::Communicator& ranks) {
  CLI::App app{"qifsim " QIFSIM_VERSION_STRING ": simulate networks of quadratic integrate-and-fire neurons"};
  app.set_version_flag("--version", "qifsim " QIFSIM_VERSION_STRING);
  app.require_subcommand(1);

  RunArgs args;
  CLI::App* run_cmd = app.add_subcommand("run", "Run a TOML config and write its recordings");
  run_cmd->add_option("config", args.config, "The config file (TOML); with --resume, the run's own by default");
  run_cmd->add_option("--set,-s", args.sets, "Override a config key: KEY=VALUE, e.g. record.sampling_steps=2 "
                                             "or population.0.eta=-4 (repeatable)");
  run_cmd->add_option("--out-dir,-o", args.out_dir, "Write the recordings here (record.out_dir)");
  run_cmd->add_option("--format,-f", args.formats, "npy, hdf5, csv or none (record.formats; repeatable)");
  run_cmd->add_flag("--quiet,-q", args.quiet, "No progress display and no summary");
  run_cmd->add_flag("--progress", args.progress, "Show progress even for short runs");
  run_cmd->add_flag("--plot", args.plot, "Plot the recordings afterwards (PNG files in the output folder)");
  run_cmd->add_flag("--allow-symlink", args.allow_symlink,
                    "Let the output folder be a symbolic link (refused by default: files would land where it points)");
  run_cmd->add_option("--resume", args.resume,
                      "Continue the run in this output folder from its checkpoint (qifsim.ckpt: written on Ctrl-C "
                      "and every record.checkpoint_seconds), appending to its files");
  run_cmd->add_flag("--allow-changes", args.allow_changes,
                    "With --resume: continue although the config, inputs or schedule changed since the checkpoint "
                    "(what changed is recorded in manifest.json)");

  RunArgs check_args;
  CLI::App* check_cmd = app.add_subcommand("check", "Read and check a config, print what it would run; run nothing");
  check_cmd->add_option("config", check_args.config, "The config file (TOML)")->required();
  check_cmd->add_option("--set,-s", check_args.sets, "Override a config key: KEY=VALUE (repeatable)");
  check_cmd->add_option("--out-dir,-o", check_args.out_dir, "Check this output folder (record.out_dir) instead");
  check_cmd->add_option("--format,-f", check_args.formats, "npy, hdf5, csv or none (record.formats; repeatable)");
  check_cmd->add_flag("--allow-symlink", check_args.allow_symlink, "The output folder may be a symbolic link");
  check_cmd->add_option("--ranks", check_args.ranks,
                        "Say how the neurons would split over this many MPI ranks (mpirun -np R) and the memory per rank")
      ->check(CLI::Range(1, 1 << 20));

  std::vector<std::string> plot_args;
  CLI::App* plot_cmd = app.add_subcommand("plot", "Plot recordings as PNG files (runs qifsim-plot; `qifsim plot --help`)");
  plot_cmd->prefix_command();
  plot_cmd->set_help_flag();  // --help goes to qifsim-plot

  CLI11_PARSE(app, argc, argv);

  try {
    if (*run_cmd) return run(args, ranks);
    if (*check_cmd) {
      const qifsim::RunConfig cfg = load(check_args);
      std::cout << cfg.summary();
      if (check_args.ranks > 1) std::cout << "ranks    " << cfg.network.partition_summary(check_args.ranks) << "\n";
      std::cout << "memory   " << cfg.network.memory_summary(check_args.ranks) << "\n";
      if (!cfg.formats.empty()) {
        const std::string problem = output_folder_problem(cfg.out_dir, cfg.allow_symlink);
        if (!problem.empty()) {
          std::cerr << "qifsim: the config is valid, but " << problem << "\n";
          return kExitError;
        }
      }
      std::cout << "config is valid\n";
      return 0;
    }
    if (*plot_cmd) {
      for (const auto& s : plot_cmd->remaining()) plot_args.push_back(s);
      if (!plot_args.empty() && plot_args.front() == "--") plot_args.erase(plot_args.begin());
      return run_plot(plot_args);
    }
  } catch (const qifsim::ConfigError& e) {
    // Over ranks every rank reads the config alike: rank 0 says what is wrong.
    if (ranks.rank() == 0) std::cerr << "qifsim: config error: " << e.what() << "\n";
    return kExitConfig;
  } catch (const std::bad_alloc&) {
    std::cerr << "qifsim: error: out of memory: a size in the config or in its files is too large for this "
                 "machine (no check named it first; please report the config)\n";
    return kExitError;
  } catch (const std::exception& e) {
    // Over ranks, errors that reach here arose on every rank alike (run): rank 0 says it.
    if (ranks.rank() == 0) std::cerr << "qifsim: error: " << e.what() << "\n";
    return kExitError;
  }
  return 0;
}

int main(int argc, char** argv) {
  try {
    const int launched = launched_ranks();
#if QIFSIM_CLI_MPI
    // Started by an MPI launcher: one network over its processes. (Destroyed in reverse order:
    // the communicator before MPI is finished.)
    std::unique_ptr<qifsim::MpiSession> mpi;
    qifsim::Communicator ranks;
    if (launched > 1) {
      mpi = std::make_unique<qifsim::MpiSession>(&argc, &argv);
      ranks = qifsim::mpi_communicator(MPI_COMM_WORLD);
      if (ranks.size() != launched) {  // e.g. MPICH's mpiexec starting an OpenMPI program
        std::cerr << "qifsim: error: the launcher started " << launched << " processes, but MPI sees "
                  << ranks.size() << " in this one: the launcher is not of the MPI this qifsim was built with "
                  << "(each process would run the whole network into the same files)\n";
        return kExitError;
      }
    }
    return cli_main(argc, argv, ranks);
#else
    if (launched > 1) {
      std::cerr << "qifsim: error: started as one of " << launched
                << " processes (mpirun), but this qifsim was built without MPI: each would run the whole "
                   "network into the same files; build with libopenmpi-dev installed (QIFSIM_MPI)\n";
      return kExitError;
    }
    return cli_main(argc, argv, qifsim::Communicator());
#endif
  } catch (const std::exception& e) {  // outside the commands' own handling (e.g. out of memory in CLI11)
    std::cerr << "qifsim: error: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "qifsim: error: unknown failure\n";
  }
  return kExitError;
}
