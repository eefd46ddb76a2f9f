/* tests/fuzz/fuzz_c_api.c - libFuzzer target: the C API driven by a sequence of calls that
 * the input bytes choose, with random sizes, always within the caller's contract of
 * qifsim.h (a buffer holds the values its size arguments say). Sizes that do not match the
 * network, overflow, or cannot fit must come back as error codes with a message; crashes,
 * leaks, undefined behaviour, hangs and large allocations are findings.
 *
 * Each call's status is checked: QIFSIM_OK, or an error code with a non-empty message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qifsim/qifsim.h"

typedef struct {
  const uint8_t* p;
  size_t n;
} Input;

static unsigned byte(Input* in) {
  if (in->n == 0) return 0;
  --in->n;
  return *in->p++;
}

static double value(Input* in) {
  static const double table[] = {0.0, 1.0, -1.0, 15.0, -5.0, 100.0, -100.0, 1e-3, 1e300, -1e300, 0.5, 3.0};
  return table[byte(in) % (sizeof table / sizeof table[0])];
}

/* A size: mostly small (and then a buffer of it can be allocated), sometimes large or
 * negative (and then only with a NULL buffer, or where the API must refuse first). Large
 * sizes either fit in a few MiB or cannot fit in any machine's memory (so that the
 * harness's memory limit is never what decides); products of two of them overflow. */
static int64_t size_of(Input* in, int* small) {
  static const int64_t huge[] = {0, -1, -3, 1000, 65536, 68719476736LL, 1099511627776LL, 4611686018427387904LL,
                                 INT64_MAX};
  const unsigned b = byte(in);
  if (b < 200) {
    *small = 1;
    return 1 + (int64_t)(b % 8);
  }
  *small = 0;
  return huge[b % (sizeof huge / sizeof huge[0])];
}

static const char* name_of(Input* in) {
  static const char* names[] = {"a", "b", "c", "qif", "", "bad name", "a"};
  return names[byte(in) % (sizeof names / sizeof names[0])];
}

static const char* var_of(Input* in) {
  static const char* vars[] = {"v", "s", "x", "spike", "s_in", "I_ext", "eta", "tau", "k", "tau_s",
                               "v_threshold", "v_reset", "alpha", "tau_x", "in", "out", "nope"};
  return vars[byte(in) % (sizeof vars / sizeof vars[0])];
}

/* A buffer of `count` values (count >= 0 and small), filled from the input. */
static double* values(Input* in, int64_t count) {
  double* v = (double*)malloc(sizeof(double) * (size_t)(count > 0 ? count : 1));
  for (int64_t i = 0; i < count; ++i) v[i] = value(in);
  return v;
}

