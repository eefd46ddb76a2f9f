#!/usr/bin/python3
"""tests/check_files.py - the `qifsim` command line, its files and the C API from Python.

Runs `qifsim run` on configs that read weights, parameters and inputs from .npy files made
here with numpy, reads the NPY, HDF5 and CSV recordings back with numpy and h5py, and
compares them with an independent numpy simulation of the spec (semantics.md). Also: config
errors at the command line, the C API through ctypes, and the plot helper.

  /usr/bin/python3 tests/check_files.py --cli build/cli/qifsim --lib build/src/libqifsim_c.so \
      --plot scripts/qifsim-plot [unittest args, e.g. -k Formats]

Needs python3-numpy, python3-h5py and python3-matplotlib (Debian).
"""
import argparse
import ctypes
import os
import subprocess
import sys
import tempfile
import unittest

import h5py
import numpy as np

from run_progress import samples_written, signal_when_written, wait_until_written

ARGS = None
# `qifsim plot` runs its helper with this Python (the one running these checks, which has
# numpy and matplotlib), not with whatever /usr/bin/python3 is on this machine.
os.environ.setdefault("QIFSIM_PYTHON", sys.executable)


# ---- an independent reference: the spec, written with numpy ------------------------------

def activation(name, z):
    if name == "identity":
        return z
    if name == "tanh":
        return np.tanh(z)
    raise ValueError(name)


def reference(inputs, dt, pop, w_in=None, readout=None, sampling=1, cutoff=0, record=()):
    """Simulate one QIF population, optionally fed through an input projection w_in and read
    out through (weights, activation). Returns per sample: steps, out, and each recorded
    (name, mean) series. Variables are taken at the start of the sampled step."""
    T = inputs.shape[0]
    n = pop["n"]
    full = lambda key, default: np.broadcast_to(np.asarray(pop.get(key, default), float), (n,)).copy()
    eta, tau, k, tau_s = full("eta", -5.0), full("tau", 1.0), full("k", 1.0), full("tau_s", 1.0)
    vth, vreset = full("v_threshold", 100.0), full("v_reset", -100.0)
    alpha, tau_x = full("alpha", 1.0), full("tau_x", 10.0)
    J = pop.get("J", np.zeros((n, n)))
    v, s, x = full("v0", -2.0), full("s0", 0.0), full("x0", 0.0)
    adapt = pop.get("adaptation", False)
    steps, outs, rec = [], [], {name: [] for name, _ in record}
    acc, count = None, 0
    for t in range(T):
        I = inputs[t] if w_in is None else w_in @ inputs[t]
        if readout is None:
            y = s.copy()
            ro_in = None
        else:
            ro_in = readout[0] @ s
            y = activation(readout[1], ro_in)
        if t >= cutoff:
            acc = y.copy() if acc is None else acc + y
            count += 1
        if t >= cutoff and t % sampling == 0:
            steps.append(t)
            outs.append(acc / count)
            acc, count = None, 0
            values = {"qif.v": v, "qif.s": s, "qif.x": x, "ro.in": ro_in}
            for name, mean in record:
                val = values[name]
                rec[name].append([val.mean()] if mean else val.copy())
        spike = v >= vth
        s_in = J @ s
        drive = eta - x if adapt else eta
        v_new = v + dt * ((v * v + drive + I) / tau + k * s_in)
        s = s + dt * (-s / tau_s) + spike
        if adapt:
            x = x + dt * (-x / tau_x) + alpha * spike
        v = np.where(spike, vreset, v_new)
    return np.array(steps), np.array(outs), {name: np.array(r) for name, r in rec.items()}


def assert_close(test, got, want, what, rtol=1e-9, atol=1e-9):
    test.assertEqual(got.shape, want.shape, f"{what}: shape")
    bad = np.argwhere(~np.isclose(got, want, rtol=rtol, atol=atol))
    if bad.size:
        i = tuple(bad[0])
        test.fail(f"{what}: first difference at {i}: got {got[i]!r}, expected {want[i]!r} ({len(bad)} differ)")


