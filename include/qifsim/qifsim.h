/* qifsim/qifsim.h - the C API of qifsim, for C, Fortran (iso_c_binding) and Python ctypes.
 *
 * One opaque handle holds a compiled network, its run settings and the recording of the
 * last run. Every function returns a status (QIFSIM_OK = 0, or an error code); the message
 * of the last failure on the calling thread is qifsim_last_error(). No C++ exception crosses
 * this interface. Arrays are row-major doubles; strings are NUL-terminated UTF-8.
 *
 * The caller's part of the contract:
 *  - A pointer to values holds at least as many as the call's size arguments say: weights
 *    of n x n (qifsim_add_population) or rows x cols (qifsim_add_edge), count values
 *    (qifsim_set_var), steps x width (qifsim_run), the input width (qifsim_forward's x) and
 *    the output width (its y); an output buffer holds `capacity` values or bytes. Sizes are
 *    checked against the network (node sizes, widths) and for overflow before any value is
 *    read, so a size that does not match the network is an error, never a read past the
 *    caller's buffer; a buffer smaller than the sizes the caller passed cannot be detected.
 *  - A handle serves one thread at a time. A call on a handle while another thread is
 *    inside a call on it returns QIFSIM_ERR_BUSY at once and changes nothing (different
 *    handles can run in parallel). qifsim_destroy must not race with any other call on the
 *    same handle.
 *
 *   qifsim_sim* sim = NULL;
 *   if (qifsim_load_config("run.toml", &sim) != QIFSIM_OK) {
 *     fprintf(stderr, "%s\n", qifsim_last_error());
 *     return 1;
 *   }
 *   qifsim_run_config(sim);                         // the config's inputs, files as configured
 *   int64_t samples, width;
 *   qifsim_samples(sim, &samples);
 *   qifsim_series_width(sim, "out", &width);
 *   double* out = malloc(sizeof(double) * samples * width);
 *   qifsim_copy_series(sim, "out", out, samples * width);
 *   qifsim_destroy(sim);
 *
 * Link with -lqifsim_c (the shared library; CMake: qifsim::qifsim_c).
 */
#ifndef QIFSIM_QIFSIM_H
#define QIFSIM_QIFSIM_H

#include <stdint.h>

#if defined(_WIN32)
#define QIFSIM_C_API __declspec(dllexport)
#else
#define QIFSIM_C_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** Status codes. */
enum qifsim_status {
  QIFSIM_OK = 0,
  QIFSIM_ERR_ARGUMENT = 1, /**< a value the model or the API cannot accept */
  QIFSIM_ERR_CONFIG = 2,   /**< a config file or string that cannot be used */
  QIFSIM_ERR_GRAPH = 3,    /**< the network graph does not compile */
  QIFSIM_ERR_MEMORY = 4,   /**< a recording over the memory budget, or out of memory */
  QIFSIM_ERR_IO = 5,       /**< reading or writing a file failed */
  QIFSIM_ERR_BACKEND = 6,  /**< BLAS / CUDA failure, or a backend that is not built */
  QIFSIM_ERR_INTERNAL = 7, /**< anything else */
  QIFSIM_ERR_BUSY = 8,     /**< the handle is in use by another thread; nothing was done */
  QIFSIM_ERR_DIVERGED = 9  /**< the state became NaN/Inf during a run; the samples recorded
                                before it are the last recording (qifsim_samples, ...) */
};

/** A network with its run settings and last recording. */
typedef struct qifsim_sim qifsim_sim;

/** Library version, e.g. "0.1.0". */
QIFSIM_C_API const char* qifsim_version(void);
/** Message of the last failed call on this thread ("" when none failed yet). */
QIFSIM_C_API const char* qifsim_last_error(void);
/** Name of a status code ("ok", "config error", ...). */
QIFSIM_C_API const char* qifsim_status_name(int status);
/** 1 when this build has a feature: "toml" (config files), "hdf5" (HDF5 recordings); else 0. */
QIFSIM_C_API int qifsim_has_feature(const char* name);

/* ---- Creating a network ------------------------------------------------------------ */

/** Read a TOML config file (see the README); `*out` receives a compiled network whose
 *  run settings, inputs and output folder come from the file. */
