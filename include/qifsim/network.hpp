// qifsim/network.hpp - a network of QIF populations and function nodes.
//
//   qifsim::Network net(1e-3);                       // dt, backend auto, float64
//   qifsim::QifPopulation p;  p.n = 5;  p.weights = J;
//   net.add_population("qif", p);
//   net.compile();
//   qifsim::RunOptions opt;  opt.record_vars = {{"qif", "v", true}};
//   qifsim::Observer obs = net.run(inputs, opt);     // inputs: steps x 5
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "qifsim/checkpoint.hpp"
#include "qifsim/communicator.hpp"
#include "qifsim/matrix.hpp"
#include "qifsim/observer.hpp"
#include "qifsim/population.hpp"
#include "qifsim/sweep.hpp"
#include "qifsim/types.hpp"

namespace qifsim {

namespace detail {
class Engine;
class ObserverEngineSide;
struct Graph;
struct RunCarry;
struct RunPlan;
class RowSource;

/// Which thread is inside a call on an object that serves one thread at a time (a
/// Network). A call from another thread meanwhile is refused with BusyError; calls nested
/// in the owner's own call pass. A moved-to object starts free.
class CallOwner {
 public:
  CallOwner() = default;
  CallOwner(CallOwner&&) noexcept {}
  CallOwner& operator=(CallOwner&&) noexcept { return *this; }
  CallOwner(const CallOwner&) = delete;
  CallOwner& operator=(const CallOwner&) = delete;
  /// Enter on this thread, or throw BusyError naming `call` and `object`.
  void enter(const char* call, const char* object = "the network");
  void leave() noexcept;

