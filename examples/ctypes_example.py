#!/usr/bin/python3
"""The C API from Python through ctypes: run a config string, read a recording into numpy.

  /usr/bin/python3 examples/ctypes_example.py [path/to/libqifsim_c.so]

Without an argument the library is looked for in $QIFSIM_LIB, build/src/ and the system's
library path. Needs python3-numpy.
"""
import ctypes
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def load_library(path=None):
    candidates = [path, os.environ.get("QIFSIM_LIB"),
                  os.path.join(HERE, "..", "build", "src", "libqifsim_c.so"), "libqifsim_c.so"]
    for c in candidates:
        if not c:
            continue
        try:
            return ctypes.CDLL(c)
        except OSError:
            pass
    sys.exit("cannot find libqifsim_c.so; pass its path or set QIFSIM_LIB")


def bind(lib):
    i64, p, cs = ctypes.c_int64, ctypes.c_void_p, ctypes.c_char_p
    dbl_p = ctypes.POINTER(ctypes.c_double)
    sigs = {
        "qifsim_version": (cs, []),
        "qifsim_last_error": (cs, []),
        "qifsim_parse_config": (ctypes.c_int, [cs, cs, ctypes.POINTER(p)]),
        "qifsim_set_output": (ctypes.c_int, [p, cs, cs, ctypes.c_int]),
        "qifsim_run_config": (ctypes.c_int, [p]),
        "qifsim_samples": (ctypes.c_int, [p, ctypes.POINTER(i64)]),
        "qifsim_series_width": (ctypes.c_int, [p, cs, ctypes.POINTER(i64)]),
        "qifsim_copy_series": (ctypes.c_int, [p, cs, dbl_p, i64]),
        "qifsim_copy_times": (ctypes.c_int, [p, dbl_p, i64]),
        "qifsim_destroy": (None, [p]),
    }
    for name, (res, args) in sigs.items():
        f = getattr(lib, name)
        f.restype, f.argtypes = res, args
    return lib


class Sim:
    """A small Python wrapper: errors become exceptions carrying qifsim_last_error()."""

    def __init__(self, lib, toml_text, base_dir="."):
        self.lib = lib
        self.handle = ctypes.c_void_p()
        self._check(lib.qifsim_parse_config(toml_text.encode(), base_dir.encode(), ctypes.byref(self.handle)))

    def _check(self, status):
        if status != 0:
            raise RuntimeError(self.lib.qifsim_last_error().decode())

    def run(self):
        self._check(self.lib.qifsim_set_output(self.handle, None, None, 1))  # memory only
        self._check(self.lib.qifsim_run_config(self.handle))

    def series(self, key):
        n, w = ctypes.c_int64(), ctypes.c_int64()
        self._check(self.lib.qifsim_samples(self.handle, ctypes.byref(n)))
        self._check(self.lib.qifsim_series_width(self.handle, key.encode(), ctypes.byref(w)))
        a = np.empty((n.value, w.value))
        self._check(self.lib.qifsim_copy_series(self.handle, key.encode(),
                                                a.ctypes.data_as(ctypes.POINTER(ctypes.c_double)), a.size))
        return a

    def times(self):
        n = ctypes.c_int64()
        self._check(self.lib.qifsim_samples(self.handle, ctypes.byref(n)))
        t = np.empty(n.value)
        self._check(self.lib.qifsim_copy_times(self.handle, t.ctypes.data_as(ctypes.POINTER(ctypes.c_double)), t.size))
        return t

    def __del__(self):
        if getattr(self, "handle", None):
            self.lib.qifsim_destroy(self.handle)


CONFIG = """
dt = 1e-3
steps = 5000
[[population]]
name = "qif"
n = 5
weights = { kind = "uniform", low = 0.0, high = 20.0, seed = 42 }
[input]
value = 15.0
[record]
vars = [["qif", "v", true]]
sampling_steps = 2
"""

if __name__ == "__main__":
    lib = bind(load_library(sys.argv[1] if len(sys.argv) > 1 else None))
    print("qifsim", lib.qifsim_version().decode(), "through ctypes")
    sim = Sim(lib, CONFIG)
    sim.run()
    v, t = sim.series("qif.v"), sim.times()
    print(f"qif.v: {v.shape[0]} samples x {v.shape[1]}, t = {t[0]} .. {t[-1]}, mean v = {v.mean():.3f}")
    try:
        Sim(lib, CONFIG.replace("n = 5", "n = 5\nbogus = 1"))
    except RuntimeError as e:
        print("a bad config:", e)
