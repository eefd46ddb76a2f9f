/* tests/test_c_api.c - the C API from a C program (compiled as C99).
 *
 * The reference is a plain Euler loop of the spec written here: one uncoupled neuron and a
 * two-neuron coupled pair, recorded with sampling and cutoff. Errors must come back as
 * status codes with messages naming what is wrong.
 *
 *   test_c_api [CASE]      (no CASE: all cases; exit status 0 when every check passes)
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qifsim/qifsim.h"

static int failures = 0;

#define EXPECT(cond, ...)                                            \
  do {                                                               \
    if (!(cond)) {                                                   \
      ++failures;                                                    \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                  \
      fprintf(stderr, "\n");                                         \
    }                                                                \
  } while (0)

#define OK(call) EXPECT((call) == QIFSIM_OK, "%s", qifsim_last_error())

/* The spec for N neurons (eta, tau = k = tau_s = 1, v_th 100, v_reset -100), input I per
 * step and neuron; records per step the output s and v at the step's start. */
static void reference(int n, const double* J, double eta, const double* I, int steps, double dt, double* s_out,
                      double* v_out) {
  double v[8], s[8], vn[8], sn[8];
  for (int i = 0; i < n; ++i) v[i] = -2.0, s[i] = 0.0;
  for (int t = 0; t < steps; ++t) {
    for (int i = 0; i < n; ++i) s_out[t * n + i] = s[i], v_out[t * n + i] = v[i];
    for (int i = 0; i < n; ++i) {
      const int spike = v[i] >= 100.0;
      double s_in = 0.0;
      for (int j = 0; j < n; ++j) s_in += J ? J[i * n + j] * s[j] : 0.0;
      vn[i] = v[i] + dt * ((v[i] * v[i] + eta + I[t * n + i]) + s_in);
      sn[i] = s[i] + dt * (-s[i]) + spike;
      if (spike) vn[i] = -100.0;
    }
    for (int i = 0; i < n; ++i) v[i] = vn[i], s[i] = sn[i];
  }
}

static double max_abs_diff(const double* a, const double* b, int n) {
  double m = 0.0;
  for (int i = 0; i < n; ++i) m = fmax(m, fabs(a[i] - b[i]));
  return m;
}

/* A coupled pair built from arrays, run with sampling 4 and cutoff 10, against the reference. */
static void test_arrays(void) {
  enum { N = 2, T = 3000, S = 4, C = 10 };
  const double J[N * N] = {0.0, 3.0, 1.5, 0.0};
  const double eta = -3.0, dt = 1e-3;
  static double I[T * N], s_ref[T * N], v_ref[T * N];
  for (int t = 0; t < T; ++t) I[t * N] = 9.0, I[t * N + 1] = 7.0 + sin(0.005 * t);
  reference(N, J, eta, I, T, dt, s_ref, v_ref);

  qifsim_sim* sim = NULL;
  OK(qifsim_create(dt, "cpu", "float64", &sim));
  OK(qifsim_add_population(sim, "qif", N, J, 0));
  OK(qifsim_set_var(sim, "qif", "eta", &eta, 1));
  OK(qifsim_compile(sim));
  OK(qifsim_add_record_var(sim, "qif", "v", 0));
  OK(qifsim_set_sampling(sim, S, C));
  OK(qifsim_run(sim, I, T, N));

  int64_t samples = 0, count = 0, width = 0;
  OK(qifsim_samples(sim, &samples));
  EXPECT(samples == (T - 1) / S - 3 + 1, "samples = %lld", (long long)samples); /* steps 12, 16, ..., 2996 */
  OK(qifsim_series_count(sim, &count));
  EXPECT(count == 2, "count = %lld", (long long)count);
  char name[16];
  OK(qifsim_series_name(sim, 1, name, sizeof name));
  EXPECT(strcmp(name, "qif.v") == 0, "name = %s", name);
  OK(qifsim_series_width(sim, "qif.v", &width));
  EXPECT(width == N, "width = %lld", (long long)width);

  double* v = malloc(sizeof(double) * samples * N);
  double* out = malloc(sizeof(double) * samples * N);
  double* v_want = malloc(sizeof(double) * samples * N);
  double* out_want = malloc(sizeof(double) * samples * N);
  int64_t* steps = malloc(sizeof(int64_t) * samples);
  OK(qifsim_copy_series(sim, "qif.v", v, samples * N));
  OK(qifsim_copy_series(sim, "out", out, samples * N));
  OK(qifsim_copy_steps(sim, steps, samples));
  /* The reference's samples: v at the sampled step, out = mean of s over the window. */
  int64_t k = 0, prev = C - 1;
  for (int t = C; t < T; ++t) {
    if (t % S != 0) continue;
    EXPECT(steps[k] == t, "steps[%lld] = %lld, expected %d", (long long)k, (long long)steps[k], t);
    for (int i = 0; i < N; ++i) {
      double sum = 0.0;
      for (int u = (int)prev + 1; u <= t; ++u) sum += s_ref[u * N + i];
      out_want[k * N + i] = sum / (double)(t - prev);
      v_want[k * N + i] = v_ref[t * N + i];
    }
    prev = t;
    ++k;
  }
  EXPECT(max_abs_diff(v, v_want, (int)(samples * N)) < 1e-9, "v differs by %g",
         max_abs_diff(v, v_want, (int)(samples * N)));
  EXPECT(max_abs_diff(out, out_want, (int)(samples * N)) < 1e-9, "out differs by %g",
         max_abs_diff(out, out_want, (int)(samples * N)));

  /* forward() after a reset reproduces the first steps of the reference. */
  OK(qifsim_reset(sim));
  double y[N], vv[N];
  int64_t nv = 0;
  for (int t = 0; t < 5; ++t) {
    OK(qifsim_forward(sim, I + t * N, y));
    EXPECT(fabs(y[0] - s_ref[t * N]) < 1e-12, "forward out at %d", t);
  }
  OK(qifsim_get_next_state(sim, "qif", "v", vv, N, &nv));
  EXPECT(nv == N && fabs(vv[1] - v_ref[5 * N + 1]) < 1e-12, "v after 5 steps");
  /* As in RectiPy, get_var after forward shows the state at the start of the step taken. */
  OK(qifsim_get_var(sim, "qif", "v", vv, N, &nv));
  EXPECT(nv == N && fabs(vv[1] - v_ref[4 * N + 1]) < 1e-12, "v at the start of step 4");
  free(v), free(out), free(v_want), free(out_want), free(steps);
  qifsim_destroy(sim);
}