 private:
  std::atomic<std::thread::id> owner_{};
  int depth_ = 0;  // nested calls of the owner (touched by the owner only)
};
}  // namespace detail

/// Inputs handed to a run piece by piece as it consumes them, for inputs the run must not
/// read in place (a NumPy array another thread may change, a file, a generator):
/// `fetch(first, count, dst)` writes rows [first, first + count) into dst (count x cols
/// values, row-major). Rows are fetched in order, in pieces of at most a few MiB; each
/// piece is checked (finite values) as it arrives. Exceptions from fetch end the run.
struct InputSource {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::function<void(std::int64_t first, std::int64_t count, double* dst)> fetch;
};

/// How run() and test() step and sample.
struct RunOptions {
  std::int64_t sampling_steps = 1;  ///< sample when step % sampling_steps == 0 ...
  std::int64_t cutoff = 0;          ///< ... and step >= cutoff
  bool record_output = true;        ///< record the window mean of the output ("out")
  bool record_loss = false;         ///< record the window mean of the loss (test() only)
  std::vector<RecordVar> record_vars;  ///< variables to record at each sample
  /// Spiking populations whose every spike is recorded as an event (step, neuron), at every
  /// step from the cutoff on whatever sampling_steps is (Observer::spike_steps). CPU backend.
  std::vector<std::string> record_spikes{};
  Progress progress = Progress::Auto;  ///< progress display on stderr
  std::size_t memory_budget = 0;    ///< host bytes for the recording; 0 = default_memory_budget()
  std::int64_t batch_samples = 0;   ///< ring-buffer capacity in samples; 0 = automatic
  /// CPU backend: hand the samples held in the ring to the Observer (and its file sinks) at
  /// least this often, even when the ring is not full (0: only when full). The CUDA backend
  /// hands over full ring halves (at most batch_samples samples).
  double flush_seconds = 2.0;
  bool cuda_graphs = true;          ///< CUDA backend: replay blocks of steps as CUDA Graphs
  CudaCoupling cuda_coupling = CudaCoupling::Cublas;  ///< CUDA backend: how J s is computed
  /// How each population's J s (and each edge's W x) is computed: auto (the default), dense,
  /// sparse, procedural or events; see CouplingMode and the README's "Coupling" section. The
  /// choice is logged in one line (log_notice) by the first run after compile() and when it
  /// changes, and kept in coupling_choice().
  CouplingMode coupling = CouplingMode::Auto;
  /// Events: J s <- (1 - dt/tau_s) J s + the columns of J of the neurons that spiked, recomputed
  /// with a fresh product every `resync` steps (and after set_var(), reset(), forward() or
  /// load_checkpoint(); a run stopped and resumed in the same process continues bit for bit).
  /// 0: 1000. J s then differs from the product by rounding that grows between resyncs.
  std::int64_t resync = 0;
  /// The former spelling of events: R > 0 means coupling = Events with resync = R (when
  /// `coupling` is Auto); 0 leaves `coupling` as it is.
  std::int64_t event_coupling = 0;
  /// CPU backend: keep state values below the smallest normal number, or set them to zero
  /// (faster; see Subnormals). Auto: flushed in float32, kept in float64.
  Subnormals subnormals = Subnormals::Auto;
  /// Every product through the library's own fixed-order loops: on the CPU the eight-lane row
  /// loop of a dense J at every size (not OpenBLAS) and the sparse row loop; on the GPU a row
  /// kernel that sums in those same eight lanes, and a CSR kernel, one row per thread in
  /// ascending column order (not cuBLAS or cuSPARSE). Recordings then do not depend on the
  /// thread count or on how the rows are split, and CPU and GPU agree bit for bit where they
  /// store J alike (dense, or sparse with more than one row and column). Sums over neurons,
  /// the loss and softmax follow the one reduction order in every mode. The CUDA backend's
  /// fused step is refused in this mode (its row dots and means follow another order).
  /// Subnormals::Auto keeps subnormal values in this mode (the GPU keeps them). CPU and GPU
  /// compute J s alike only where they store it alike and the CPU does not run events (which
  /// the GPU lacks: `auto` takes them for a sparse J from N = 512; give coupling = sparse).
  bool reproducible = false;
  /// Check the state for NaN/Inf every this many steps (0: never); a non-finite value stops
  /// the run with DivergenceError naming the node, variable, neuron and step. The check
  /// needs no host synchronisation on the GPU.
  std::int64_t divergence_check_steps = 1000;
  /// Once set (e.g. from a SIGINT handler), the run stops at the next step boundary, hands
  /// what it recorded to the Observer and can be resumed (see interrupted()).
  const std::atomic<bool>* stop = nullptr;
  /// Stop before this (run-local) step, as if `stop` were set then; -1: never.
  std::int64_t stop_at_step = -1;
  /// Continue the interrupted run (same inputs, schedule and observer) instead of starting.
  bool resume = false;
  /// Run an ensemble: one member per combination of the swept values (qifsim/sweep.hpp), all
  /// stepped together on the CPU backend, each from its own initial state at step 0 (noise and
  /// Poisson input counted from there); the network itself is left as it was. Every recorded
  /// series gains a member axis (Observer::members(): samples x members x width). Inputs are
  /// steps x input_width() (every member's), or steps x (members x input_width()), member b's
  /// row at columns [b w, (b + 1) w). Each step applies every coupling operator to all
  /// members at once: with `reproducible`, member b's recordings equal the single run with
  /// member b's values bit for bit; otherwise a dense J is applied to all members as one GEMM
  /// (OpenBLAS, from 16 members on), within rounding of the single runs. Spike events carry the
  /// member (Observer::spike_members). A run stopped early continues with `resume` in the same
  /// process, or from save_checkpoint() in another (load_checkpoint with CheckpointLoad::sweep).
  /// Not yet: test(), the CUDA backend. Empty: a single network (today's run).
  Sweep sweep{};
};

/// What test() returns: the recordings and the mean per-step loss over steps >= cutoff.
struct TestResult {
  Observer observer;
  double loss;
};

/// A value for one variable of one node, as taken by reset().
struct VarValue {
  std::string node;
  std::string var;
  std::vector<double> values;  ///< 1 value (all neurons) or one per neuron
};

/// A graph of QIF populations and function nodes joined by weighted edges, compiled for
/// one backend and precision. Build with add_population / add_function / add_edge, then
/// compile(); exactly one node has no incoming edge (it takes the network input) and
/// exactly one has no outgoing edge (its output is the network output).
///
/// A Network serves one thread at a time: a call made while another thread is inside one
/// (a run(), say) throws BusyError at once and changes nothing. Use one Network per thread,
/// or take turns.
class Network {
 public:
  /// dt: integration step; backend and precision are fixed at compile().
  explicit Network(double dt = 1e-3, Backend backend = Backend::Auto,
                   Precision precision = Precision::Float64);
  ~Network();
  Network(Network&&) noexcept;
  Network& operator=(Network&&) noexcept;
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  /// Add a QIF population (RectiPy's add_diffeq_node with the qif / qif_sfa template).
  void add_population(const std::string& name, QifPopulation population);
  /// Add a population of one of RectiPy's other neuron templates (lif, ik, iku, ik_biexp, tanh,
  /// sigmoid; see NeuronPopulation), on either backend (the GPU's kernel, kernels/model_step.cu,
  /// runs the same step as the CPU loop); checkpoints do not hold it yet.
  void add_population(const std::string& name, NeuronPopulation population);
  /// Drive population `node` (any model) with Gaussian white noise on v (NoiseInput). Replaces
  /// the node's earlier noise; sigma = 0 removes it. Random numbers are a function of (seed,
  /// the population's name, neuron, step) only (Philox4x32-10): the same for any thread count,
  /// and a run stopped and resumed continues them. Steps are counted from compile() or
  /// reset(), so every run() continues where the last ended (set_step_count() to carry the
  /// count over a compile() after a graph change). Like add_population, it needs compile()
  /// again. CPU backend only for now.
  void add_noise(const std::string& node, NoiseInput noise);
  /// Add Poisson spike input onto population `node`'s v (PoissonInput); several add up, each
  /// with its own stream. CPU backend only for now.
  void add_poisson_input(const std::string& node, PoissonInput input);
  /// Add a function node of `size` units applying `activation` to its summed input.
  void add_function(const std::string& name, std::int64_t size, Activation activation);
  /// Add an edge: target input += weights * source output; weights is
  /// (target size) x (source size).
  void add_edge(const std::string& source, const std::string& target, Weights weights);
  /// The same with RectiPy's other edge kinds (EdgeOptions: delays, a filter, a mask). An edge
  /// with delays or a filter keeps a state: reset() zeroes it; both backends run it (the CUDA
  /// backend keeps the buffer in device memory, kernels/edge_memory.cu) and checkpoints hold it.
  void add_edge(const std::string& source, const std::string& target, Weights weights, EdgeOptions options);