QIFSIM_C_API int qifsim_load_config(const char* path, qifsim_sim** out);
/** The same from TOML text; relative .npy paths resolve against base_dir (NULL: "."). */
QIFSIM_C_API int qifsim_parse_config(const char* toml_text, const char* base_dir, qifsim_sim** out);
/** An empty network: step dt, backend "auto"/"cpu"/"cuda" ("cuda:N": GPU N), precision
 *  "float64"/"float32".
 *  Add nodes and edges, then qifsim_compile(). */
QIFSIM_C_API int qifsim_create(double dt, const char* backend, const char* precision, qifsim_sim** out);
/** A QIF population of n neurons with RectiPy's default parameters; weights: n x n
 *  (row i = weights onto neuron i; the buffer holds n * n values) or NULL for none;
 *  adaptation: 0 or 1 (qif_sfa). n * n must fit in int64 and the copy in memory
 *  (QIFSIM_ERR_ARGUMENT / QIFSIM_ERR_MEMORY otherwise). Change parameters (eta, tau, ...)
 *  and the initial state (v, s, x) with qifsim_set_var. */
QIFSIM_C_API int qifsim_add_population(qifsim_sim* sim, const char* name, int64_t n, const double* weights,
                                       int adaptation);
/** A population of another of RectiPy's neuron models, n neurons with RectiPy's defaults:
 *  model "lif", "ik", "iku", "ik_biexp", "tanh" or "sigmoid" (README, "What it computes");
 *  weights: n x n or NULL, as for qifsim_add_population. Parameters and the initial state by
 *  name with qifsim_set_var (before qifsim_compile, "v" sets the initial v). Runs on the CPU
 *  backend. An unknown model is QIFSIM_ERR_ARGUMENT, naming the models. */
QIFSIM_C_API int qifsim_add_model_population(qifsim_sim* sim, const char* name, const char* model, int64_t n,
                                             const double* weights);
/** Gaussian white noise on population `node`'s v (C++ Network::add_noise): after each step
 *  v += sqrt(dt) * sigma * xi, except on neurons that spiked. sigma: `count` values, 1 (one for
 *  all) or the population's size (count is checked before the buffer is read), each >= 0.
 *  Numbers keyed by (seed, the population's name, neuron, step). CPU backend. */
QIFSIM_C_API int qifsim_add_noise(qifsim_sim* sim, const char* node, const double* sigma, int64_t count, uint64_t seed);
/** Poisson spike input onto population `node`'s v (C++ Network::add_poisson_input): each step
 *  v += weight * k, k ~ Poisson(sources * rate * dt), per neuron (shared = 0) or one count for
 *  all (shared = 1). Several add up. CPU backend. */
QIFSIM_C_API int qifsim_add_poisson_input(qifsim_sim* sim, const char* node, double rate, double weight,
                                          int64_t sources, int shared, uint64_t seed);
/** A function node: activation "identity", "tanh", "sigmoid", "softmax", "softmin", "log_softmax". */
QIFSIM_C_API int qifsim_add_function(qifsim_sim* sim, const char* name, int64_t size, const char* activation);
/** An edge: target input += weights * source output; weights rows x cols = target x source
 *  size (checked against the two nodes before the buffer, rows * cols values, is read). */
QIFSIM_C_API int qifsim_add_edge(qifsim_sim* sim, const char* source, const char* target, const double* weights,
                                 int64_t rows, int64_t cols);
/** An edge with RectiPy's other edge kinds (the C++ API's EdgeOptions), each optional (NULL:
 *  none): `delays`, cols whole steps >= 0, one per source unit (a delay buffer, CPU backend);
 *  `filter`, cols x cols, a recurrence y <- F y + x on the edge (with delays: F times the whole
 *  rolled buffer each step); `mask`, rows x cols, multiplied into the weights as written. */
QIFSIM_C_API int qifsim_add_edge_options(qifsim_sim* sim, const char* source, const char* target, const double* weights,
                                         int64_t rows, int64_t cols, const int64_t* delays, const double* filter,
                                         const double* mask);
/** A QIF population whose J is sparse, in CSR form (SciPy's csr_matrix(data, indices, indptr)):
 *  indptr holds n + 1 offsets (indptr[0] = 0, non-decreasing); indices (columns) and values hold
 *  indptr[n] entries each. Unsorted columns are sorted and duplicates summed; out-of-range
 *  columns, inconsistent offsets and values that are not finite are refused (QIFSIM_ERR_ARGUMENT). */
QIFSIM_C_API int qifsim_add_population_csr(qifsim_sim* sim, const char* name, int64_t n, const int64_t* indptr,
                                           const int64_t* indices, const double* values, int adaptation);