/* A config string; files written while the run goes; an uncoupled neuron against the reference. */
static void test_config(const char* tmp) {
  enum { T = 2000 };
  static double I[T], s_ref[T], v_ref[T];
  for (int t = 0; t < T; ++t) I[t] = 4.0;
  reference(1, NULL, 5.0, I, T, 1e-3, s_ref, v_ref);
  const char* text =
      "dt = 1e-3\nsteps = 2000\n[[population]]\nname = \"one\"\nn = 1\neta = 5.0\n"
      "[input]\nvalue = 4.0\n[record]\noutput = false\nvars = [[\"one\", \"v\", true]]\nformats = []\n";
  qifsim_sim* sim = NULL;
  OK(qifsim_parse_config(text, NULL, &sim));
  int64_t steps = 0;
  OK(qifsim_config_steps(sim, &steps));
  EXPECT(steps == T, "steps = %lld", (long long)steps);
  OK(qifsim_set_output(sim, tmp, "npy,hdf5", 1));
  OK(qifsim_run_config(sim));
  int64_t samples = 0;
  OK(qifsim_samples(sim, &samples));
  EXPECT(samples == T, "samples = %lld", (long long)samples);
  static double v[T];
  OK(qifsim_copy_series(sim, "one.v", v, T));
  EXPECT(max_abs_diff(v, v_ref, T) < 1e-9, "v differs by %g", max_abs_diff(v, v_ref, T));
  char path[4096];
  snprintf(path, sizeof path, "%s/one.v.npy", tmp);
  FILE* f = fopen(path, "rb");
  EXPECT(f != NULL, "%s was not written", path);
  if (f) fclose(f);
  snprintf(path, sizeof path, "%s/recording.h5", tmp);
  f = fopen(path, "rb");
  EXPECT(f != NULL, "%s was not written", path);
  if (f) fclose(f);
  EXPECT(qifsim_copy_series(sim, "out", v, T) == QIFSIM_ERR_ARGUMENT, "out was not recorded");
  EXPECT(strstr(qifsim_last_error(), "'out'") != NULL, "%s", qifsim_last_error());
  qifsim_destroy(sim);
}

/* Errors: codes and messages, no crash, NULL handles. */
static void test_errors(void) {
  qifsim_sim* sim = (qifsim_sim*)1;
  EXPECT(qifsim_has_feature("no such feature") == 0, "unknown feature");
  if (!qifsim_has_feature("toml")) {
    EXPECT(qifsim_parse_config("dt = 1e-3", NULL, &sim) == QIFSIM_ERR_CONFIG && sim == NULL, "no TOML support");
    EXPECT(strstr(qifsim_last_error(), "libtomlplusplus-dev") != NULL, "%s", qifsim_last_error());
  } else {
    EXPECT(qifsim_parse_config("dt = 1e-3\nsteps = 5\n[[population]]\nname = \"p\"\nn = 2\nweight = 1\n", NULL, &sim) ==
               QIFSIM_ERR_CONFIG,
           "bad config accepted");
    EXPECT(sim == NULL, "handle not cleared");
    EXPECT(strstr(qifsim_last_error(), "unknown key 'weight'") && strstr(qifsim_last_error(), "did you mean 'weights'"),
           "%s", qifsim_last_error());
    EXPECT(qifsim_load_config("/nonexistent/run.toml", &sim) == QIFSIM_ERR_CONFIG, "missing file");
    EXPECT(strstr(qifsim_last_error(), "/nonexistent/run.toml") != NULL, "%s", qifsim_last_error());
  }
  EXPECT(qifsim_create(1e-3, "quantum", "float64", &sim) == QIFSIM_ERR_ARGUMENT, "bad backend");
  EXPECT(strstr(qifsim_last_error(), "quantum") != NULL, "%s", qifsim_last_error());
  EXPECT(qifsim_samples(NULL, NULL) == QIFSIM_ERR_ARGUMENT, "NULL accepted");

  OK(qifsim_create(1e-3, "cpu", "float64", &sim));
  OK(qifsim_add_population(sim, "a", 2, NULL, 0));
  OK(qifsim_add_population(sim, "b", 2, NULL, 0));
  EXPECT(qifsim_compile(sim) == QIFSIM_ERR_GRAPH, "two unconnected nodes compiled");
  EXPECT(strstr(qifsim_last_error(), "'a'") && strstr(qifsim_last_error(), "'b'"), "%s", qifsim_last_error());
  const double w[6] = {1, 2, 3, 4, 5, 6};
  EXPECT(qifsim_add_edge(sim, "a", "b", w, 3, 2) == QIFSIM_ERR_ARGUMENT, "wrong edge shape");
  EXPECT(strstr(qifsim_last_error(), "3 x 2") && strstr(qifsim_last_error(), "2 x 2"), "%s", qifsim_last_error());
  double x[2] = {0, 0}, y[2];
  EXPECT(qifsim_forward(sim, x, y) == QIFSIM_ERR_ARGUMENT, "forward before compile");
  EXPECT(qifsim_samples(sim, &(int64_t){0}) == QIFSIM_ERR_ARGUMENT, "samples before a run");
  EXPECT(strstr(qifsim_last_error(), "no run yet") != NULL, "%s", qifsim_last_error());
  OK(qifsim_add_edge(sim, "a", "b", w, 2, 2));
  OK(qifsim_compile(sim));
  const double in[4] = {1, 1, 1, 1};
  /* A width that is not the network's is refused before the buffer is read (in[] holds 4
   * values, not the 6 that 2 x 3 would read). */
  EXPECT(qifsim_run(sim, in, 2, 3) != QIFSIM_OK, "wrong input width accepted");
  EXPECT(strstr(qifsim_last_error(), "width = 3") && strstr(qifsim_last_error(), "takes 2 inputs"), "%s",
         qifsim_last_error());
  EXPECT(qifsim_set_output(sim, "x", "npy,xlsx", 1) == QIFSIM_ERR_ARGUMENT, "bad format");
  EXPECT(strcmp(qifsim_status_name(QIFSIM_ERR_CONFIG), "config error") == 0, "status name");
  qifsim_destroy(sim);
  qifsim_destroy(NULL);
}