  /// The GPU the CUDA backend runs on (default 0; see cuda_device_count()). Takes effect at
  /// the next compile(); the calling thread's current device is left as it was.
  void set_cuda_device(int device);
  int cuda_device() const { return cuda_device_; }

  /// The processes this network runs over (qifsim/communicator.hpp; by default this process
  /// alone). With more than one rank, compile() builds this rank's part on the CPU backend:
  /// each population's neurons of qifsim::partition_range, their rows of J and of the edges
  /// into them; function nodes whole on every rank. Every rank then makes the same calls in the
  /// same order (run, forward, get_var, set_var, ...), each with the whole network's values,
  /// and gets what one process gets: in RunOptions::reproducible, the same bits for any number
  /// of ranks; every rank's Observer holds the same samples. Checkpoints, sweeps and the CUDA
  /// backend are refused over several ranks in this version. Takes effect at the next compile().
  void set_communicator(Communicator communicator);
  const Communicator& communicator() const { return communicator_; }
  /// How the neurons are split over `ranks` ranks (0: the communicator's), one line: "2 ranks
  /// ...: 'qif' 0..5120 | 5120..10000" (the ranges of qifsim::partition_range; long lists
  /// shortened).
  std::string partition_summary(int ranks = 0) const;
  /// The memory a rank's part takes over `ranks` ranks (0: the communicator's), one line: rank
  /// 0's (the largest share), its largest part, and the whole graph's weights that every rank
  /// also holds while it builds its part (they are given whole to each rank in this version).
  std::string memory_summary(int ranks = 0) const;

  /// Check the graph and build the engine; errors (GraphError) name the offending nodes.
  /// Refuses (MemoryBudgetError, naming the largest part) an engine that would not fit in
  /// the memory available now, host or GPU, before allocating it.
  void compile();
  bool compiled() const;
  /// The coupling operators in use (after compile(), and after each run that asked for another
  /// RunOptions::coupling), one line: "'pop': events over sparse (resync 1000)". Empty when no
  /// population is coupled.
  const std::string& coupling_choice() const;