def run_cli(*args, cwd=None):
    return subprocess.run([ARGS.cli, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


# ---- fixtures -------------------------------------------------------------------------------

class Case:
    """Config A: one population whose J, eta and input come from .npy files, plus a step and
    a sine added to the input; per-neuron v, mean s; sampling 3 from step 100."""

    N, T, DT = 6, 1500, 1e-3

    def __init__(self, folder):
        rng = np.random.default_rng(7)
        self.folder = folder
        self.J = rng.uniform(0.0, 4.0, (self.N, self.N))
        self.eta = rng.uniform(-6.0, 2.0, self.N)
        self.inp = rng.uniform(3.0, 12.0, (self.T, self.N))
        np.save(os.path.join(folder, "J.npy"), self.J)
        np.save(os.path.join(folder, "eta.npy"), self.eta.astype(np.float64))
        np.save(os.path.join(folder, "inp.npy"), self.inp)
        self.tau = [1.0, 0.9, 1.1, 1.0, 0.8, 1.2]
        self.text = f"""
description = "check_files: config A"
dt = {self.DT}
precision = "float64"
backend = "cpu"

[[population]]
name = "qif"
n = {self.N}
weights = "J.npy"
eta = "eta.npy"
tau = {self.tau}
tau_s = 0.8

[input]
file = "inp.npy"
[[input.step]]
start = 0.5
stop = 1.0
value = 2.0
[[input.sine]]
amplitude = 1.5
frequency = 2.0
phase = 0.3

[record]
vars = [["qif", "v", false], ["qif", "s", true]]
sampling_steps = 3
cutoff = 100
batch_samples = 17
out_dir = "out"
formats = ["npy", "hdf5", "csv"]
"""
        self.config = os.path.join(folder, "a.toml")
        with open(self.config, "w") as f:
            f.write(self.text)

    def expected(self):
        t = np.arange(self.T) * self.DT
        I = self.inp.copy()
        I[int(round(0.5 / self.DT)):int(round(1.0 / self.DT))] += 2.0
        I += 1.5 * np.sin(2 * np.pi * 2.0 * t + 0.3)[:, None]
        pop = {"n": self.N, "J": self.J, "eta": self.eta, "tau": self.tau, "tau_s": 0.8}
        return reference(I, self.DT, pop, sampling=3, cutoff=100, record=[("qif.v", False), ("qif.s", True)])


class CaseB:
    """Config B: input node -> adapting population (Lorentzian eta, all-to-all J) -> tanh
    readout; inline matrices, a constant per-input value and a pulse train."""

    N, T, DT = 5, 1200, 1e-3

    def __init__(self, folder):
        rng = np.random.default_rng(11)
        self.w_in = rng.uniform(0.0, 3.0, (self.N, 2)).round(3)
        self.w_out = rng.uniform(-0.5, 0.5, (3, self.N))
        np.save(os.path.join(folder, "w_out.npy"), self.w_out.astype(np.float32))  # float32 file
        self.w_out = self.w_out.astype(np.float32).astype(np.float64)
        rows = ", ".join("[" + ", ".join(repr(float(x)) for x in r) + "]" for r in self.w_in)
        self.text = f"""
dt = {self.DT}
steps = {self.T}
[[function]]
name = "inp"
size = 2
[[population]]
name = "qif"
n = {self.N}
eta = {{ kind = "lorentzian", center = 2.0, width = 0.5 }}
weights = {{ kind = "all_to_all", value = 0.3 }}
adaptation = true
alpha = 0.5
tau_x = 5.0
[[function]]
name = "ro"
size = 3
activation = "tanh"
[[edge]]
source = "inp"
target = "qif"
weights = [{rows}]
[[edge]]
source = "qif"
target = "ro"
weights = "w_out.npy"
[input]
value = [1.0, 2.0]
[[input.pulse]]
start = 0.2
period = 0.3
width = 0.1
value = [5.0, 0.0]
[record]
vars = [["qif", "x", true], ["ro", "in", false]]
sampling_steps = 2
out_dir = "outb"
formats = ["npy"]
"""
        self.config = os.path.join(folder, "b.toml")
        with open(self.config, "w") as f:
            f.write(self.text)

    def expected(self):
        n = self.N
        i = np.arange(1, n + 1)
        eta = 2.0 + 0.5 * np.tan(np.pi / 2 * (2 * i - n - 1) / (n + 1))
        x = np.tile([1.0, 2.0], (self.T, 1))
        first, period, width = 200, 300, 100
        for t in range(first, self.T):
            if (t - first) % period < width:
                x[t, 0] += 5.0
        pop = {"n": n, "J": np.full((n, n), 0.3), "eta": eta, "adaptation": True, "alpha": 0.5, "tau_x": 5.0}
        return reference(x, self.DT, pop, w_in=self.w_in, readout=(self.w_out, "tanh"), sampling=2,
                         record=[("qif.x", True), ("ro.in", False)])


# ---- tests ----------------------------------------------------------------------------------

class Formats(unittest.TestCase):
    """`qifsim run`: NPY, HDF5 and CSV files against the numpy reference."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.case = Case(cls.tmp.name)
        cls.proc = run_cli("run", "a.toml", cwd=cls.tmp.name)
        cls.out = os.path.join(cls.tmp.name, "out")
        cls.steps, cls.y, cls.rec = cls.case.expected()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_run_succeeds(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)
        self.assertIn("samples", self.proc.stdout)

    def test_npy(self):
        load = lambda name: np.load(os.path.join(self.out, name))
        steps = load("steps.npy")
        self.assertEqual(steps.dtype, np.int64)
        np.testing.assert_array_equal(steps, self.steps)
        assert_close(self, load("time.npy"), self.steps * Case.DT, "time.npy", rtol=1e-15, atol=0)
        assert_close(self, load("out.npy"), self.y, "out.npy")
        assert_close(self, load("qif.v.npy"), self.rec["qif.v"], "qif.v.npy")
        assert_close(self, load("qif.s.npy"), self.rec["qif.s"], "qif.s.npy")
        self.assertEqual(load("out.npy").dtype, np.float64)

    def test_hdf5(self):
        with h5py.File(os.path.join(self.out, "recording.h5"), "r") as f:
            self.assertEqual(set(f.keys()), {"out", "qif.v", "qif.s", "steps", "time"})
            np.testing.assert_array_equal(f["steps"][:], self.steps)
            assert_close(self, f["out"][:], self.y, "h5 out")
            assert_close(self, f["qif.v"][:], self.rec["qif.v"], "h5 qif.v")
            assert_close(self, f["qif.s"][:], self.rec["qif.s"], "h5 qif.s")
            self.assertIsNotNone(f["qif.v"].chunks, "datasets are chunked")
            self.assertEqual(f["qif.v"].maxshape, (None, Case.N), "extendible along samples")
            self.assertAlmostEqual(float(f.attrs["dt"]), Case.DT, places=15)
            self.assertEqual(int(f.attrs["sampling_steps"]), 3)
            self.assertEqual(int(f.attrs["cutoff"]), 100)
            config = f.attrs["config"]
            config = config.decode() if isinstance(config, bytes) else config
            self.assertIn('description = "check_files: config A"', config)

    def test_csv(self):
        with open(os.path.join(self.out, "qif.v.csv")) as f:
            header = f.readline().strip().split(",")
        self.assertEqual(header, ["step", "time"] + [f"qif.v[{j}]" for j in range(Case.N)])
        data = np.loadtxt(os.path.join(self.out, "qif.v.csv"), delimiter=",", skiprows=1)
        np.testing.assert_array_equal(data[:, 0].astype(np.int64), self.steps)
        assert_close(self, data[:, 2:], self.rec["qif.v"], "qif.v.csv")
        out = np.loadtxt(os.path.join(self.out, "out.csv"), delimiter=",", skiprows=1)
        assert_close(self, out[:, 2:], self.y, "out.csv")

    def test_config_copy(self):
        with open(os.path.join(self.out, "qifsim_run.toml")) as f:
            self.assertIn(self.case.text, f.read())


class Graph(unittest.TestCase):
    """Function nodes, edges, Lorentzian eta, adaptation, pulses, float32 .npy weights."""

    def test_config_b(self):
        with tempfile.TemporaryDirectory() as tmp:
            case = CaseB(tmp)
            proc = run_cli("run", "b.toml", "--quiet", cwd=tmp)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertEqual(proc.stdout, "", "--quiet prints nothing on stdout")
            steps, y, rec = case.expected()
            out = os.path.join(tmp, "outb")
            np.testing.assert_array_equal(np.load(os.path.join(out, "steps.npy")), steps)
            assert_close(self, np.load(os.path.join(out, "out.npy")), y, "out (tanh readout)")
            assert_close(self, np.load(os.path.join(out, "qif.x.npy")), rec["qif.x"], "qif.x (mean)")
            assert_close(self, np.load(os.path.join(out, "ro.in.npy")), rec["ro.in"], "ro.in")

    def test_overrides_and_out_dir(self):
        with tempfile.TemporaryDirectory() as tmp:
            Case(tmp)
            proc = run_cli("run", "a.toml", "-q", "--set", "record.sampling_steps=50", "--set",
                           "record.cutoff=0", "-o", "other", "-f", "npy", cwd=tmp)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            steps = np.load(os.path.join(tmp, "other", "steps.npy"))
            np.testing.assert_array_equal(steps, np.arange(0, Case.T, 50))
            self.assertFalse(os.path.exists(os.path.join(tmp, "other", "recording.h5")))
            self.assertFalse(os.path.exists(os.path.join(tmp, "out")))


class Errors(unittest.TestCase):
    """A bad config stops before the run, exit status 2, naming key, file and shape."""

    def check(self, setup, *expected, extra=()):
        with tempfile.TemporaryDirectory() as tmp:
            Case(tmp)
            setup(tmp)
            proc = run_cli("run", "a.toml", *extra, cwd=tmp)
            self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
            for e in expected:
                self.assertIn(e, proc.stderr)
            self.assertFalse(os.path.exists(os.path.join(tmp, "out")), "nothing was written")

    def edit(self, old, new):
        def do(tmp):
            path = os.path.join(tmp, "a.toml")
            with open(path) as f:
                text = f.read()
            self.assertIn(old, text)
            with open(path, "w") as f:
                f.write(text.replace(old, new))
        return do

    def test_unknown_key(self):
        self.check(self.edit("tau_s = 0.8", "tau_s = 0.8\ntau_z = 1"), "a.toml:14", "population[0]",
                   "unknown key 'tau_z'", "did you mean 'tau_s'")

    def test_wrong_type(self):
        self.check(self.edit("sampling_steps = 3", 'sampling_steps = "3"'), "a.toml:", "record.sampling_steps",
                   "expected an integer, got a string")

    def test_wrong_shape_weights(self):
        self.check(lambda tmp: np.save(os.path.join(tmp, "J.npy"), np.zeros((6, 5))),
                   "population[0].weights", "'J.npy'", "(6, 5)", "expected (6, 6)")

    def test_wrong_shape_input(self):
        self.check(lambda tmp: np.save(os.path.join(tmp, "inp.npy"), np.zeros((100, 4))),
                   "input.file", "'inp.npy'", "(100, 4)", "expected (T, 6)")

    def test_wrong_inline_length(self):
        self.check(self.edit("tau = [1.0, 0.9, 1.1, 1.0, 0.8, 1.2]", "tau = [1.0, 0.9]"),
                   "population[0].tau", "2 values", "N = 6")

    def test_missing_file(self):
        self.check(lambda tmp: os.remove(os.path.join(tmp, "eta.npy")), "population[0].eta", "'eta.npy' not found")

    def test_truncated_file(self):
        def cut(tmp):
            path = os.path.join(tmp, "J.npy")
            with open(path, "rb") as f:
                data = f.read()
            with open(path, "wb") as f:
                f.write(data[:-10])
        self.check(cut, "population[0].weights", "J.npy", "truncated")

    def test_corrupt_file(self):
        def garble(tmp):
            with open(os.path.join(tmp, "J.npy"), "wb") as f:
                f.write(b"this is not numpy")
        self.check(garble, "J.npy", "not a valid .npy file")

    def test_missing_config(self):
        proc = run_cli("run", "/nonexistent/x.toml")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("/nonexistent/x.toml", proc.stderr)

    def test_check_refuses_what_run_would_refuse(self):
        # Each was "config is valid" from `check`, then exit 1 from `run` after its folder of
        # empty files was made: now both stop at the config's line, exit 2, nothing written.
        cases = [
            (self.edit('backend = "cpu"', 'backend = "cpu"\ncoupling = "procedural"'),
             ("a.toml:6", "coupling", "weights that are not all equal")),
            (self.edit('backend = "cpu"\n', 'backend = "cpu"\ncoupling = "events"\n'),
             ()),  # valid: one tau_s (the control case: events do apply here)
            (lambda tmp: (self.edit('backend = "cpu"\n', 'backend = "cpu"\ncoupling = "events"\n')(tmp),
                          self.edit("tau_s = 0.8", "tau_s = [0.8, 0.8, 0.9, 0.8, 0.8, 0.8]")(tmp)),
             ("a.toml:6", "coupling", "one tau_s per neuron")),
            (lambda tmp: (self.edit('backend = "cpu"\n', 'backend = "cpu"\nevent_coupling = 10\n')(tmp),
                          self.edit("tau_s = 0.8", 'model = "tanh"')(tmp)),
             ("a.toml:6", "event_coupling", "model 'tanh'", "no synapse")),
            (self.edit('["qif", "s", true]', '["qif", "tau_s", true]'),
             ("record.vars", "'tau_s' is a parameter", "v, s, spike")),
        ]
        for setup, expected in cases:
            for command in ("check", "run"):
                with self.subTest(expected=expected, command=command), tempfile.TemporaryDirectory() as tmp:
                    Case(tmp)
                    setup(tmp)
                    proc = run_cli(command, "a.toml", cwd=tmp)
                    if not expected:
                        self.assertEqual(proc.returncode, 0, proc.stderr)
                        continue
                    self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
                    for e in expected:
                        self.assertIn(e, proc.stderr)
                    self.assertFalse(os.path.exists(os.path.join(tmp, "out")), "nothing was written")

    def test_check_command(self):
        with tempfile.TemporaryDirectory() as tmp:
            Case(tmp)
            proc = run_cli("check", "a.toml", cwd=tmp)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertIn("config is valid", proc.stdout)
            self.assertFalse(os.path.exists(os.path.join(tmp, "out")))


class CApi(unittest.TestCase):
    """The shared C library through ctypes: same numbers as the reference; errors as codes."""

    @classmethod
    def setUpClass(cls):
        lib = ctypes.CDLL(ARGS.lib)
        p, i64, cs = ctypes.c_void_p, ctypes.c_int64, ctypes.c_char_p
        dp = ctypes.POINTER(ctypes.c_double)
        for name, res, argt in [
            ("qifsim_parse_config", ctypes.c_int, [cs, cs, ctypes.POINTER(p)]),
            ("qifsim_set_output", ctypes.c_int, [p, cs, cs, ctypes.c_int]),
            ("qifsim_run_config", ctypes.c_int, [p]),
            ("qifsim_samples", ctypes.c_int, [p, ctypes.POINTER(i64)]),
            ("qifsim_series_width", ctypes.c_int, [p, cs, ctypes.POINTER(i64)]),
            ("qifsim_copy_series", ctypes.c_int, [p, cs, dp, i64]),
            ("qifsim_last_error", cs, []),
            ("qifsim_destroy", None, [p]),
        ]:
            f = getattr(lib, name)
            f.restype, f.argtypes = res, argt
        cls.lib = lib

    def test_run_config_string(self):
        with tempfile.TemporaryDirectory() as tmp:
            case = Case(tmp)
            sim = ctypes.c_void_p()
            rc = self.lib.qifsim_parse_config(case.text.encode(), tmp.encode(), ctypes.byref(sim))
            self.assertEqual(rc, 0, self.lib.qifsim_last_error())
            try:
                self.assertEqual(self.lib.qifsim_set_output(sim, None, None, 1), 0)
                self.assertEqual(self.lib.qifsim_run_config(sim), 0, self.lib.qifsim_last_error())
                n, w = ctypes.c_int64(), ctypes.c_int64()
                self.lib.qifsim_samples(sim, ctypes.byref(n))
                self.lib.qifsim_series_width(sim, b"qif.v", ctypes.byref(w))
                v = np.empty((n.value, w.value))
                rc = self.lib.qifsim_copy_series(sim, b"qif.v", v.ctypes.data_as(ctypes.POINTER(ctypes.c_double)), v.size)
                self.assertEqual(rc, 0)
                _, _, rec = case.expected()
                assert_close(self, v, rec["qif.v"], "qif.v via ctypes")
                small = np.empty(3)
                rc = self.lib.qifsim_copy_series(sim, b"qif.v", small.ctypes.data_as(ctypes.POINTER(ctypes.c_double)), 3)
                self.assertEqual(rc, 1)
                self.assertIn(b"buffer holds 3 values", self.lib.qifsim_last_error())
            finally:
                self.lib.qifsim_destroy(sim)

    def test_config_error(self):
        sim = ctypes.c_void_p()
        rc = self.lib.qifsim_parse_config(b"dt = 1e-3\nsteps = 10\nbogus = 1\n", None, ctypes.byref(sim))
        self.assertEqual(rc, 2)  # QIFSIM_ERR_CONFIG
        self.assertIn(b"unknown key 'bogus'", self.lib.qifsim_last_error())
        self.assertFalse(sim.value)


def read_csv_rows(path, killed=False):
    """(rows, text) of a recording's CSV file: its whole lines after the header. It must end
    on a whole line, unless its run was killed: a SIGKILL can stop the kernel between the
    pages of a batch's one write, leaving the last line cut (resume cuts it off)."""
    with open(path) as f:
        text = f.read()
    if killed:
        text = text[:text.rfind("\n") + 1]
    assert text.endswith("\n"), f"{path} ends in the middle of a line"
    return text.count("\n") - 1, text


def check_folder(test, folder, formats):
    """Every file the manifest names loads and holds at least the samples it says; returns
    the manifest."""
    import json
    with open(os.path.join(folder, "manifest.json")) as f:
        m = json.load(f)
    claimed = m["samples"]
    names = m["files"]
    for name in names:
        path = os.path.join(folder, name)
        test.assertTrue(os.path.exists(path), f"{name} named in the manifest is missing")
        if name.endswith(".npy"):
            a = np.load(path)  # the header's shape and the data agree, or this fails
            test.assertGreaterEqual(a.shape[0], claimed, name)
        elif name.endswith(".csv") and name != "members.csv":  # (a sweep's members.csv: a row per member)
            rows, _ = read_csv_rows(path, killed=m["status"] == "running")
            test.assertGreaterEqual(rows, claimed, name)
        elif name.endswith(".h5"):
            with h5py.File(path, "r") as h:
                for key in h.keys():
                    test.assertGreaterEqual(h[key].shape[0], claimed, f"{name}:{key}")
    for fmt in formats:
        test.assertTrue(any(n.endswith({"npy": ".npy", "csv": ".csv", "hdf5": ".h5"}[fmt]) for n in names), fmt)
    return m


def assert_same_recording(test, got, want):
    """The files of two folders hold the same recording, bit for bit."""
    for name in sorted(os.listdir(want)):
        a, b = os.path.join(got, name), os.path.join(want, name)
        if name.endswith(".npy"):
            x, y = np.load(a), np.load(b)
            test.assertEqual(x.shape, y.shape, name)
            test.assertTrue(np.array_equal(x, y), name)
        elif name.endswith(".csv"):
            test.assertEqual(read_csv_rows(a)[1], read_csv_rows(b)[1], name)
        elif name.endswith(".h5"):
            with h5py.File(a, "r") as f, h5py.File(b, "r") as g:
                test.assertEqual(sorted(f.keys()), sorted(g.keys()))
                for key in g.keys():
                    test.assertTrue(np.array_equal(f[key][:], g[key][:]), f"{name}:{key}")


class CrashResume(unittest.TestCase):
    """Runs killed with SIGINT and with SIGKILL at seeded random points of the run (a number of
    samples on disk, never a time): every file loads and holds what the manifest says, and
    `qifsim run --resume FOLDER` completes a recording equal to the uninterrupted one bit for
    bit, in every format, also after several kills."""

    # The simulation, not the writing, takes the time: 64 coupled neurons fed through a
    # one-unit input node, means recorded every 20 steps.
    CONFIG = """
dt = 1e-3
steps = 1500000
[[function]]
name = "drive"
size = 1
[[population]]
name = "qif"
n = 64
weights = { kind = "uniform", low = 0.0, high = 0.3, seed = 3 }
eta = { kind = "lorentzian", center = -5.0, width = 1.0 }
[[edge]]
source = "drive"
target = "qif"
weights = { kind = "all_to_all", value = 1.0 }
[input]
value = 12.0
[record]
output = false
vars = [["qif", "v", true], ["qif", "s", true]]
sampling_steps = 20
cutoff = 5
out_dir = "full"
formats = ["npy", "csv", "hdf5"]
checkpoint_seconds = 0.2
flush_seconds = 0.05
"""
    FORMATS = ("npy", "csv", "hdf5")
    SAMPLES = len(range(20, 1500000, 20))

    def start(self, tmp, *args):
        return subprocess.Popen([ARGS.cli, "run", *args], cwd=tmp, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def stop_at(self, proc, folder, samples, sig):
        """Signal the run once its folder holds `samples` samples; wait for it to end."""
        signal_when_written(proc, folder, samples, sig)
        out, err = proc.communicate(timeout=120)
        return proc.returncode, err

    def test_kills_at_random_points_then_resume(self):
        import random
        import signal
        rng = random.Random(2026)
        with tempfile.TemporaryDirectory() as tmp:
            config = os.path.join(tmp, "run.toml")
            with open(config, "w") as f:
                f.write(self.CONFIG)
            full = run_cli("run", config, "-q", cwd=tmp)
            self.assertEqual(full.returncode, 0, full.stderr)
            whole = os.path.join(tmp, "full")
            check_folder(self, whole, self.FORMATS)
            for i, sig in enumerate([signal.SIGINT, signal.SIGKILL, signal.SIGINT, signal.SIGKILL, signal.SIGKILL]):
                folder = os.path.join(tmp, f"part{i}")
                at = int(rng.uniform(0.1, 0.6) * self.SAMPLES)
                proc = self.start(tmp, config, "-o", folder, "-q")
                rc, err = self.stop_at(proc, folder, at, sig)
                print(f"  {signal.Signals(sig).name} at {at} of {self.SAMPLES} samples: exit {rc}", file=sys.stderr)
                self.assertNotEqual(rc, 0, "the run ended before the signal")
                m = check_folder(self, folder, self.FORMATS)
                if sig == signal.SIGINT:
                    self.assertEqual(rc, 130, err)
                    self.assertEqual(m["status"], "interrupted")
                    self.assertIn(f"qifsim run --resume {folder}", err)
                else:
                    self.assertEqual(rc, -signal.SIGKILL)
                    self.assertEqual(m["status"], "running")  # what a killed run leaves
                    if not os.path.exists(os.path.join(folder, "qifsim.ckpt")):
                        again = run_cli("run", "--resume", folder, "-q", cwd=tmp)
                        self.assertNotEqual(again.returncode, 0)
                        self.assertIn("no checkpoint", again.stderr)
                        continue
                # A second kill while resuming, then to the end.
                if i == 4:
                    now = samples_written(folder)
                    proc = self.start(tmp, "--resume", folder, "-q")
                    rc, err = self.stop_at(proc, folder, now + int(rng.uniform(0.1, 0.4) * (self.SAMPLES - now)),
                                           signal.SIGKILL)
                    self.assertEqual(rc, -signal.SIGKILL, err)
                    check_folder(self, folder, self.FORMATS)
                rest = run_cli("run", "--resume", folder, "-q", cwd=tmp)
                self.assertEqual(rest.returncode, 0, rest.stderr)
                m = check_folder(self, folder, self.FORMATS)
                self.assertEqual(m["status"], "complete")
                self.assertFalse(os.path.exists(os.path.join(folder, "qifsim.ckpt")))
                assert_same_recording(self, folder, whole)
                # The run is complete: nothing to resume.
                done = run_cli("run", "--resume", folder, "-q", cwd=tmp)
                self.assertEqual(done.returncode, 2)
                self.assertIn("complete run", done.stderr)

    def test_a_sweep_stopped_or_killed_resumes_to_the_uninterrupted_files(self):
        """A sweep (three members) checkpoints like any run: Ctrl-C and SIGKILL, then
        `--resume`, leave the files (member axis, long-form CSV, members.csv) of the
        uninterrupted sweep."""
        import signal
        config = (self.CONFIG.replace("steps = 1500000", "steps = 300000")
                  + '[sweep]\n"qif.eta" = [-5.0, -4.0, -3.0]\n')
        samples = len(range(20, 300000, 20))
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "sweep.toml")
            with open(path, "w") as f:
                f.write(config)
            full = run_cli("run", path, "-q", cwd=tmp)
            self.assertEqual(full.returncode, 0, full.stderr)
            whole = os.path.join(tmp, "full")
            self.assertEqual(np.load(os.path.join(whole, "qif.v.npy")).shape, (samples, 3, 1))
            for i, sig in enumerate([signal.SIGINT, signal.SIGKILL]):
                folder = os.path.join(tmp, f"sweep{i}")
                proc = self.start(tmp, path, "-o", folder, "-q")
                rc, err = self.stop_at(proc, folder, samples // 3, sig)
                self.assertNotEqual(rc, 0, "the sweep ended before the signal")
                check_folder(self, folder, self.FORMATS)
                if sig == signal.SIGINT:
                    self.assertEqual(rc, 130, err)
                    self.assertIn(f"qifsim run --resume {folder}", err)
                    with open(os.path.join(folder, "members.csv")) as f:
                        self.assertIn(",interrupted,", f.read())
                elif not os.path.exists(os.path.join(folder, "qifsim.ckpt")):
                    print("  sweep killed before its first checkpoint", file=sys.stderr)
                    continue  # nothing to resume
                print(f"  sweep {signal.Signals(sig).name}: exit {rc}, {samples_written(folder)} of {samples} "
                      "samples on disk, resumed", file=sys.stderr)
                rest = run_cli("run", "--resume", folder, "-q", cwd=tmp)
                self.assertEqual(rest.returncode, 0, rest.stderr)
                self.assertEqual(check_folder(self, folder, self.FORMATS)["status"], "complete")
                assert_same_recording(self, folder, whole)

    def test_a_changed_config_is_refused_unless_allowed(self):
        import signal
        with tempfile.TemporaryDirectory() as tmp:
            config = os.path.join(tmp, "run.toml")
            with open(config, "w") as f:
                f.write(self.CONFIG.replace("steps = 1500000", "steps = 5000000").replace('formats = ["npy", "csv", "hdf5"]', 'formats = ["npy"]'))
            proc = self.start(tmp, config, "-o", "part")
            rc, err = self.stop_at(proc, os.path.join(tmp, "part"), 20000, signal.SIGINT)
            self.assertEqual(rc, 130, err)
            with open(config, "a") as f:
                pass
            changed = run_cli("run", "--resume", "part", "-q", "--set", "population.0.tau_s=2", cwd=tmp)
            self.assertEqual(changed.returncode, 2, changed.stderr)
            self.assertIn("population[0].tau_s: 1 -> 2", changed.stderr)
            self.assertIn("--allow-changes", changed.stderr)
            allowed = run_cli("run", "--resume", "part", "--set", "population.0.tau_s=2", "--set", "steps=1000",
                              "--allow-changes", cwd=tmp)
            # steps changed too: the interrupted run had 3000000 steps; that cannot continue
            self.assertNotEqual(allowed.returncode, 0)
            allowed = run_cli("run", "--resume", "part", "--set", "population.0.tau_s=2", "--allow-changes",
                              "--set", "record.checkpoint_seconds=0", cwd=tmp)
            self.assertEqual(allowed.returncode, 0, allowed.stderr)
            self.assertIn("changed  population[0].tau_s: 1 -> 2", allowed.stdout)
            import json
            with open(os.path.join(tmp, "part", "manifest.json")) as f:
                m = json.load(f)
            self.assertEqual(m["status"], "complete")
            self.assertIn("population[0].tau_s: 1 -> 2", m["changes"])


class Folders(unittest.TestCase):
    """A run owns its output folder: a rerun removes what the previous run wrote there and
    nothing else, a folder in use is refused, and outputs never replace the run's inputs."""

    def test_a_rerun_with_less_leaves_nothing_stale(self):
        with tempfile.TemporaryDirectory() as tmp:
            Case(tmp)
            self.assertEqual(run_cli("run", "a.toml", "-q", "-o", "stale", cwd=tmp).returncode, 0)
            with open(os.path.join(tmp, "stale", "mine.txt"), "w") as f:
                f.write("kept")
            again = run_cli("run", "a.toml", "-q", "-o", "stale", "-s", "record.sampling_steps=10", "-s", "record.vars=[]",
                            cwd=tmp)
            self.assertEqual(again.returncode, 0, again.stderr)
            names = sorted(os.listdir(os.path.join(tmp, "stale")))
            self.assertNotIn("qif.v.npy", names)
            self.assertIn("mine.txt", names)
            check_folder(self, os.path.join(tmp, "stale"), ["npy"])
            self.assertEqual(np.load(os.path.join(tmp, "stale", "time.npy")).shape[0],
                             np.load(os.path.join(tmp, "stale", "out.npy")).shape[0])
            plot = run_cli("plot", os.path.join(tmp, "stale"), cwd=tmp)
            self.assertEqual(plot.returncode, 0, plot.stderr)

    def test_a_folder_in_use_is_refused(self):
        import signal
        with tempfile.TemporaryDirectory() as tmp:
            Case(tmp)
            with open(os.path.join(tmp, "long.toml"), "w") as f:
                f.write(CrashResume.CONFIG.replace("steps = 1500000", "steps = 20000000"))
            first = subprocess.Popen([ARGS.cli, "run", "long.toml", "-q", "-o", "busy"], cwd=tmp,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            # Under way (the folder is taken before the first sample is written), and far from
            # its end: the second run asks for the folder while the first holds it.
            wait_until_written(first, os.path.join(tmp, "busy"), 1)
            second = run_cli("run", "a.toml", "-q", "-o", "busy", cwd=tmp)
            first.send_signal(signal.SIGINT)
            first.communicate(timeout=120)
            self.assertNotEqual(second.returncode, 0)
            self.assertIn("in use by another run", second.stderr)
            self.assertIn(f"pid {first.pid}", second.stderr)
            m = check_folder(self, os.path.join(tmp, "busy"), ["npy"])
            self.assertEqual(m["status"], "interrupted")

    def test_outputs_never_replace_the_runs_inputs(self):
        with tempfile.TemporaryDirectory() as tmp:
            case = Case(tmp)
            with open(os.path.join(tmp, "a.toml")) as f:
                text = f.read()
            np.save(os.path.join(tmp, "out.npy"), case.J)
            with open(os.path.join(tmp, "here.toml"), "w") as f:
                f.write(text.replace('weights = "J.npy"', 'weights = "out.npy"'))
            proc = run_cli("run", "here.toml", "-q", "-o", ".", cwd=tmp)
            self.assertEqual(proc.returncode, 2, proc.stderr)
            self.assertIn("its own input", proc.stderr)
            self.assertTrue(np.array_equal(np.load(os.path.join(tmp, "out.npy")), case.J))


class Hardening(unittest.TestCase):
    """A config shared between colleagues, an output folder someone prepared, a full disk, a
    damaged checkpoint, a size one digit too long: an error that names it, never a command
    run, a file written through a link, or a crash."""

    CONFIG = """
dt = 1e-3
steps = 3000
[[population]]
name = "qif"
n = 5
weights = { kind = "uniform", low = 0.0, high = 4.0, seed = 1 }
[input]
value = 12.0
[record]
vars = [["qif", "v", false]]
"""

    def config(self, tmp, extra=""):
        path = os.path.join(tmp, "run.toml")
        with open(path, "w") as f:
            f.write(self.CONFIG + extra)
        return path

    def test_no_shell_sees_the_output_folder(self):
        with tempfile.TemporaryDirectory() as tmp:
            config = self.config(tmp)
            # A plot helper that only records its arguments stands in for matplotlib.
            helper = os.path.join(tmp, "fake_python")
            with open(helper, "w") as f:
                f.write("#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$(dirname \"$0\")/plot_args\"\n")
            os.chmod(helper, 0o755)
            env = dict(os.environ, QIFSIM_PYTHON=helper)
            for folder in ["q'; touch PWNED; echo '", "$(touch PWNED2)", "-x"]:
                proc = subprocess.run([ARGS.cli, "run", config, "-q", "-o", folder, "--plot"], cwd=tmp, env=env,
                                      capture_output=True, text=True, timeout=120)
                self.assertEqual(proc.returncode, 0, proc.stderr)
                self.assertTrue(os.path.isdir(os.path.join(tmp, folder)), folder)
                with open(os.path.join(tmp, "plot_args")) as f:
                    self.assertEqual(f.read().splitlines()[-1], folder)  # one argument, as given
            self.assertFalse(os.path.exists(os.path.join(tmp, "PWNED")))
            self.assertFalse(os.path.exists(os.path.join(tmp, "PWNED2")))
            # The same from the config's own out_dir.
            shared = self.config(tmp, 'out_dir = "res\'$(touch PWNED3)\'"\n')
            proc = subprocess.run([ARGS.cli, "run", shared, "-q", "--plot"], cwd=tmp, env=env,
                                  capture_output=True, text=True, timeout=120)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertFalse(os.path.exists(os.path.join(tmp, "PWNED3")))

    def test_links_in_the_output_folder_are_replaced_not_followed(self):
        with tempfile.TemporaryDirectory() as tmp:
            config = self.config(tmp)
            victim = os.path.join(tmp, "victim.txt")
            with open(victim, "w") as f:
                f.write("keep me")
            out = os.path.join(tmp, "out")
            os.mkdir(out)
            for name in ["out.npy", "qif.v.npy", "qifsim_run.toml", "recording.h5", "out.csv"]:
                os.symlink("../victim.txt", os.path.join(out, name))
            proc = run_cli("run", config, "-q", "-o", "out", "-f", "npy", "-f", "hdf5", "-f", "csv", cwd=tmp)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            with open(victim) as f:
                self.assertEqual(f.read(), "keep me")
            self.assertEqual(np.load(os.path.join(out, "qif.v.npy")).shape, (3000, 5))
            self.assertFalse(os.path.islink(os.path.join(out, "out.npy")))
            # A folder that is itself a link: refused unless asked for.
            os.mkdir(os.path.join(tmp, "real"))
            os.symlink("real", os.path.join(tmp, "linked"))
            proc = run_cli("run", config, "-q", "-o", "linked", cwd=tmp)
            self.assertEqual(proc.returncode, 1)
            self.assertIn("is a symbolic link", proc.stderr)
            self.assertEqual(os.listdir(os.path.join(tmp, "real")), [])
            proc = run_cli("run", config, "-q", "-o", "linked", "--allow-symlink", cwd=tmp)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertTrue(os.path.exists(os.path.join(tmp, "real", "out.npy")))

    def test_a_full_disk_is_an_error_not_a_crash(self):
        import resource
        import signal

        def limit():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (200 * 1024, 200 * 1024))

        with tempfile.TemporaryDirectory() as tmp:
            config = self.config(tmp)
            for fmt in ["hdf5", "npy", "csv"]:
                proc = subprocess.run([ARGS.cli, "run", config, "-q", "-o", fmt, "-f", fmt, "-s", "steps=200000"],
                                      cwd=tmp, capture_output=True, text=True, timeout=120, preexec_fn=limit)
                self.assertEqual(proc.returncode, 1, f"{fmt}: {proc.stderr}")  # not -11 (SIGSEGV)
                self.assertIn("File too large", proc.stderr, fmt)
                # What was written stays readable, and the folder says the run failed.
                m = check_folder(self, os.path.join(tmp, fmt), [fmt])
                self.assertEqual(m["status"], "failed")
                self.assertIn("File too large", m["error"])

    def test_a_damaged_checkpoint_is_refused(self):
        import signal
        import struct
        with tempfile.TemporaryDirectory() as tmp:
            long_config = self.config(tmp)
            with open(long_config) as f:
                text = f.read().replace("steps = 3000", "steps = 3000000")
            with open(long_config, "w") as f:
                f.write(text)
            proc = subprocess.Popen([ARGS.cli, "run", long_config, "-o", "part"], cwd=tmp,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            signal_when_written(proc, os.path.join(tmp, "part"), 100000, signal.SIGINT)
            _, err = proc.communicate(timeout=120)
            self.assertEqual(proc.returncode, 130, err)
            ckpt = os.path.join(tmp, "part", "qifsim.ckpt")
            with open(ckpt, "rb") as f:
                good = f.read()
            # The position of the interrupted run (layout: tests/test_hardening.cpp), changed
            # without sealing the file again: the checksum refuses it.
            data = bytearray(good)
            at = 8 + 4 + (8 + 7) + 8 + 8 + 4 + 8 + (8 + 3) + 4 + 8 + 8 + 1 + 24
            data[at:at + 8] = struct.pack("<q", -1000000000)
            with open(ckpt, "wb") as f:
                f.write(data)
            proc = run_cli("run", "-q", "--resume", "part", cwd=tmp)
            self.assertEqual(proc.returncode, 1, proc.stderr)  # not -11
            self.assertIn("checksum", proc.stderr)
            self.assertIn("qifsim.ckpt", proc.stderr)
            with open(ckpt, "wb") as f:
                f.write(good)
            proc = run_cli("run", "-q", "--resume", "part", cwd=tmp)
            self.assertEqual(proc.returncode, 0, proc.stderr)

    def test_a_fifo_at_the_manifest_is_refused_not_waited_on(self):
        with tempfile.TemporaryDirectory() as tmp:
            config = self.config(tmp)
            os.mkdir(os.path.join(tmp, "out"))
            os.mkfifo(os.path.join(tmp, "out", "manifest.json"))
            for args in (["run", config, "-q", "-o", "out"], ["run", "--resume", "out", "-q"], ["plot", "out"]):
                proc = subprocess.run([ARGS.cli, *args], cwd=tmp, capture_output=True, text=True, timeout=60)
                self.assertNotEqual(proc.returncode, 0, args)
                self.assertIn("manifest.json", proc.stderr, args)
                self.assertIn("FIFO", proc.stderr, args)

    def test_a_size_one_digit_too_long_is_named(self):
        with tempfile.TemporaryDirectory() as tmp:
            config = self.config(tmp)
            with open(config) as f:
                text = f.read().replace('weights = { kind = "uniform", low = 0.0, high = 4.0, seed = 1 }\n', "")
            with open(config, "w") as f:
                f.write(text.replace("n = 5", "n = 4000000000"))
            proc = run_cli("check", config, cwd=tmp)
            self.assertEqual(proc.returncode, 2, proc.stderr)  # a config error at its key
            self.assertIn("run.toml:", proc.stderr)
            self.assertIn("population[0].n", proc.stderr)
            self.assertIn("4000000000 neurons", proc.stderr)
            self.assertNotIn("bad_alloc", proc.stderr)


class UserWay(unittest.TestCase):
    """What a new user trips on at the command line: values that are not finite, inputs that
    are not files, output folders that cannot be written, plots of the wrong things."""

    CONFIG = Hardening.CONFIG

    def config(self, tmp, text):
        path = os.path.join(tmp, "run.toml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_a_diverging_run_is_an_error_and_its_files_hold_only_finite_values(self):
        with tempfile.TemporaryDirectory() as tmp:
            text = self.CONFIG.replace('weights = { kind = "uniform", low = 0.0, high = 4.0, seed = 1 }',
                                      'weights = { kind = "all_to_all", value = -1e308 }\ns0 = 1.0')
            proc = run_cli("run", self.config(tmp, text), "-q", "-o", "out", cwd=tmp)
            self.assertEqual(proc.returncode, 1, proc.stderr)
            self.assertIn("the state diverged", proc.stderr)
            for name in ("out", "qif.v"):
                values = np.load(os.path.join(tmp, "out", name + ".npy"))
                self.assertTrue(np.all(np.isfinite(values)), name)

    def test_files_that_are_not_files_are_refused_at_once(self):
        with tempfile.TemporaryDirectory() as tmp:
            os.mkfifo(os.path.join(tmp, "J.npy"))
            os.mkdir(os.path.join(tmp, "eta.npy"))
            text = self.CONFIG.replace('weights = { kind = "uniform", low = 0.0, high = 4.0, seed = 1 }',
                                      'weights = "J.npy"')
            proc = run_cli("check", self.config(tmp, text), cwd=tmp)  # would wait forever for a writer
            self.assertEqual(proc.returncode, 2, proc.stderr)
            self.assertIn("is a FIFO", proc.stderr)
            text = self.CONFIG.replace("n = 5", 'n = 5\neta = "eta.npy"')
            proc = run_cli("check", self.config(tmp, text), cwd=tmp)
            self.assertIn("is a folder, not a .npy file", proc.stderr)
            proc = run_cli("check", "/dev/zero", cwd=tmp)  # used to read gigabytes first
            self.assertEqual(proc.returncode, 2, proc.stderr)
            self.assertIn("character device", proc.stderr)

    def test_check_says_when_the_output_folder_cannot_be_written(self):
        with tempfile.TemporaryDirectory() as tmp:
            config = self.config(tmp, self.CONFIG)
            proc = run_cli("check", config, "-o", "run.toml/out", cwd=tmp)
            self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
            self.assertIn("cannot be made", proc.stderr)
            self.assertEqual(run_cli("check", config, "-o", "fine", cwd=tmp).returncode, 0)
            self.assertFalse(os.path.exists(os.path.join(tmp, "fine")))  # check creates nothing

    def test_out_of_range_overrides_say_what(self):
        with tempfile.TemporaryDirectory() as tmp:
            proc = run_cli("check", self.config(tmp, self.CONFIG), "-s", "steps=99999999999999999999", cwd=tmp)
            self.assertEqual(proc.returncode, 2)
            self.assertIn("not a number TOML can hold", proc.stderr)
            self.assertNotIn("stoul", proc.stderr)

    def test_plot_errors_are_messages_not_tracebacks(self):
        with tempfile.TemporaryDirectory() as tmp:
            config = self.config(tmp, self.CONFIG)
            for target in ("missing", config):
                proc = run_cli("plot", target, cwd=tmp)
                self.assertNotEqual(proc.returncode, 0)
                self.assertNotIn("Traceback", proc.stderr)
                self.assertIn("qifsim-plot:", proc.stderr)

    def test_default_plots_show_spikes_as_raster_and_rate(self):
        with tempfile.TemporaryDirectory() as tmp:
            config = self.config(tmp, self.CONFIG.replace('vars = [["qif", "v", false]]',
                                                          'vars = [["qif", "v", false], ["qif", "spike", false]]'))
            self.assertEqual(run_cli("run", config, "-q", "-o", "out", cwd=tmp).returncode, 0)
            proc = run_cli("plot", os.path.join(tmp, "out"), cwd=tmp)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            made = set(os.listdir(os.path.join(tmp, "out")))
            for name in ("qif.spike_raster.png", "qif.spike_rate.png", "qif.v_time.png", "qif.v_vs_out.png"):
                self.assertIn(name, made)
            for name in ("qif.spike_vs_out.png", "qif.spike_heatmap.png", "qif.spike_time.png"):
                self.assertNotIn(name, made)


class Plots(unittest.TestCase):
    """The plot helper makes PNG files from a run's folder, directly and via `qifsim plot`."""

    def test_plots(self):
        with tempfile.TemporaryDirectory() as tmp:
            Case(tmp)
            self.assertEqual(run_cli("run", "a.toml", "-q", "-f", "npy", cwd=tmp).returncode, 0)
            out = os.path.join(tmp, "out")
            proc = subprocess.run([sys.executable, ARGS.plot, out], capture_output=True, text=True, timeout=120)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            for name in ["out_time.png", "qif.v_time.png", "qif.v_vs_out.png", "qif.v_heatmap.png"]:
                path = os.path.join(out, name)
                self.assertTrue(os.path.exists(path), name)
                with open(path, "rb") as f:
                    self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n", name)
                self.assertGreater(os.path.getsize(path), 10000, name)
            proc = run_cli("plot", out, "--raster", "qif.v", "-o", os.path.join(tmp, "p"))
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertTrue(os.path.exists(os.path.join(tmp, "p", "qif.v_raster.png")))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--lib", required=True)
    ap.add_argument("--plot", required=True)
    ARGS, rest = ap.parse_known_args()
    ARGS.cli, ARGS.lib, ARGS.plot = (os.path.abspath(p) for p in (ARGS.cli, ARGS.lib, ARGS.plot))
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
