"""Parity with RectiPy 0.12.2 on what rate nodes and spike variables record: each network is
run by qifsim and checked against a NumPy reference written here from RectiPy's rule, and,
where a Python with RectiPy is named by QIFSIM_RECTIPY_PYTHON (bench/setup_peers.sh makes one),
against RectiPy itself run in that interpreter (the same weights, inputs and initial state).

RectiPy's rules checked (rectipy/network.py, nodes.py 0.12.2):
- a rate node's `run` records its state after each step (RateNet.forward updates y first);
- `spike` holds spike / dt (SpikeNet: `spikes = spike(...) / dt`);
- a leaky-integrator node with output_var = "<op>/r" outputs v (its output indexes the state).
"""
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import qifsim
from qifsim import Network

QIF = "neuron_model_templates.spiking_neurons.qif.qif"
RATE = "neuron_model_templates.rate_neurons.leaky_integrator."
TOL = dict(rtol=1e-12, atol=1e-12)

# Runs in the RectiPy interpreter: the networks below, their recordings into an .npz file.
RECTIPY_SCRIPT = r"""
import sys, warnings
import numpy as np
warnings.simplefilter("ignore")
from rectipy import Network
d = dict(np.load(sys.argv[1]))
out = {}
for tmpl, op in (("tanh", "tanh_op"), ("sigmoid", "sigmoid_op")):
    net = Network(dt=float(d["rate_dt"]), device="cpu")
    net.add_diffeq_node("li", "neuron_model_templates.rate_neurons.leaky_integrator." + tmpl, weights=d["rate_J"],
                        source_var=op + "/r", target_var="li_op/r_in", input_var="li_op/I_ext",
                        output_var=d["rate_out"].item() and op + "/r" or "li_op/v", clear=True, verbose=False)
    obs = net.run(inputs=d["rate_inp"], record_output=True, record_vars=[("li", "li_op/v", False)], verbose=False)
    out[tmpl + "_out"] = np.asarray(obs.to_numpy("out"))
    out[tmpl + "_v"] = np.asarray(obs.to_numpy(("li", "li_op/v")))
net = Network(dt=float(d["qif_dt"]), device="cpu")
net.add_diffeq_node("qif", "neuron_model_templates.spiking_neurons.qif.qif", weights=d["qif_J"], source_var="s",
                    target_var="s_in", input_var="I_ext", output_var="s", spike_var="spike", reset_var="v",
                    op="qif_op", clear=True, verbose=False)
obs = net.run(inputs=d["qif_inp"], record_vars=[("qif", "spike", False)], verbose=False)
out["qif_spike"] = np.asarray(obs.to_numpy(("qif", "spike")))
out["qif_out"] = np.asarray(obs.to_numpy("out"))
np.savez(sys.argv[2], **out)
"""


def rectipy_python():
    py = os.environ.get("QIFSIM_RECTIPY_PYTHON")
    if not py:
        return None
    ok = subprocess.run([py, "-c", "import rectipy, torch"], capture_output=True).returncode == 0
    return py if ok else None


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(28)
    n = 50
    return dict(rate_dt=1e-2, rate_J=rng.standard_normal((n, n)) * 0.3, rate_inp=rng.uniform(-0.5, 0.5, (200, n)),
                rate_out=np.array(False), qif_dt=1e-3, qif_J=rng.uniform(0.0, 2.0, (20, 20)),
                qif_inp=rng.uniform(10.0, 30.0, (3000, 20)))


@pytest.fixture(scope="module")
def rectipy_runs(case, tmp_path_factory):
    """RectiPy's recordings of the networks of `case` (with output_var r and with li_op/v), or None."""
    py = rectipy_python()
    if py is None:
        return None
    tmp = tmp_path_factory.mktemp("rectipy")
    runs = {}
    for r_out in (False, True):
        np.savez(tmp / "in.npz", **dict(case, rate_out=np.array(r_out)))
        proc = subprocess.run([py, "-c", RECTIPY_SCRIPT, str(tmp / "in.npz"), str(tmp / "out.npz")],
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-2000:]
        runs[r_out] = dict(np.load(tmp / "out.npz"))
    return runs


def leaky(J, inp, dt, rate, tau=10.0):
    """v at each step's start and v after each step (RectiPy's leaky integrator, k = 1, eta = 0)."""
    v = np.zeros(J.shape[0])
    start, after = [], []
    for x in inp:
        start.append(v.copy())
        v = v + dt * (-v / tau + J @ rate(v) + x)
        after.append(v.copy())
    return np.array(start), np.array(after)