  double dt() const { return dt_; }
  Precision precision() const { return precision_; }
  /// The backend asked for before compile(); the one in use after it.
  Backend backend() const { return backend_; }
  /// Names of the input and output nodes (after compile()).
  const std::string& input_node() const;
  const std::string& output_node() const;
  /// Width of the network input and output (after compile()).
  std::int64_t input_width() const;
  std::int64_t output_width() const;
  /// Number of units of a node.
  std::int64_t node_size(const std::string& node) const;
  /// Steps taken since compile() or the last reset().
  std::int64_t step_count() const { return step_; }
  /// Count steps from `steps` on, as if that many had been taken since compile() (compiled
  /// networks): noise and Poisson input continue their numbers from there. compile() starts the
  /// count at 0, so a network built again after a change to its graph would draw the numbers
  /// of its first steps again; the Python package carries the count over such a rebuild.
  /// Forgets an interrupted run (it cannot be resumed after this).
  void set_step_count(std::int64_t steps);
  /// True when the last run stopped early (RunOptions::stop / stop_at_step) and can be
  /// continued with RunOptions::resume.
  bool interrupted() const;
  /// The run-local step an interrupted run continues from.
  std::int64_t resume_step() const;

  /// Save everything a run needs to continue bit for bit: the state of every node, the
  /// parameters, the step count, the position and window sums of an interrupted run, and
  /// (when given) the samples held by `observer`, with `info`'s fingerprint and details
  /// (qifsim/checkpoint.hpp); an interrupted sweep's members too (each running member's state
  /// and window sums, each stopped member's stop). Written atomically (the old file stays whole until the new one
  /// is) with a checksum. Throws IoError naming the path.
  void save_checkpoint(const std::string& path, const Observer* observer = nullptr,
                       const CheckpointInfo* info = nullptr) const;
  /// Restore a checkpoint into this compiled network, which must have the same nodes,
  /// sizes, dt, precision, weights and activations (GraphError naming the difference
  /// otherwise). A file that fails its checksum or holds invalid values is refused
  /// (IoError) and nothing changes. With `observer`, its samples are replaced by the
  /// checkpoint's.
  void load_checkpoint(const std::string& path, Observer* observer = nullptr);
  /// The same, as `how` says (keep this network's parameters, accept changed weights,
  /// return the checkpoint's fingerprint and details, rebuild an interrupted sweep from
  /// `how.sweep`). InvalidArgument where the checkpoint holds a sweep and none is given, or
  /// one with another member count, or other values (unless allow_changes); and where a sweep
  /// is given for a single run's checkpoint. Then run() with RunOptions::resume continues it.
  void load_checkpoint(const std::string& path, const CheckpointLoad& how);

  /// One step with input x (input_width() values); returns the output at the step's start.
  std::vector<double> forward(const std::vector<double>& x);
  /// The same without allocation: x has input_width() values, y receives output_width().
  void forward(const double* x, double* y);

  /// A variable's values as RectiPy shows them. Populations: state "v", "s", "x"
  /// (adaptation), "spike" (v >= threshold), last step's "s_in" and "I_ext", and parameters
  /// ("eta", "tau", "k", "tau_s", "v_threshold", "v_reset", "alpha", "tau_x"). Function
  /// nodes: "in", "out". After forward(x_t), the state of a population (v, s, x, spike) is
  /// the state at the start of step t: the instant of the output forward() returned, so
  /// `obs.record(t, net.forward(x), 0.0, {net.get_var("qif", "v")})` records what run()
  /// records at step t. Before any forward(), and after run(), reset(), set_var() of a state
  /// variable or load_checkpoint(), it is the current state (what next_state() returns).
  std::vector<double> get_var(const std::string& node, const std::string& var) const;
  /// A variable's values now: for a population's state, the state the next step starts
  /// from, whatever the last call was (get_var() otherwise).
  std::vector<double> next_state(const std::string& node, const std::string& var) const;
  /// The variable names get_var() takes for `node` (state, per-step values, parameters).
  std::vector<std::string> var_names(const std::string& node) const;
  /// Set a state variable ("v", "s", "x") or a parameter; 1 value (all units) or one per
  /// unit. The next step starts from (or with) the new values.
  void set_var(const std::string& node, const std::string& var, const std::vector<double>& values);
  /// Back to the initial state (v0, s0, x0) at step 0.
  void reset();
  /// Back to the initial state, then set the given variables.
  void reset(const std::vector<VarValue>& state);