/* The seed tutorial's manual loop from C: qifsim_forward, then qifsim_get_var, records
 * exactly what qifsim_run records at the same steps (sampling 1): as in RectiPy, get_var
 * after forward shows the state at the start of the step just taken. */
static void test_manual(void) {
  enum { N = 3, T = 4000 };
  const double J[N * N] = {0.0, 9.0, 4.0, 7.0, 0.0, 5.0, 6.0, 8.0, 0.0};
  qifsim_sim* sim = NULL;
  OK(qifsim_create(1e-3, "cpu", "float64", &sim));
  OK(qifsim_add_population(sim, "qif", N, J, 0));
  OK(qifsim_compile(sim));
  double* inputs = (double*)malloc(sizeof(double) * T * N);
  double* out_loop = (double*)malloc(sizeof(double) * T * N);
  double* v_loop = (double*)malloc(sizeof(double) * T * N);
  for (int i = 0; i < T * N; ++i) inputs[i] = 30.0 + (double)(i % N);
  int64_t count = 0;
  for (int t = 0; t < T; ++t) {
    OK(qifsim_forward(sim, inputs + t * N, out_loop + t * N));
    OK(qifsim_get_var(sim, "qif", "v", v_loop + t * N, N, &count));
  }
  OK(qifsim_reset(sim));
  OK(qifsim_set_sampling(sim, 1, 0));
  OK(qifsim_add_record_var(sim, "qif", "v", 0));
  OK(qifsim_run(sim, inputs, T, N));
  double* out_run = (double*)malloc(sizeof(double) * T * N);
  double* v_run = (double*)malloc(sizeof(double) * T * N);
  OK(qifsim_copy_series(sim, "out", out_run, T * N));
  OK(qifsim_copy_series(sim, "qif.v", v_run, T * N));
  int spikes = 0;
  for (int i = 0; i < T * N; ++i) spikes += v_loop[i] > 99.0;
  EXPECT(spikes > 20, "only %d spikes: the comparison would not cover resets", spikes);
  EXPECT(memcmp(out_loop, out_run, sizeof(double) * T * N) == 0, "manual out differs from run()'s");
  EXPECT(memcmp(v_loop, v_run, sizeof(double) * T * N) == 0, "manual v differs from run()'s by up to %g",
         max_abs_diff(v_loop, v_run, T * N));
  /* Spike events: every step's v >= v_threshold (100) at the step's start, whatever the
   * sampling, in order of step, then neuron. */
  OK(qifsim_reset(sim));
  OK(qifsim_set_sampling(sim, 7, 0));
  OK(qifsim_add_record_spikes(sim, "qif"));
  EXPECT(qifsim_add_record_spikes(sim, "nobody") == QIFSIM_ERR_ARGUMENT, "an unknown population was accepted");
  OK(qifsim_run(sim, inputs, T, N));
  int64_t spike_count = -1, want = 0;
  for (int i = 0; i < T * N; ++i) want += v_loop[i] >= 100.0;
  OK(qifsim_spike_count(sim, "qif", &spike_count));
  EXPECT(spike_count == want, "%lld spike events, %lld spikes in the loop", (long long)spike_count, (long long)want);
  int64_t* ev_steps = (int64_t*)malloc(sizeof(int64_t) * (size_t)(spike_count + 1));
  int64_t* ev_neurons = (int64_t*)malloc(sizeof(int64_t) * (size_t)(spike_count + 1));
  OK(qifsim_copy_spikes(sim, "qif", ev_steps, ev_neurons, spike_count + 1));
  int64_t e = 0;
  for (int t = 0; t < T && e <= spike_count; ++t) {
    for (int i = 0; i < N; ++i) {
      if (v_loop[t * N + i] < 100.0) continue;
      EXPECT(e < spike_count && ev_steps[e] == t && ev_neurons[e] == i, "spike event %lld is not (%d, %d)",
             (long long)e, t, i);
      ++e;
    }
  }
  free(ev_steps), free(ev_neurons);
  free(inputs), free(out_loop), free(v_loop), free(out_run), free(v_run);
  qifsim_destroy(sim);
}