RATES = {"tanh": np.tanh, "sigmoid": lambda v: 1.0 / (1.0 + np.exp(1.0 * (0.0 - v)))}


def run_rate(case, tmpl, output_var):
    op = tmpl + "_op"
    net = Network(dt=case["rate_dt"])
    net.add_diffeq_node("li", RATE + tmpl, weights=case["rate_J"], source_var=op + "/r", target_var="li_op/r_in",
                        input_var="li_op/I_ext", output_var=output_var)
    obs = net.run(inputs=case["rate_inp"], record_vars=[("li", "li_op/v", False)], verbose=False)
    return obs.to_numpy("out"), obs.to_numpy(("li", "v"))


@pytest.mark.parametrize("tmpl", ["tanh", "sigmoid"])
def test_a_rate_node_records_its_state_after_each_step(case, rectipy_runs, tmpl):
    out, v = run_rate(case, tmpl, "li_op/v")
    start, after = leaky(case["rate_J"], case["rate_inp"], case["rate_dt"], RATES[tmpl])
    np.testing.assert_allclose(v, after, **TOL)  # recorded: after the step
    np.testing.assert_allclose(out, start, **TOL)  # output: v at the step's start
    assert np.abs(after - start).max() > 1e-3  # the two instants differ: the check can fail
    if rectipy_runs is not None:
        np.testing.assert_allclose(v, rectipy_runs[False][tmpl + "_v"], **TOL)
        np.testing.assert_allclose(out, rectipy_runs[False][tmpl + "_out"], **TOL)


@pytest.mark.parametrize("tmpl", ["tanh", "sigmoid"])
def test_output_var_r_of_a_rate_node_outputs_v_as_rectipy_does(case, rectipy_runs, tmpl, monkeypatch):
    monkeypatch.setattr(qifsim.network, "_RATE_OUTPUT_WARNED", False)
    with pytest.warns(UserWarning, match=r"outputs the node's v here, not r") as caught:
        out, _ = run_rate(case, tmpl, tmpl + "_op/r")
    assert sum("outputs the node's v" in str(w.message) for w in caught) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run_rate(case, tmpl, tmpl + "_op/r")  # warned once only
    start, _ = leaky(case["rate_J"], case["rate_inp"], case["rate_dt"], RATES[tmpl])
    np.testing.assert_allclose(out, start, **TOL)
    if rectipy_runs is not None:
        np.testing.assert_allclose(out, rectipy_runs[True][tmpl + "_out"], **TOL)


def test_spike_records_spike_over_dt(case, rectipy_runs):
    dt, J, inp = case["qif_dt"], case["qif_J"], case["qif_inp"]
    def run(mean):
        net = Network(dt=dt)
        net.add_diffeq_node("qif", QIF, weights=J, source_var="s", target_var="s_in", input_var="I_ext",
                            output_var="s", spike_var="spike", reset_var="v", op="qif_op")
        return net.run(inputs=inp, record_vars=[("qif", "spike", mean)], verbose=False).to_numpy(("qif", "spike"))

    spike = run(False)
    # The reference: RectiPy's qif (v' = (v^2 + eta + I)/tau + k J s, s' = -s/tau_s + spike/dt)
    # with its defaults, spike from the state at the step's start.
    v, s = np.full(J.shape[0], -2.0), np.zeros(J.shape[0])
    want = []
    for x in inp:
        spk = (v >= 100.0).astype(float)
        want.append(spk / dt)
        s_in = J @ s
        v1 = v + dt * ((v * v - 5.0 + x) + s_in)
        s = s + dt * (-s) + spk
        v = np.where(spk > 0, -100.0, v1)
    want = np.array(want)
    assert want.max() == 1.0 / dt and (want > 0).sum() > 50  # the run spikes
    np.testing.assert_array_equal(spike, want)
    mean = run(True)
    np.testing.assert_allclose(mean, want.mean(axis=1), rtol=1e-12, atol=1e-9)  # the rate in 1/time
    if rectipy_runs is not None:
        np.testing.assert_array_equal(spike, rectipy_runs[False]["qif_spike"])


# ---- RectiPy's other edges ----------------------------------------------------------------