  /// Throws (InvalidArgument) what run() would refuse about RunOptions::coupling = `coupling`
  /// before its first step: procedural coupling of unequal weights, events for a model without
  /// the synapse s' = -s/tau_s + spike or with one tau_s per neuron, events on the GPU, a
  /// conversion of J that the memory cannot hold. Changes and allocates nothing.
  void check_coupling(CouplingMode coupling) const;
  /// Throws (InvalidArgument) what run() would refuse about recording `var`: an unknown node or
  /// variable, or a parameter (only state variables and per-step values are recorded).
  void check_record_var(const RecordVar& var) const;
  /// Throws (InvalidArgument) what run() would refuse about recording the spike events of
  /// `population`: an unknown node, a function node or rate population, the CUDA backend.
  void check_record_spikes(const std::string& population) const;

  /// Throws (InvalidArgument) what run() would refuse about RunOptions::sweep = `sweep`: keys
  /// that name no population or value, values of the wrong size, seeds that are not whole
  /// numbers, parameters a member's model refuses, lists of unequal length, the CUDA backend.
  void check_sweep(const Sweep& sweep) const;
  /// Run inputs.rows steps (inputs: steps x input_width()) and return the recordings.
  Observer run(MatrixView inputs, const RunOptions& options = {});
  /// The same, appending to `into`, which decides what is recorded (the record_* fields and
  /// memory_budget of options are not used). Samples recorded before an error stay in `into`.
  /// The inputs are read in place as the run goes: they must not change until it returns.
  void run(MatrixView inputs, const RunOptions& options, Observer& into);
  /// The same with inputs fetched piece by piece (see InputSource).
  void run(const InputSource& inputs, const RunOptions& options, Observer& into);
  /// Run and compare the output with targets (steps x output_width()) under `loss`
  /// ("mse": mean squared error over outputs, or "l1": mean absolute error).
  TestResult test(MatrixView inputs, MatrixView targets, const std::string& loss = "mse",
                  const RunOptions& options = {});
  /// The same, recording into `into` (as run() does); returns the mean per-step loss.
  double test(MatrixView inputs, MatrixView targets, const std::string& loss, const RunOptions& options,
              Observer& into);
  /// The same with inputs and targets fetched piece by piece (see InputSource).
  double test(const InputSource& inputs, const InputSource& targets, const std::string& loss,
              const RunOptions& options, Observer& into);

 private:
  class Call;  // holds owner_ for the duration of a public call
  void require_compiled(const char* what) const;
  std::vector<double> read_var(const std::string& node, const std::string& var, bool step_start,
                               const char* call) const;
  int spiking_node(const std::string& pop, const std::string& where) const;  // the node of a spiking population
  void run_sweep(detail::RunPlan& plan, const RunOptions& options, CouplingMode coupling, std::int64_t resync,
                 Observer& into, detail::ObserverEngineSide& side);
  void run_impl(detail::RowSource& inputs, detail::RowSource* targets, const std::string& loss,
                const RunOptions& options, Observer& into, double* mean_loss);

  double dt_;
  Backend requested_;  // as constructed
  Backend backend_;    // in use after compile()
  Precision precision_;
  std::unique_ptr<detail::Graph> graph_;
  std::unique_ptr<detail::Engine> engine_;
  std::int64_t step_ = 0;
  // get_var() shows the state at the start of the last forward()'s step (RectiPy's view).
  bool show_step_start_ = false;
  // An interrupted run: its position and window sums, and what it ran with.
  std::unique_ptr<detail::RunCarry> carry_;
  std::int64_t carry_steps_ = 0;     // rows of the interrupted run's inputs
  std::int64_t carry_sampling_ = 0;
  std::int64_t carry_cutoff_ = 0;
  // An interrupted sweep: its ensemble (members exist only in it) and what identifies the sweep.
  std::unique_ptr<detail::Engine> sweep_engine_;
  std::string sweep_signature_;
  bool sweep_from_checkpoint_ = false;  // its operators are chosen when the resumed run starts
  void forget_interrupted();  // carry_ and sweep_engine_ gone
  int cuda_device_ = 0;
  Communicator communicator_;  // the ranks compile() splits the network over
  CouplingMode coupling_requested_ = CouplingMode::Auto;  // what the engine's operators follow
  std::int64_t coupling_resync_ = 0;
  std::string coupling_line_;
  bool coupling_logged_ = false;  // the choice is logged with the first run, and when it changes
  void log_coupling() const;
  mutable detail::CallOwner owner_;
};

}  // namespace qifsim