/* A run that diverges returns QIFSIM_ERR_DIVERGED, and the samples recorded before it stay
 * readable as the last recording (all finite). */
static void test_diverged(void) {
  qifsim_sim* sim = NULL;
  const double J[4] = {-1e308, -1e308, -1e308, -1e308};
  OK(qifsim_create(1e-3, "cpu", "float64", &sim));
  OK(qifsim_add_population(sim, "qif", 2, J, 0));
  const double s0 = 1.0;
  OK(qifsim_set_var(sim, "qif", "s", &s0, 1));
  OK(qifsim_compile(sim));
  OK(qifsim_add_record_var(sim, "qif", "v", 0));
  double inputs[2 * 500] = {0};
  const int rc = qifsim_run(sim, inputs, 500, 2);
  EXPECT(rc == QIFSIM_ERR_DIVERGED, "status %d (%s): %s", rc, qifsim_status_name(rc), qifsim_last_error());
  EXPECT(strstr(qifsim_last_error(), "'qif'") && strstr(qifsim_last_error(), "'v'"), "%s", qifsim_last_error());
  EXPECT(strcmp(qifsim_status_name(QIFSIM_ERR_DIVERGED), "diverged") == 0, "status name");
  int64_t samples = -1;
  OK(qifsim_samples(sim, &samples));
  EXPECT(samples >= 1 && samples < 500, "%lld samples kept", (long long)samples);
  double v[2 * 500];
  OK(qifsim_copy_series(sim, "qif.v", v, 2 * samples));
  for (int64_t i = 0; i < 2 * samples; ++i) EXPECT(isfinite(v[i]), "v[%lld] = %g recorded", (long long)i, v[i]);
  EXPECT(v[0] == -2.0, "the first sample is the initial v");
  qifsim_destroy(sim);
}

/* Sizes that do not match the network, or overflow, are refused before the caller's buffer
 * is read: the buffers here are smaller than the sizes passed, so reading them would be a
 * buffer overflow (AddressSanitizer, in the sanitizer build). */
static void test_sizes(void) {
  qifsim_sim* sim = NULL;
  OK(qifsim_create(1e-3, "cpu", "float64", &sim));
  OK(qifsim_add_population(sim, "p", 5, NULL, 0));
  OK(qifsim_add_function(sim, "f", 3, "identity"));
  double w[15] = {0};
  EXPECT(qifsim_add_edge(sim, "p", "f", w, 3000, 3000) == QIFSIM_ERR_ARGUMENT, "3000 x 3000 accepted for 3 x 5");
  EXPECT(strstr(qifsim_last_error(), "needs 3 x 5") != NULL, "%s", qifsim_last_error());
  EXPECT(qifsim_add_edge(sim, "p", "nowhere", w, 3, 5) == QIFSIM_ERR_ARGUMENT, "unknown target accepted");
  EXPECT(strstr(qifsim_last_error(), "'nowhere'") != NULL, "%s", qifsim_last_error());
  OK(qifsim_add_edge(sim, "p", "f", w, 3, 5));

  /* n * n overflows int64 (3037000500^2 > 2^63), or wraps to 0 (2^32): refused, not copied
   * and not silently dropped. */
  EXPECT(qifsim_add_population(sim, "huge", 3037000500LL, w, 0) == QIFSIM_ERR_ARGUMENT, "overflowing n accepted");
  EXPECT(strstr(qifsim_last_error(), "more than any array can hold") != NULL, "%s", qifsim_last_error());
  EXPECT(qifsim_add_population(sim, "wrap", 4294967296LL, w, 0) == QIFSIM_ERR_ARGUMENT, "n = 2^32 with weights accepted");
  EXPECT(qifsim_add_population(sim, "neg", -3, NULL, 0) == QIFSIM_ERR_ARGUMENT, "negative n accepted");
  int64_t size = 0;
  EXPECT(qifsim_node_size(sim, "wrap", &size) == QIFSIM_ERR_ARGUMENT, "a refused population was added");

  /* A count that is neither 1 nor the node's size is refused before the values are read. */
  EXPECT(qifsim_set_var(sim, "p", "eta", w, 1000000) == QIFSIM_ERR_ARGUMENT, "count 10^6 accepted for 5");
  EXPECT(strstr(qifsim_last_error(), "takes 1 value or 5") != NULL, "%s", qifsim_last_error());

  /* A population that cannot fit in memory is refused at compile, naming it. */
  qifsim_destroy(sim);
  OK(qifsim_create(1e-3, "cpu", "float64", &sim));
  OK(qifsim_add_population(sim, "big", 1099511627776LL, NULL, 0));
  EXPECT(qifsim_compile(sim) == QIFSIM_ERR_MEMORY, "a 2^40-neuron population compiled");
  qifsim_destroy(sim);
  EXPECT(strstr(qifsim_last_error(), "population 'big'") != NULL, "%s", qifsim_last_error());
}