EDGE_SCRIPT = r"""
import sys, warnings
import numpy as np
warnings.simplefilter("ignore")
from rectipy import Network
d = dict(np.load(sys.argv[1]))
out = {}
for kind in ("mask", "delays", "filter", "delays_filter", "mask_square"):
    n_in, n_out = (3, 3) if kind == "mask_square" else (3, 2)
    net = Network(dt=1e-3, device="cpu")
    net.add_func_node("inp", n_in, activation_function="identity")
    net.add_func_node("out", n_out, activation_function="identity")
    kw = {}
    if kind.startswith("mask"):
        kw["mask"] = d["mask_sq"] if kind == "mask_square" else d["mask"]
    if "delays" in kind:
        kw["delays"] = d["delays"]
    if "filter" in kind:
        kw["filter_weights"] = d["filter"]
    w = d["w_sq"] if kind == "mask_square" else d["w"]
    net.add_edge("inp", "out", weights=w, **kw)
    obs = net.run(inputs=d["x"], verbose=False)
    out[kind] = np.asarray(obs.to_numpy("out"))
np.savez(sys.argv[2], **out)
"""


def edge_case():
    rng = np.random.default_rng(281)
    return dict(x=rng.standard_normal((40, 3)), w=rng.standard_normal((2, 3)), w_sq=rng.standard_normal((3, 3)),
                mask=(rng.random((2, 3)) > 0.4).astype(float), mask_sq=(rng.random((3, 3)) > 0.4).astype(float),
                delays=np.array([2, 0, 3]), filter=rng.standard_normal((3, 3)) * 0.4)


def edge_reference(kind, c):
    """RectiPy 0.12.2's edges (rectipy/edges.py) written out in NumPy, step by step."""
    x = c["x"]
    if kind.startswith("mask"):
        w, m = (c["w_sq"], c["mask_sq"]) if kind == "mask_square" else (c["w"], c["mask"])
        n_in = x.shape[1]
        n_out = 3 if kind == "mask_square" else 2
        # Linear and LinearMasked: weights and a mask of shape (n_in, n_out) are transposed (the
        # test comes first, so square ones always are).
        if w.shape == (n_in, n_out):
            w = w.T
        if m.shape == (n_in, n_out):
            m = m.T
        return np.array([(w * m) @ xt for xt in x])
    w, F, d = c["w"], c["filter"], c["delays"]
    if kind == "filter":  # LinearFilter: y <- F y + x
        y, out = np.zeros(3), []
        for xt in x:
            y = F @ y + xt
            out.append(w @ y)
        return np.array(out)
    buf, out = np.zeros((3, d.max() + 1)), []
    for xt in x:  # LinearMemory(Filter): roll by -1 (circular), [F @], write, read column 0
        buf = np.roll(buf, -1, axis=1)
        if kind == "delays_filter":
            buf = F @ buf
        for j in range(3):
            buf[:, d[j]] = xt[j]  # torch's buffer[:, delays] = x: input j into column delays[j] of every row
        out.append(w @ buf[:, 0])
    return np.array(out)


def run_edge(kind, c):
    n_in, n_out = (3, 3) if kind == "mask_square" else (3, 2)
    net = Network(dt=1e-3)
    net.add_func_node("inp", n_in, activation_function="identity")
    net.add_func_node("out", n_out, activation_function="identity")
    kw = {}
    if kind.startswith("mask"):
        kw["mask"] = c["mask_sq"] if kind == "mask_square" else c["mask"]
    if "delays" in kind:
        kw["delays"] = c["delays"]
    if "filter" in kind:
        kw["filter_weights"] = c["filter"]
    net.add_edge("inp", "out", weights=c["w_sq"] if kind == "mask_square" else c["w"], **kw)
    return net.run(inputs=c["x"], verbose=False).to_numpy("out")


@pytest.fixture(scope="module")
def rectipy_edges(tmp_path_factory):
    py = rectipy_python()
    if py is None:
        return None
    tmp = tmp_path_factory.mktemp("rectipy_edges")
    np.savez(tmp / "in.npz", **edge_case())
    proc = subprocess.run([py, "-c", EDGE_SCRIPT, str(tmp / "in.npz"), str(tmp / "out.npz")],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return dict(np.load(tmp / "out.npz"))


@pytest.mark.parametrize("kind", ["mask", "mask_square", "delays", "filter", "delays_filter"])
def test_rectipys_other_edges(kind, rectipy_edges):
    c = edge_case()
    got = run_edge(kind, c)
    want = edge_reference(kind, c)  # function nodes pass each step's input on in the same step
    np.testing.assert_allclose(got, want, **TOL)
    assert np.abs(want).max() > 0.1
    if rectipy_edges is not None:
        np.testing.assert_allclose(got, rectipy_edges[kind], **TOL)
