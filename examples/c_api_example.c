/* examples/c_api_example.c - the C API: a network from arrays, or from a config file.
 *
 *   c_api_example                      N = 5 neurons, J_ij = 2 (i != j), constant input 15
 *   c_api_example CONFIG.toml          the config's network and inputs
 *
 * Build against the installed package: find_package(qifsim) and link qifsim::qifsim_c,
 * or: cc c_api_example.c -I<prefix>/include -L<prefix>/lib -lqifsim_c
 */
#include <stdio.h>
#include <stdlib.h>

#include "qifsim/qifsim.h"

/* Print the failed call's status and message and leave. */
#define CHECK(call)                                                                        \
  do {                                                                                     \
    int status_ = (call);                                                                  \
    if (status_ != QIFSIM_OK) {                                                            \
      fprintf(stderr, "%s failed (%s): %s\n", #call, qifsim_status_name(status_), qifsim_last_error()); \
      return 1;                                                                            \
    }                                                                                      \
  } while (0)

int main(int argc, char** argv) {
  qifsim_sim* sim = NULL;
  enum { N = 5, STEPS = 2000 };
  printf("qifsim %s, C API\n", qifsim_version());
  if (argc > 1) {
    CHECK(qifsim_load_config(argv[1], &sim));
    CHECK(qifsim_set_output(sim, NULL, NULL, 1)); /* keep in memory, write no files */
    CHECK(qifsim_run_config(sim));
  } else {
    double J[N * N];
    for (int i = 0; i < N; ++i)
      for (int j = 0; j < N; ++j) J[i * N + j] = i == j ? 0.0 : 2.0;
    const double eta = -5.0;
    CHECK(qifsim_create(1e-3, "auto", "float64", &sim));
    CHECK(qifsim_add_population(sim, "qif", N, J, 0));
    CHECK(qifsim_set_var(sim, "qif", "eta", &eta, 1));
    CHECK(qifsim_compile(sim));
    CHECK(qifsim_add_record_var(sim, "qif", "v", 1));
    CHECK(qifsim_set_sampling(sim, 10, 0));
    double* inputs = malloc(sizeof(double) * STEPS * N);
    for (int k = 0; k < STEPS * N; ++k) inputs[k] = 15.0;
    const int status = qifsim_run(sim, inputs, STEPS, N);
    free(inputs);
    CHECK(status);
  }

  int64_t samples = 0, count = 0;
  CHECK(qifsim_samples(sim, &samples));
  CHECK(qifsim_series_count(sim, &count));
  printf("%lld samples; series:", (long long)samples);
  for (int64_t i = 0; i < count; ++i) {
    char key[64];
    int64_t width = 0;
    CHECK(qifsim_series_name(sim, i, key, sizeof key));
    CHECK(qifsim_series_width(sim, key, &width));
    printf(" %s (%lld)", key, (long long)width);
  }
  printf("\n");

  int64_t width = 0;
  CHECK(qifsim_series_width(sim, "out", &width));
  double* out = malloc(sizeof(double) * (size_t)(samples * width));
  double* t = malloc(sizeof(double) * (size_t)samples);
  CHECK(qifsim_copy_series(sim, "out", out, samples * width));
  CHECK(qifsim_copy_times(sim, t, samples));
  printf("last sample: t = %g, out[0] = %g\n", t[samples - 1], out[(samples - 1) * width]);
  free(out);
  free(t);

  /* Errors come back as status codes with a message. */
  double y[1];
  const int bad = qifsim_get_var(sim, "nope", "v", y, 1, NULL);
  printf("a bad call: status %d (%s): %s\n", bad, qifsim_status_name(bad), qifsim_last_error());
  qifsim_destroy(sim);
  return 0;
}