/* One handle, several threads: a call while another thread is inside one returns
 * QIFSIM_ERR_BUSY at once; nothing crashes and the run that holds the handle is not
 * disturbed. */
enum { kThreadSteps = 1000000 };
static double* thread_inputs = NULL;

struct run_arg {
  qifsim_sim* sim;
  int status;
};

static void* run_once(void* p) {
  struct run_arg* a = (struct run_arg*)p;
  a->status = qifsim_run(a->sim, thread_inputs, kThreadSteps / 10, 2);
  return NULL;
}

static void* run_thread(void* p) {
  struct run_arg* a = (struct run_arg*)p;
  /* The other thread polls the handle: it may hold it for an instant when we start. */
  do {
    a->status = qifsim_run(a->sim, thread_inputs, kThreadSteps, 2);
  } while (a->status == QIFSIM_ERR_BUSY);
  return NULL;
}

static void test_threads(void) {
  qifsim_sim* sim = NULL;
  const double J[4] = {0.0, 2.0, 1.0, 0.0};
  OK(qifsim_create(1e-3, "cpu", "float64", &sim));
  OK(qifsim_add_population(sim, "qif", 2, J, 0));
  OK(qifsim_compile(sim));
  OK(qifsim_set_sampling(sim, 100, 0));
  thread_inputs = (double*)malloc(sizeof(double) * kThreadSteps * 2);
  for (int i = 0; i < kThreadSteps * 2; ++i) thread_inputs[i] = 10.0;

  /* The reference: the same run alone. */
  OK(qifsim_run(sim, thread_inputs, kThreadSteps, 2));
  int64_t samples = 0;
  OK(qifsim_samples(sim, &samples));
  double* alone = (double*)malloc(sizeof(double) * (size_t)samples * 2);
  OK(qifsim_copy_series(sim, "out", alone, samples * 2));
  OK(qifsim_reset(sim));

  /* A run in a thread; this thread asks while it goes. */
  struct run_arg arg = {sim, -1};
  pthread_t runner;
  pthread_create(&runner, NULL, run_thread, &arg);
  int busy = 0, others = 0;
  for (int i = 0; i < 100000 && !busy; ++i) {
    int64_t w = 0;
    const int rc = qifsim_input_width(sim, &w);
    if (rc == QIFSIM_ERR_BUSY) busy = 1;
    else if (rc != QIFSIM_OK) others = 1;
    else nanosleep(&(struct timespec){0, 20000}, NULL);
  }
  if (busy) {
    EXPECT(strstr(qifsim_last_error(), "in use by another thread") != NULL, "%s", qifsim_last_error());
    EXPECT(strcmp(qifsim_status_name(QIFSIM_ERR_BUSY), "busy") == 0, "status name");
  }
  int64_t n = 0;
  const int again = qifsim_run(sim, thread_inputs, kThreadSteps, 2);
  const int reset = qifsim_reset(sim);
  pthread_join(runner, NULL);
  EXPECT(busy, "a call during another thread's run was not refused as busy");
  EXPECT(arg.status == QIFSIM_OK, "the running thread failed: %s", qifsim_last_error());
  EXPECT(!others, "a call failed with another status than busy");
  EXPECT(again == QIFSIM_OK || again == QIFSIM_ERR_BUSY, "second run: status %d", again);
  EXPECT(reset == QIFSIM_OK || reset == QIFSIM_ERR_BUSY, "reset: status %d", reset);
  if (again == QIFSIM_ERR_BUSY && reset == QIFSIM_ERR_BUSY) {
    /* Both refused: the recording is the one thread's run, equal to the run alone. */
    OK(qifsim_samples(sim, &n));
    EXPECT(n == samples, "samples %lld vs %lld", (long long)n, (long long)samples);
    double* out = (double*)malloc(sizeof(double) * (size_t)samples * 2);
    OK(qifsim_copy_series(sim, "out", out, samples * 2));
    EXPECT(max_abs_diff(out, alone, (int)samples * 2) == 0.0, "the run was disturbed");
    free(out);
  }
  printf("threads: busy seen %s; a second run %s\n", busy ? "yes" : "no",
         again == QIFSIM_ERR_BUSY ? "was refused" : "ran after the first");

  /* Four threads run at once: each run either completes or is refused as busy. */
  struct run_arg args[4];
  pthread_t threads[4];
  for (int i = 0; i < 4; ++i) {
    args[i].sim = sim;
    args[i].status = -1;
    pthread_create(&threads[i], NULL, run_once, &args[i]);
  }
  int completed = 0;
  for (int i = 0; i < 4; ++i) {
    pthread_join(threads[i], NULL);
    EXPECT(args[i].status == QIFSIM_OK || args[i].status == QIFSIM_ERR_BUSY, "thread %d: status %d", i, args[i].status);
    completed += args[i].status == QIFSIM_OK;
  }
  EXPECT(completed >= 1, "no run completed");
  free(alone);
  free(thread_inputs);
  qifsim_destroy(sim);
}

/* The same pair from CSR arrays (columns unsorted, one entry split in two that are summed),
 * all-to-all, and each coupling mode, against the reference's v. */
