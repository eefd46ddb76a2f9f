// qifsim/types.hpp - small enumerations shared by the public API.
#pragma once

#include <string>

namespace qifsim {

/// Floating-point type the engine computes in. Float64 reproduces RectiPy number for
/// number; Float32 is the fast mode.
enum class Precision { Float32, Float64 };

/// Where the network runs. Auto picks the GPU when qifsim was built with CUDA and a
/// device is usable, else the CPU.
enum class Backend { Auto, Cpu, Cuda };

/// Activation of a function node (applied to the node's summed input vector).
enum class Activation { Identity, Tanh, Sigmoid, Softmax, Softmin, LogSoftmax };

/// How the CUDA backend computes a population's coupling J s each step.
///  - Cublas: cuBLAS's gemv (the default; measured on an H100, bench/RESULTS.md section 6).
///  - RowBlocks: qifsim's own kernel, one thread block per row of J, for N up to a few
///    thousand, where cuBLAS's gemv is latency bound.
///  - Fused: one kernel launch per step that computes each neuron's row of J s and updates the
///    neuron (the same block-per-row sums as RowBlocks), and advances the step counter: one
///    launch per step instead of three. Only for a network of one coupled population (the
///    input and output node) run with run() (not test(), which needs the loss kernel);
///    run() refuses other networks with InvalidArgument. forward() always uses cuBLAS.
/// RowBlocks and Fused are experimental: built and covered by the GPU tests, but not yet run
/// on a GPU. All sum each row in a fixed order (deterministic); their float64 results differ
/// from cuBLAS's at rounding level (RowBlocks and Fused give the same sums). The CPU backend
/// ignores the choice.
enum class CudaCoupling { Cublas, RowBlocks, Fused };

/// What the CPU backend does with state values that decay below the smallest normal number
/// (s and x after long quiet stretches: about 2.2e-308 in float64, 1.2e-38 in float32).
/// Arithmetic on such subnormal numbers is far slower on x86 CPUs. Keep: computed as they
/// are (bit for bit RectiPy's numbers). Flush: set to zero after each step (the state then
/// differs from RectiPy's by less than the smallest normal number). Auto: Flush in float32,
/// Keep in float64 (the parity mode). GPUs compute subnormals at full speed; the CUDA backend
/// keeps them.
enum class Subnormals { Auto, Keep, Flush };

/// How a population's recurrent coupling J s (and an edge's W x) is applied; a run option
/// (RunOptions::coupling, the config's top-level `coupling`, `-s coupling=...`).
///  - Auto (the default): the cheapest valid operator, chosen from static facts only (N, the
///    synapse count, the weights' kind, one tau_s per population), so one network always gets the
///    same choice; see choose_coupling() in the README's "Coupling" section.
///  - Dense: a dense matrix-vector product every step (a sparse or all-to-all J made dense once).
///    In float64 bit for bit RectiPy's arithmetic.
///  - Sparse: CSR rows, each summed in ascending column order on the CPU (cuSPARSE SpMV with its
///    deterministic CSR_ALG2 order on the GPU); a dense J made sparse once.
///  - Procedural: J_ij = w for every i, j: J s = w * sum(s), O(N), no matrix (only for
///    all-to-all weights, or a dense matrix whose entries are all equal).
///  - Events: J s <- (1 - dt/tau_s) J s + the columns of J of the neurons that spiked, with a
///    fresh product every `resync` steps; over dense, sparse (outgoing lists) or all-to-all
///    storage. Needs one tau_s per coupled population. CPU only for now (refused on the GPU).
enum class CouplingMode { Auto, Dense, Sparse, Procedural, Events };

/// Progress display during run(): Auto shows it on long runs (a bar on a terminal,
/// plain lines otherwise), Off never, On always.
enum class Progress { Auto, Off, On };

std::string to_string(Precision p);
std::string to_string(Backend b);
std::string to_string(Activation a);
std::string to_string(CouplingMode c);

/// Parse "float32"/"float64" (also "f32"/"f64"/"single"/"double"); throws InvalidArgument.
Precision parse_precision(const std::string& name);
/// Parse "auto"/"cpu"/"cuda"; throws InvalidArgument.
Backend parse_backend(const std::string& name);
/// Parse "auto", "dense", "sparse", "procedural", "events"; throws InvalidArgument.
CouplingMode parse_coupling(const std::string& name);
/// Parse "identity", "tanh", "sigmoid", "softmax", "softmin", "log_softmax"; throws InvalidArgument.
Activation parse_activation(const std::string& name);

}  // namespace qifsim
