"""The seed tutorial (RectiPy's Observer tutorial, python/examples/observer_tutorial.py) runs
with qifsim and NumPy, and its recordings match the NumPy reference of the spec."""
import contextlib
import io
import pathlib
import runpy
import warnings

import numpy as np
import pytest

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
    for t in range(STEPS):  # forward, then get_var: v after the step
        out.append(pop.step(inp[t]))
        v.append(pop.v.copy())
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