static void test_sparse(void) {
  enum { N = 2, T = 2000 };
  const double J[N * N] = {0.0, 3.0, 1.5, 0.0};
  const double eta = -3.0, dt = 1e-3;
  static double I[T * N], s_ref[T * N], v_ref[T * N], v[T * N];
  for (int t = 0; t < T; ++t) I[t * N] = 9.0, I[t * N + 1] = 7.0 + sin(0.005 * t);
  reference(N, J, eta, I, T, dt, s_ref, v_ref);
  const int64_t indptr[N + 1] = {0, 1, 3};
  const int64_t indices[3] = {1, 0, 0};
  const double values[3] = {3.0, 1.0, 0.5};
  const char* modes[] = {"auto", "dense", "sparse", "events"};
  for (int m = 0; m < 4; ++m) {
    qifsim_sim* sim = NULL;
    OK(qifsim_create(dt, "cpu", "float64", &sim));
    OK(qifsim_add_population_csr(sim, "qif", N, indptr, indices, values, 0));
    OK(qifsim_set_var(sim, "qif", "eta", &eta, 1));
    OK(qifsim_compile(sim));
    OK(qifsim_set_record_output(sim, 0));
    OK(qifsim_add_record_var(sim, "qif", "v", 0));
    OK(qifsim_set_coupling(sim, modes[m], 0));
    OK(qifsim_run(sim, I, T, N));
    OK(qifsim_copy_series(sim, "qif.v", v, T * N));
    EXPECT(max_abs_diff(v, v_ref, T * N) < 1e-9, "csr, coupling %s: v differs by %g", modes[m], max_abs_diff(v, v_ref, T * N));
    qifsim_destroy(sim);
  }
  /* All-to-all 0.75: the reference's J with every entry 0.75. */
  const double J_all[N * N] = {0.75, 0.75, 0.75, 0.75};
  reference(N, J_all, eta, I, T, dt, s_ref, v_ref);
  qifsim_sim* sim = NULL;
  OK(qifsim_create(dt, "cpu", "float64", &sim));
  OK(qifsim_add_population_all_to_all(sim, "qif", N, 0.75, 0));
  OK(qifsim_set_var(sim, "qif", "eta", &eta, 1));
  OK(qifsim_compile(sim));
  OK(qifsim_set_record_output(sim, 0));
  OK(qifsim_add_record_var(sim, "qif", "v", 0));
  OK(qifsim_run(sim, I, T, N));
  OK(qifsim_copy_series(sim, "qif.v", v, T * N));
  EXPECT(max_abs_diff(v, v_ref, T * N) < 1e-9, "all-to-all: v differs by %g", max_abs_diff(v, v_ref, T * N));
  /* Bad arrays and modes are refused with a message. */
  const int64_t bad_ptr[N + 1] = {0, 2, 1};
  EXPECT(qifsim_add_population_csr(sim, "bad", N, bad_ptr, indices, values, 0) == QIFSIM_ERR_ARGUMENT &&
             strstr(qifsim_last_error(), "indptr") != NULL,
         "decreasing indptr: %s", qifsim_last_error());
  const int64_t far[3] = {1, 0, 7};
  EXPECT(qifsim_add_population_csr(sim, "bad", N, indptr, far, values, 0) == QIFSIM_ERR_ARGUMENT &&
             strstr(qifsim_last_error(), "column index 7") != NULL,
         "column out of range: %s", qifsim_last_error());
  /* Sizes past the row limit are refused before indptr[n] is read (the arrays are short). */
  const int64_t huge[2] = {INT64_C(1) << 31, INT64_MAX};
  for (int h = 0; h < 2; ++h) {
    EXPECT(qifsim_add_population_csr(sim, "huge", huge[h], indptr, indices, values, 0) == QIFSIM_ERR_ARGUMENT &&
               strstr(qifsim_last_error(), "2^31 - 1") != NULL,
           "n = %lld: %s", (long long)huge[h], qifsim_last_error());
    EXPECT(qifsim_add_edge_csr(sim, "qif", "qif", huge[h], huge[h], indptr, indices, values) != QIFSIM_OK,
           "edge of %lld rows accepted", (long long)huge[h]);
  }
  EXPECT(qifsim_set_coupling(sim, "csr", 0) == QIFSIM_ERR_ARGUMENT && strstr(qifsim_last_error(), "csr") != NULL,
         "unknown mode: %s", qifsim_last_error());
  EXPECT(qifsim_set_coupling(sim, "events", -2) == QIFSIM_ERR_ARGUMENT, "negative resync accepted");
  qifsim_destroy(sim);
}

/* RectiPy's other edges through the C API: input unit i arrives delays[i] steps later, through
 * weights times the mask (references written here). */
