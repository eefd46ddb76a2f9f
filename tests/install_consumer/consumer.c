/* tests/install_consumer/consumer.c - the installed C API from C: one neuron against a
 * hand-written Euler loop, and an error message. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "qifsim/qifsim.h"

int main(void) {
  qifsim_sim* sim = NULL;
  const double eta = 2.0;
  double in[1500], v[1500];
  for (int t = 0; t < 1500; ++t) in[t] = 3.0;
  if (qifsim_create(1e-3, "cpu", "float64", &sim) || qifsim_add_population(sim, "p", 1, NULL, 0) ||
      qifsim_set_var(sim, "p", "eta", &eta, 1) || qifsim_compile(sim) || qifsim_add_record_var(sim, "p", "v", 0) ||
      qifsim_run(sim, in, 1500, 1) || qifsim_copy_series(sim, "p.v", v, 1500)) {
    fprintf(stderr, "consumer_c: %s\n", qifsim_last_error());
    return 1;
  }
  double x = -2.0, worst = 0.0;
  for (int t = 0; t < 1500; ++t) {
    worst = fmax(worst, fabs(v[t] - x));
    x = x >= 100.0 ? -100.0 : x + 1e-3 * (x * x + 5.0);
  }
  const int bad = qifsim_get_var(sim, "q", "v", v, 1, NULL);
  qifsim_destroy(sim);
  printf("consumer_c: qifsim %s, max |v - reference| = %g, bad call: %s\n", qifsim_version(), worst, qifsim_last_error());
  return worst < 1e-9 && bad == QIFSIM_ERR_ARGUMENT && strstr(qifsim_last_error(), "'q'") ? 0 : 1;
}