/** A QIF population coupled all-to-all, J_ij = value for every i, j (no matrix is stored). */
QIFSIM_C_API int qifsim_add_population_all_to_all(qifsim_sim* sim, const char* name, int64_t n, double value,
                                                  int adaptation);
/** An edge with sparse weights in CSR form (rows = target size, cols = source size; as
 *  qifsim_add_population_csr reads its arrays). */
QIFSIM_C_API int qifsim_add_edge_csr(qifsim_sim* sim, const char* source, const char* target, int64_t rows, int64_t cols,
                                     const int64_t* indptr, const int64_t* indices, const double* values);
/** Check the graph and build the engine; QIFSIM_ERR_MEMORY, naming the largest part, when
 *  it would not fit in the memory available. */
QIFSIM_C_API int qifsim_compile(qifsim_sim* sim);
/** Free the handle (NULL is fine). */
QIFSIM_C_API void qifsim_destroy(qifsim_sim* sim);

/* ---- Stepping and variables --------------------------------------------------------- */

QIFSIM_C_API int qifsim_input_width(const qifsim_sim* sim, int64_t* width);
QIFSIM_C_API int qifsim_output_width(const qifsim_sim* sim, int64_t* width);
/** Number of units of a node. */
QIFSIM_C_API int qifsim_node_size(const qifsim_sim* sim, const char* node, int64_t* size);
/** Steps of the config's input (0 for a network made with qifsim_create). */
QIFSIM_C_API int qifsim_config_steps(const qifsim_sim* sim, int64_t* steps);
/** One step: x has input-width values; y receives output-width values (the output at the
 *  step's start). */
QIFSIM_C_API int qifsim_forward(qifsim_sim* sim, const double* x, double* y);
/** Copy a variable (v, s, x, spike, s_in, I_ext, parameters; in/out of function nodes) into
 *  out (capacity values); *count receives the number of values (may be NULL). With out =
 *  NULL and capacity = 0 it only reports the count. As in RectiPy, after qifsim_forward the
 *  state of a population (v, s, x, spike) is the state at the start of the step just taken,
 *  the instant of the output qifsim_forward returned; otherwise it is the current state. */
QIFSIM_C_API int qifsim_get_var(const qifsim_sim* sim, const char* node, const char* var, double* out,
                                int64_t capacity, int64_t* count);
/** The same, always the state now: the state the next step starts from. */
QIFSIM_C_API int qifsim_get_next_state(const qifsim_sim* sim, const char* node, const char* var, double* out,
                                       int64_t capacity, int64_t* count);
/** Set a state variable (v, s, x) or a parameter: count = 1 (all units) or the node's size. */
QIFSIM_C_API int qifsim_set_var(qifsim_sim* sim, const char* node, const char* var, const double* values,
                                int64_t count);
/** Back to the initial state at step 0. */
QIFSIM_C_API int qifsim_reset(qifsim_sim* sim);

/* ---- Run settings ------------------------------------------------------------------- */

/** Sample when step % sampling_steps == 0 and step >= cutoff. */
QIFSIM_C_API int qifsim_set_sampling(qifsim_sim* sim, int64_t sampling_steps, int64_t cutoff);
/** Record the network output ("out"): 1 on (default), 0 off. */
QIFSIM_C_API int qifsim_set_record_output(qifsim_sim* sim, int on);
/** Record a variable: mean 1 = one number per sample (the mean over units), 0 = every unit. */
QIFSIM_C_API int qifsim_add_record_var(qifsim_sim* sim, const char* node, const char* var, int mean);
/** Record a variable of chosen neurons only: `count` indices into the node, in that order
 *  (each once); the series has `count` values per sample. */
QIFSIM_C_API int qifsim_add_record_neurons(qifsim_sim* sim, const char* node, const char* var, const int64_t* neurons,
                                           int64_t count);
QIFSIM_C_API int qifsim_clear_record_vars(qifsim_sim* sim);
/** Record every spike of a spiking population as an event (step, neuron), at every step from
 *  the cutoff on whatever sampling_steps is (CPU backend). Files: <population>.spikes.npy. */
QIFSIM_C_API int qifsim_add_record_spikes(qifsim_sim* sim, const char* population);
QIFSIM_C_API int qifsim_clear_record_spikes(qifsim_sim* sim);
/** How coupling is computed in later runs: mode "auto" (the default), "dense", "sparse",
 *  "procedural" or "events"; resync: events recompute J s every this many steps (0: 1000). */