static void test_edges(void) {
  enum { IN = 2, OUT = 2, T = 12 };
  static double x[T * IN], out[T * OUT], want[T * OUT];
  for (int t = 0; t < T; ++t) x[t * IN] = 1.0 + t, x[t * IN + 1] = 100.0 - t;
  const double w[OUT * IN] = {1.0, 2.0, -1.0, 0.5}, mask[OUT * IN] = {1.0, 0.0, 1.0, 1.0};
  const int64_t delays[IN] = {3, 1};
  for (int t = 0; t < T; ++t) {
    const double z0 = t >= 3 ? x[(t - 3) * IN] : 0.0, z1 = t >= 1 ? x[(t - 1) * IN + 1] : 0.0;
    want[t * OUT] = 1.0 * z0, want[t * OUT + 1] = -1.0 * z0 + 0.5 * z1;
  }
  qifsim_sim* sim = NULL;
  OK(qifsim_create(1e-3, "cpu", "float64", &sim));
  OK(qifsim_add_function(sim, "inp", IN, "identity"));
  OK(qifsim_add_function(sim, "out", OUT, "identity"));
  const int64_t bad[IN] = {1, -1};
  EXPECT(qifsim_add_edge_options(sim, "inp", "out", w, OUT, IN, bad, NULL, NULL) == QIFSIM_ERR_ARGUMENT &&
             strstr(qifsim_last_error(), "negative") != NULL,
         "a negative delay: %s", qifsim_last_error());
  OK(qifsim_add_edge_options(sim, "inp", "out", w, OUT, IN, delays, NULL, mask));
  OK(qifsim_compile(sim));
  OK(qifsim_run(sim, x, T, IN));
  OK(qifsim_copy_series(sim, "out", out, T * OUT));
  EXPECT(max_abs_diff(out, want, T * OUT) < 1e-12, "delayed, masked edge differs by %g", max_abs_diff(out, want, T * OUT));
  qifsim_destroy(sim);
}

/* A leaky integrator (r = tanh(v)) through the C API against its Euler steps written here. */
static void test_models(void) {
  enum { N = 2, T = 500 };
  const double J[N * N] = {0.0, 0.8, -0.6, 0.0};
  const double dt = 1e-2, tau = 2.0;
  static double I[T * N], v_ref[T * N], v[T * N];
  double x[N] = {0.3, -0.2};
  for (int t = 0; t < T; ++t) {
    I[t * N] = 0.5, I[t * N + 1] = -0.25 + 0.1 * sin(0.01 * t);
    const double r[N] = {tanh(x[0]), tanh(x[1])};
    /* A rate node's run records its state after the step (RectiPy's RateNet). */
    for (int i = 0; i < N; ++i) {
      x[i] += dt * (-x[i] / tau + 1.0 * (J[i * N] * r[0] + J[i * N + 1] * r[1]) + I[t * N + i] + 0.0);
      v_ref[t * N + i] = x[i];
    }
  }
  qifsim_sim* sim = NULL;
  OK(qifsim_create(dt, "auto", "float64", &sim));
  OK(qifsim_add_model_population(sim, "li", "tanh", N, J));
  const double v0[N] = {0.3, -0.2};
  OK(qifsim_set_var(sim, "li", "tau", &tau, 1));
  OK(qifsim_set_var(sim, "li", "v", v0, N));
  OK(qifsim_compile(sim));
  OK(qifsim_set_record_output(sim, 0));
  OK(qifsim_add_record_var(sim, "li", "v", 0));
  OK(qifsim_run(sim, I, T, N));
  OK(qifsim_copy_series(sim, "li.v", v, T * N));
  EXPECT(max_abs_diff(v, v_ref, T * N) < 1e-12, "tanh: v differs by %g", max_abs_diff(v, v_ref, T * N));
  EXPECT(qifsim_add_model_population(sim, "bad", "hh", 2, NULL) == QIFSIM_ERR_ARGUMENT &&
             strstr(qifsim_last_error(), "'hh' is unknown") != NULL,
         "unknown model: %s", qifsim_last_error());
  qifsim_destroy(sim);
}

/* Poisson input counted by a leaky integrator without leak (tau 1e9, k = eta = 0, weight 1):
 * v ends at the number of input spikes, whose mean over neurons is sources * rate * dt * steps;
 * noise with one seed twice gives the same v, another seed another; bad sizes are refused. */
static double poisson_mean(uint64_t noise_seed, double* v, int n) {
  enum { T = 200 };
  static double I[T * 500];
  memset(I, 0, sizeof I);
  qifsim_sim* sim = NULL;
  OK(qifsim_create(0.01, "cpu", "float64", &sim));
  OK(qifsim_add_model_population(sim, "li", "tanh", n, NULL));
  const double tau = 1e9, zero = 0.0, sigma = 0.01;
  OK(qifsim_set_var(sim, "li", "tau", &tau, 1));
  OK(qifsim_set_var(sim, "li", "k", &zero, 1));
  OK(qifsim_add_poisson_input(sim, "li", 4.0, 1.0, 25, 0, 11)); /* lambda = 1 per step */
  OK(qifsim_add_noise(sim, "li", &sigma, 1, noise_seed));
  OK(qifsim_compile(sim));
  OK(qifsim_set_record_output(sim, 0));
  OK(qifsim_run(sim, I, T, n));
  int64_t count = 0;
  OK(qifsim_get_var(sim, "li", "v", v, n, &count));
  double mean = 0.0;
  for (int i = 0; i < n; ++i) mean += v[i] / n;
  qifsim_destroy(sim);
  return mean;
}

