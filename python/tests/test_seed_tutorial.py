"""The seed tutorial (RectiPy's Observer tutorial, python/examples/observer_tutorial.py) runs
with qifsim and NumPy, and its recordings match the NumPy reference of the spec."""
import contextlib
import io
import pathlib
import runpy
import warnings

import numpy as np
import pytest

import qifsim

matplotlib = pytest.importorskip("matplotlib")
pytest.importorskip("pandas")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from reference import QifPop, run as ref_run  # noqa: E402

TUTORIAL = pathlib.Path(__file__).resolve().parents[1] / "examples" / "observer_tutorial.py"
TOL = dict(rtol=1e-10, atol=1e-10)
STEPS = 10000


@pytest.fixture(scope="module")
def tutorial():
    """Run the tutorial as a script; its globals, what it printed and its figures."""
    np.random.seed(20240607)  # the tutorial draws J with np.random.rand
    plt.close("all")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Agg cannot show(): matplotlib says so
        g = runpy.run_path(str(TUTORIAL), run_name="__main__")
    figures = [plt.figure(n) for n in plt.get_fignums()]
    yield g, printed.getvalue(), figures
    plt.close("all")


@pytest.fixture(scope="module")
def ref(tutorial):
    """The same sequence from the reference: the manual loop, run, run (sampling 2), run."""
    g = tutorial[0]
    J, inp = g["J"], g["inp"]
    pop = QifPop(5, J)
    out, v = [], []
    for t in range(STEPS):  # forward, then get_var: v at the start of the step (RectiPy's view)
        v.append(pop.v.copy())
        out.append(pop.step(inp[t]))
    r1 = ref_run(pop.step, lambda i: pop.var("v"), inp, 1, 0, var_means=(True,))
    r2 = ref_run(pop.step, lambda i: pop.var("v"), inp, 2, 0, var_means=(True,))
    for t in range(STEPS):
        pop.step(inp[t])
    return dict(out=np.array(out), v=np.array(v), r1=r1, r2=r2, v_end=pop.v.copy(), spikes=pop.spikes)


def test_prints_sample_counts(tutorial):
    assert tutorial[1].split() == ["10000", "5000"]


def test_network_spikes(ref):
    assert ref["spikes"] > 1000  # the comparison covers spikes and resets, not just a decay


def test_manual_recording_matches_reference(tutorial, ref):
    g = tutorial[0]
    np.testing.assert_allclose(g["s_numpy"], ref["out"], **TOL)
    np.testing.assert_array_equal(g["s_raw"], g["s_numpy"])
    v = g["v"]
    assert v.shape == (STEPS, 5)
    np.testing.assert_allclose(v.to_numpy(), ref["v"], **TOL)
    np.testing.assert_allclose(v.index.to_numpy(), np.arange(STEPS) * 1e-3)


class RectiPyQif:
    """RectiPy 0.12.2's spiking node with a reset (rectipy/nodes.py, SpikeResetNet) on the qif
    template, transcribed to NumPy: ``y`` is what ``get_var`` reads; ``forward`` makes the
    pending state visible (``y = cat(_y_start, _y_spike, _y_stop)``), returns its output,
    and computes the next pending state from it (spike where v >= threshold, s jumps by 1,
    v reset). The tutorial's network: qif_op's v' = (v^2 + eta + I_ext)/tau + k s_in,
    s' = -s/tau_s + spike/dt, s_in = J s."""

    def __init__(self, J, dt=1e-3, eta=-5.0, tau=1.0, k=1.0, tau_s=1.0, v0=-2.0):
        n = J.shape[0]
        self.J, self.dt, self.eta, self.tau, self.k, self.tau_s = J, dt, eta, tau, k, tau_s
        self.pending = (np.full(n, v0), np.zeros(n))
        self.y = self.pending

    def forward(self, x):
        self.y = self.pending
        v, s = self.y
        spike = (v >= 100.0).astype(np.float64)
        dv = (v * v + self.eta + x) / self.tau + self.k * (self.J @ s)
        ds = -s / self.tau_s + spike / self.dt
        v_new, s_new = v + self.dt * dv, s + self.dt * ds
        self.pending = (np.where(spike > 0, -100.0, v_new), s_new)
        return s.copy()

    def get_var(self, name):
        return (self.y[0] if name == "v" else self.y[1]).copy()


