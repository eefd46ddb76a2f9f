/* tests/test_c_api.c - the C API from a C program (compiled as C99).
 *
 * The reference is a plain Euler loop of the spec written here: one uncoupled neuron and a
 * two-neuron coupled pair, recorded with sampling and cutoff. Errors must come back as
 * status codes with messages naming what is wrong.
 *
 *   test_c_api [CASE]      (no CASE: all cases; exit status 0 when every check passes)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
  OK(qifsim_get_var(sim, "qif", "v", vv, N, &nv));
  EXPECT(nv == N && fabs(vv[1] - v_ref[5 * N + 1]) < 1e-12, "v after 5 steps");
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
  EXPECT(qifsim_run(sim, in, 2, 3) != QIFSIM_OK, "wrong input width accepted");
  EXPECT(strstr(qifsim_last_error(), "inputs are 2 x 3") != NULL, "%s", qifsim_last_error());
  EXPECT(qifsim_set_output(sim, "x", "npy,xlsx", 1) == QIFSIM_ERR_ARGUMENT, "bad format");
  EXPECT(strcmp(qifsim_status_name(QIFSIM_ERR_CONFIG), "config error") == 0, "status name");
  qifsim_destroy(sim);
  qifsim_destroy(NULL);
}

int main(int argc, char** argv) {
  const char* which = argc > 1 ? argv[1] : "all";
  const char* tmp = argc > 2 ? argv[2] : "c_api_out";
  if (!strcmp(which, "all") || !strcmp(which, "arrays")) test_arrays();
  if (!strcmp(which, "all") || !strcmp(which, "config")) test_config(tmp);
  if (!strcmp(which, "all") || !strcmp(which, "errors")) test_errors();
  if (failures) fprintf(stderr, "%d check(s) failed\n", failures);
  else printf("test_c_api %s: all checks passed (qifsim %s)\n", which, qifsim_version());
  return failures ? 1 : 0;
}