static void test_noise(void) {
  enum { N = 500 };
  static double a[N], b[N], c[N];
  const double mean = poisson_mean(1, a, N), expected = 25 * 4.0 * 0.01 * 200; /* 200 */
  EXPECT(fabs(mean - expected) < 5 * sqrt(expected / N) + 0.1, "Poisson input: mean %g, expected %g", mean, expected);
  poisson_mean(1, b, N);
  poisson_mean(2, c, N);
  EXPECT(memcmp(a, b, sizeof a) == 0, "the same seeds gave different v");
  EXPECT(memcmp(a, c, sizeof a) != 0, "another noise seed gave the same v");
  qifsim_sim* sim = NULL;
  OK(qifsim_create(0.01, "cpu", "float64", &sim));
  OK(qifsim_add_population(sim, "qif", 4, NULL, 0));
  const double two[2] = {1.0, 1.0}, negative = -1.0;
  EXPECT(qifsim_add_noise(sim, "qif", two, 2, 0) == QIFSIM_ERR_ARGUMENT && strstr(qifsim_last_error(), "count = 2"),
         "a sigma of 2 values for 4 neurons: %s", qifsim_last_error());
  EXPECT(qifsim_add_noise(sim, "qif", &negative, 1, 0) == QIFSIM_ERR_ARGUMENT && strstr(qifsim_last_error(), "sigma = -1"),
         "a negative sigma: %s", qifsim_last_error());
  EXPECT(qifsim_add_poisson_input(sim, "nobody", 1.0, 1.0, 1, 0, 0) == QIFSIM_ERR_ARGUMENT,
         "Poisson input onto an unknown node was accepted");
  qifsim_destroy(sim);
}

/* A sweep of eta over two members: the recording has a member axis, and each member is the
 * single run with its eta (within rounding: the default mode applies J to both members as one
 * matrix product). */
static void sweep_network(qifsim_sim** sim) {
  static const double J[16] = {0.0, 0.5, -0.2, 0.1, 0.3, 0.0, 0.4, -0.1, 0.2, 0.1, 0.0, 0.3, -0.3, 0.2, 0.1, 0.0};
  OK(qifsim_create(0.005, "cpu", "float64", sim));
  OK(qifsim_add_population(*sim, "qif", 4, J, 0));
  OK(qifsim_compile(*sim));
  OK(qifsim_add_record_var(*sim, "qif", "v", 0));
}

static void test_sweep(void) {
  enum { T = 300, N = 4 };
  static double x[T * N], ens[T * 2 * N], one[T * N];
  for (int t = 0; t < T; ++t) {
    for (int i = 0; i < N; ++i) x[t * N + i] = 2.0 + 0.5 * i;
  }
  qifsim_sim* sim = NULL;
  sweep_network(&sim);
  const double etas[2] = {-1.0, 0.5};
  OK(qifsim_add_sweep_key(sim, "qif.eta", etas, 2, 1));
  OK(qifsim_run(sim, x, T, N));
  int64_t members = 0, width = 0, samples = 0;
  OK(qifsim_members(sim, &members));
  OK(qifsim_series_width(sim, "qif.v", &width));
  OK(qifsim_samples(sim, &samples));
  EXPECT(members == 2 && width == N && samples == T, "members %lld, width %lld, samples %lld", (long long)members,
         (long long)width, (long long)samples);
  OK(qifsim_copy_series(sim, "qif.v", ens, T * 2 * N));
  EXPECT(qifsim_add_sweep_key(sim, "qif.etta", etas, 2, 1) == QIFSIM_ERR_ARGUMENT && strstr(qifsim_last_error(), "etta"),
         "an unknown swept name: %s", qifsim_last_error());
  EXPECT(qifsim_set_sweep_mode(sim, "product") == QIFSIM_ERR_ARGUMENT, "an unknown sweep mode was accepted");
  qifsim_destroy(sim);
  for (int b = 0; b < 2; ++b) {
    sweep_network(&sim);
    OK(qifsim_set_var(sim, "qif", "eta", &etas[b], 1));
    OK(qifsim_run(sim, x, T, N));
    OK(qifsim_copy_series(sim, "qif.v", one, T * N));
    double worst = 0.0;
    for (int t = 0; t < T; ++t) {
      for (int i = 0; i < N; ++i) {
        const double d = fabs(ens[(t * 2 + b) * N + i] - one[t * N + i]) / (1.0 + fabs(one[t * N + i]));
        if (d > worst) worst = d;
      }
    }
    EXPECT(worst < 1e-12, "member %d differs from its single run by %g (relative)", b, worst);
    qifsim_destroy(sim);
  }
}

int main(int argc, char** argv) {
  const char* which = argc > 1 ? argv[1] : "all";
  const char* tmp = argc > 2 ? argv[2] : "c_api_out";
  if (!strcmp(which, "all") || !strcmp(which, "arrays")) test_arrays();
  if (!strcmp(which, "all") || !strcmp(which, "config")) test_config(tmp);
  if (!strcmp(which, "all") || !strcmp(which, "errors")) test_errors();
  if (!strcmp(which, "all") || !strcmp(which, "manual")) test_manual();
  if (!strcmp(which, "all") || !strcmp(which, "diverged")) test_diverged();
  if (!strcmp(which, "all") || !strcmp(which, "sizes")) test_sizes();
  if (!strcmp(which, "all") || !strcmp(which, "threads")) test_threads();
  if (!strcmp(which, "all") || !strcmp(which, "sparse")) test_sparse();
  if (!strcmp(which, "all") || !strcmp(which, "models")) test_models();
  if (!strcmp(which, "all") || !strcmp(which, "edges")) test_edges();
  if (!strcmp(which, "all") || !strcmp(which, "noise")) test_noise();
  if (!strcmp(which, "all") || !strcmp(which, "sweep")) test_sweep();
  if (failures) fprintf(stderr, "%d check(s) failed\n", failures);
  else printf("test_c_api %s: all checks passed (qifsim %s)\n", which, qifsim_version());
  return failures ? 1 : 0;
}