static void check(int status) {
  if (status < QIFSIM_OK || status > QIFSIM_ERR_DIVERGED) __builtin_trap();
  if (status != QIFSIM_OK && qifsim_last_error()[0] == '\0') __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in = {data, size};
  qifsim_sim* sim = NULL;
  static const char* activations[] = {"identity", "tanh", "sigmoid", "softmax", "softmin", "log_softmax", "relu"};
  check(qifsim_create(byte(&in) % 4 == 0 ? 0.0 : 1e-3, "cpu", byte(&in) % 2 ? "float32" : "float64", &sim));
  if (!sim) return 0;
  for (int op = 0; op < 48 && in.n > 0; ++op) {
    int small = 0;
    switch (byte(&in) % 16) {
      case 0: {
        const char* name = name_of(&in);
        const int64_t n = size_of(&in, &small);
        double* w = small && byte(&in) % 2 ? values(&in, n * n) : NULL;
        check(qifsim_add_population(sim, name, n, w, (int)(byte(&in) % 2)));
        free(w);
        break;
      }
      case 1:
        check(qifsim_add_function(sim, name_of(&in), size_of(&in, &small),
                                  activations[byte(&in) % (sizeof activations / sizeof activations[0])]));
        break;
      case 2: {
        const char* source = name_of(&in);
        const char* target = name_of(&in);
        int small_rows = 0, small_cols = 0;
        const int64_t rows = size_of(&in, &small_rows), cols = size_of(&in, &small_cols);
        if (small_rows && small_cols) {
          double* w = values(&in, rows * cols);
          check(qifsim_add_edge(sim, source, target, w, rows, cols));
          free(w);
        } else if (rows <= 0 || cols <= 0) {
          double one = 1.0;  /* no shape has a size <= 0: refused before the buffer is read */
          const int rc = qifsim_add_edge(sim, source, target, &one, rows, cols);
          check(rc);
          if (rc == QIFSIM_OK) __builtin_trap();
        } else if (rows <= (1 << 20) / cols) {
          double* w = (double*)calloc((size_t)(rows * cols), sizeof(double));
          check(qifsim_add_edge(sim, source, target, w, rows, cols));
          free(w);
        } /* else: no buffer of that size can be given, so the contract allows no call */
        break;
      }
      case 3:
        check(qifsim_compile(sim));
        break;
      case 4: {
        const char* node = name_of(&in);
        const char* var = var_of(&in);
        int64_t count = 1, n = 0;
        if (byte(&in) % 2 && qifsim_node_size(sim, node, &n) == QIFSIM_OK && n <= 64) count = n;
        double* v = values(&in, count);
        check(qifsim_set_var(sim, node, var, v, count));
        free(v);
        break;
      }
      case 5: {
        const int64_t capacity = (int64_t)(byte(&in) % 12);
        double* out = values(&in, capacity);
        int64_t count = 0;
        check(qifsim_get_var(sim, name_of(&in), var_of(&in), capacity ? out : NULL, capacity, &count));
        free(out);
        break;
      }
      case 6: {
        int64_t w_in = 0, w_out = 0;
        if (qifsim_input_width(sim, &w_in) != QIFSIM_OK || qifsim_output_width(sim, &w_out) != QIFSIM_OK) break;
        if (w_in > 64 || w_out > 64) break;
        double* x = values(&in, w_in);
        double* y = values(&in, w_out);
        check(qifsim_forward(sim, x, y));
        free(x);
        free(y);
        break;
      }
      case 7: {
        const int64_t steps = 1 + (int64_t)(byte(&in) % 40);
        int64_t width = 0;
        /* The network's width, or another small one (refused): always with a buffer of it. */
        if (byte(&in) % 4 == 0 || qifsim_input_width(sim, &width) != QIFSIM_OK || width > 4096) {
          width = 1 + (int64_t)(byte(&in) % 8);
        }
        double* x = values(&in, steps * width);
        check(qifsim_run(sim, x, steps, width));
        free(x);
        break;
      }
      case 8:
        check(qifsim_set_sampling(sim, (int64_t)(byte(&in) % 5) - 1, (int64_t)(byte(&in) % 7) - 1));
        break;
      case 9:
        check(qifsim_add_record_var(sim, name_of(&in), var_of(&in), (int)(byte(&in) % 2)));
        break;
      case 10: {
        int64_t samples = 0, series = 0, width = 0;
        check(qifsim_samples(sim, &samples));
        check(qifsim_series_count(sim, &series));
        char buf[16];
        check(qifsim_series_name(sim, (int64_t)(byte(&in) % 4), buf, (int64_t)(byte(&in) % (sizeof buf + 1))));
        const char* key = byte(&in) % 2 ? "out" : "qif.v";
        if (qifsim_series_width(sim, key, &width) == QIFSIM_OK && samples * width <= 4096) {
          const int64_t capacity = samples * width - (int64_t)(byte(&in) % 2);
          double* out = values(&in, capacity > 0 ? capacity : 0);
          check(qifsim_copy_series(sim, key, out, capacity));
          free(out);
        }
        if (samples <= 4096) {
          int64_t* steps = (int64_t*)malloc(sizeof(int64_t) * (size_t)(samples + 1));
          check(qifsim_copy_steps(sim, steps, samples));
          free(steps);
        }
        break;
      }
      case 11:
        check(qifsim_reset(sim));
        break;
      case 12:
        check(qifsim_clear_record_vars(sim));
        break;
      case 13:
        check(qifsim_set_record_output(sim, (int)(byte(&in) % 2)));
        break;
      case 14: {
        int64_t n = 0;
        check(qifsim_node_size(sim, name_of(&in), &n));
        break;
      }
      default:
        qifsim_destroy(sim);
        sim = NULL;
        check(qifsim_create(1e-3, "cpu", byte(&in) % 2 ? "float32" : "float64", &sim));
        if (!sim) return 0;
        break;
    }
  }
  qifsim_destroy(sim);
  return 0;
}