QIFSIM_C_API int qifsim_set_coupling(qifsim_sim* sim, const char* mode, int64_t resync);
/** Progress display on stderr: 0 off (the default here), 1 on, -1 automatic. */
QIFSIM_C_API int qifsim_set_progress(qifsim_sim* sim, int mode);
/** Write the recordings of later runs to out_dir while they go: formats is a comma list of
 *  "npy", "hdf5", "csv" ("" or NULL: no files). keep_in_memory 0 keeps only the files. */
QIFSIM_C_API int qifsim_set_output(qifsim_sim* sim, const char* out_dir, const char* formats, int keep_in_memory);

/** Sweep a key in later runs (an ensemble: RunOptions::sweep, qifsim/sweep.hpp): `key` as
 *  "qif.eta", "qif.v0", "qif.noise_seed", "input.scale", ...; `count` values of `width`
 *  numbers each at `values` (width 1: a number per member, or the population's size: one value
 *  per neuron), value i after value i - 1. Keys combine as qifsim_set_sweep_mode says. The
 *  recording then has a member axis: qifsim_series_width gives the width per member and
 *  qifsim_copy_series copies samples x members x width values; qifsim_members gives the count. */
QIFSIM_C_API int qifsim_add_sweep_key(qifsim_sim* sim, const char* key, const double* values, int64_t count,
                                      int64_t width);
/** "zip" (member b takes value b of every key; the default) or "grid" (every combination, the
 *  last key added varying fastest). */
QIFSIM_C_API int qifsim_set_sweep_mode(qifsim_sim* sim, const char* mode);
/** No sweep in later runs (a single network). */
QIFSIM_C_API int qifsim_clear_sweep(qifsim_sim* sim);

/* ---- Running ------------------------------------------------------------------------ */

/** Run `steps` steps of inputs (steps x width values, width = input width, read in place:
 *  they must not change during the call) and record. */
QIFSIM_C_API int qifsim_run(qifsim_sim* sim, const double* inputs, int64_t steps, int64_t width);
/** Run the config's inputs (as `qifsim run` does). */
QIFSIM_C_API int qifsim_run_config(qifsim_sim* sim);

/* ---- The last run's recording ------------------------------------------------------- */
/* After a run that failed part way (QIFSIM_ERR_DIVERGED, a full disk, ...), the samples
 * recorded before the failure. */

QIFSIM_C_API int qifsim_samples(const qifsim_sim* sim, int64_t* samples);
/** Members of the last recording (1 without a sweep). */
QIFSIM_C_API int qifsim_members(const qifsim_sim* sim, int64_t* members);
/** Number of series ("out", then "node.var" keys). */
QIFSIM_C_API int qifsim_series_count(const qifsim_sim* sim, int64_t* count);
/** Copy the key of series `index` into buf (capacity bytes, NUL included). */
QIFSIM_C_API int qifsim_series_name(const qifsim_sim* sim, int64_t index, char* buf, int64_t capacity);
/** Values per sample of a series ("out", "qif.v", ...). */
QIFSIM_C_API int qifsim_series_width(const qifsim_sim* sim, const char* key, int64_t* width);
/** Copy a series (samples x width, row-major; samples x members x width after a sweep) into
 *  out, which holds capacity values. */
QIFSIM_C_API int qifsim_copy_series(const qifsim_sim* sim, const char* key, double* out, int64_t capacity);
/** Copy the step index / the time of every sample. */
QIFSIM_C_API int qifsim_copy_steps(const qifsim_sim* sim, int64_t* out, int64_t capacity);
QIFSIM_C_API int qifsim_copy_times(const qifsim_sim* sim, double* out, int64_t capacity);
/** Number of spike events of a population whose spikes the last run recorded. */
QIFSIM_C_API int qifsim_spike_count(const qifsim_sim* sim, const char* population, int64_t* count);
/** Copy its spike events: the step and the neuron of each (capacity values each; in order of
 *  step, then ascending neuron). Either array may be NULL. */
QIFSIM_C_API int qifsim_copy_spikes(const qifsim_sim* sim, const char* population, int64_t* steps, int64_t* neurons,
                                    int64_t capacity);
/** Write the last recording (kept in memory) to dir: formats as in qifsim_set_output. */
QIFSIM_C_API int qifsim_save(const qifsim_sim* sim, const char* dir, const char* formats);

#ifdef __cplusplus
}
#endif

#endif /* QIFSIM_QIFSIM_H */