def test_manual_loop_matches_rectipys_get_var(tutorial):
    g = tutorial[0]
    rp = RectiPyQif(g["J"])
    v = []
    for t in range(STEPS):
        rp.forward(g["inp"][t])
        v.append(rp.get_var("v"))
    np.testing.assert_allclose(g["v"].to_numpy(), np.array(v), rtol=1e-12, atol=1e-12)
    # RectiPy 0.12.2 itself, for the first neuron after the first four forward calls.
    np.testing.assert_allclose(np.array(v)[:4, 0], [-2.0, -1.986, -1.972056, -1.958167], atol=5e-7)


def test_manual_loop_records_what_run_records(tutorial):
    # The tutorial's manual loop (get_var after forward) and run() of the same network and
    # inputs record the same v at every step, bit for bit.
    g = tutorial[0]
    net = qifsim.Network(dt=1e-3)
    net.add_diffeq_node("qif", "neuron_model_templates.spiking_neurons.qif.qif", weights=g["J"], source_var="s",
                        target_var="s_in", input_var="I_ext", output_var="s", spike_var="spike", reset_var="v",
                        op="qif_op")
    obs = net.run(g["inp"], record_vars=[("qif", "v", False)], verbose=False)
    np.testing.assert_array_equal(obs[("qif", "v")], g["v"].to_numpy())
    np.testing.assert_array_equal(obs["out"], g["s_numpy"])


def test_get_var_after_forward_set_var_and_reset():
    net = qifsim.Network(dt=1e-3)
    net.add_diffeq_node("qif", "neuron_model_templates.spiking_neurons.qif.qif", N=2, source_var="s",
                        target_var="s_in", input_var="I_ext", output_var="s", spike_var="spike", reset_var="v")
    net.compile()
    assert list(net.get_var("qif", "v")) == [-2.0, -2.0]  # before any forward: the initial state
    net.forward(np.full(2, 15.0))
    assert list(net.get_var("qif", "v")) == [-2.0, -2.0]  # the start of the step just taken
    assert net.next_state("qif", "v")[0] == -2.0 + 1e-3 * (4.0 + 10.0)
    net.set_var("qif", "v", 1.5)  # the next step starts from it, and get_var shows it
    assert list(net.get_var("qif", "v")) == [1.5, 1.5]
    net.forward(np.full(2, 15.0))
    assert net.get_var("qif", "v")[0] == 1.5
    assert net.next_state("qif", "v")[0] == 1.5 + 1e-3 * (2.25 + 10.0)
    net.reset()  # RectiPy 0.12.2 zeroes the state vector
    assert list(net.get_var("qif", "v")) == [0.0, 0.0]


def test_run_matches_reference(tutorial, ref):
    obs, r1 = tutorial[0]["obs"], ref["r1"]
    np.testing.assert_array_equal(obs.steps, np.arange(STEPS))
    np.testing.assert_allclose(obs["out"], r1["out"], **TOL)
    np.testing.assert_allclose(obs[("qif", "v")], r1["vars"][0][:, 0], **TOL)


def test_run_with_sampling_steps_matches_reference(tutorial, ref):
    obs2, r2 = tutorial[0]["obs2"], ref["r2"]
    np.testing.assert_array_equal(obs2.steps, np.arange(0, STEPS, 2))
    np.testing.assert_allclose(obs2["out"], r2["out"], **TOL)  # means over 2-step windows
    np.testing.assert_allclose(obs2[("qif", "v")], r2["vars"][0][:, 0], **TOL)


def test_last_run_leaves_the_reference_state(tutorial, ref):
    net = tutorial[0]["net"]
    assert net.step_count == 4 * STEPS
    np.testing.assert_allclose(net.get_var("qif", "v"), ref["v_end"], **TOL)


def test_figures_show_the_recordings(tutorial, ref, tmp_path):
    figures = tutorial[2]
    assert len(figures) == 3
    # 1: v of each neuron against time
    lines = figures[0].axes[0].get_lines()
    assert len(lines) == 5
    np.testing.assert_allclose(lines[2].get_ydata(), ref["v"][:, 2], **TOL)
    np.testing.assert_allclose(lines[2].get_xdata(), np.arange(STEPS) * 1e-3)
    # 2: v against out
    lines = figures[1].axes[0].get_lines()
    np.testing.assert_allclose(lines[0].get_xdata(), ref["out"][:, 0], **TOL)
    # 3: obs and obs2 overlaid, with a legend
    ax = figures[2].axes[0]
    assert [len(line.get_ydata()) for line in ax.get_lines()] == [STEPS, STEPS // 2]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["obs", "obs2"]
    path = tmp_path / "v.png"
    figures[2].savefig(path)
    assert path.stat().st_size > 1000
