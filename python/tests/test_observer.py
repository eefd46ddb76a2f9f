"""qifsim.Observer on its own: manual recording as in RectiPy, retrieval (indexing,
to_numpy, to_dataframe), plots, and the errors."""
import numpy as np
import pytest

import qifsim
from qifsim import Observer


def filled(samples=300, n=4):
    obs = Observer(1e-2, record_output=True, record_loss=True,
                   record_vars=[("qif", "v", False), ("qif", "qif_op/s", True)])
    rng = np.random.default_rng(0)
    data = dict(out=rng.normal(size=(samples, 2)), loss=rng.normal(size=samples),
                v=rng.normal(size=(samples, n)), s=rng.normal(size=(samples, n)))
    for t in range(samples):
        obs.record(3 * t, output=data["out"][t], loss=data["loss"][t],
                   record_vars=[data["v"][t], list(data["s"][t])])
    return obs, data


def test_manual_record_stores_what_it_is_given():
    obs, d = filled()
    assert len(obs) == 300
    assert obs.keys() == ["out", "loss", ("qif", "v"), ("qif", "s")]
    assert obs.recorded_state_variables == [("qif", "v"), ("qif", "s")]
    np.testing.assert_array_equal(obs["out"], d["out"])
    np.testing.assert_array_equal(obs["loss"], d["loss"])
    np.testing.assert_array_equal(obs[("qif", "v")], d["v"])
    np.testing.assert_array_equal(obs["qif.v"], d["v"])
    # The mean over 4 neurons in the one reduction order (a halving tree): (s0 + s2) + (s1 + s3).
    np.testing.assert_array_equal(obs[("qif", "s")], ((d["s"][:, 0] + d["s"][:, 2]) + (d["s"][:, 1] + d["s"][:, 3])) / 4)
    assert obs[("qif", "s")].shape == (300,) and obs["loss"].shape == (300,)
    np.testing.assert_array_equal(obs.steps, 3 * np.arange(300))
    np.testing.assert_allclose(obs.time, 3 * np.arange(300) * 1e-2)
    np.testing.assert_array_equal(obs.to_numpy("steps"), obs.steps)


def test_arrays_are_read_only_views_that_outlive_growth():
    obs, d = filled(samples=100)
    early = obs["out"]
    assert not early.flags.writeable
    with pytest.raises(ValueError):
        early[0, 0] = 1.0
    for t in range(1000):  # the storage moves to bigger blocks while this goes on
        obs.record(t, output=[1.0, 2.0], loss=0.0, record_vars=[np.zeros(4), np.zeros(4)])
    np.testing.assert_array_equal(early, d["out"])
    np.testing.assert_array_equal(obs["out"][:100], d["out"])
    assert len(obs) == 1100
    assert np.shares_memory(obs["out"], obs.to_numpy("out"))
    assert obs.nbytes >= 1100 * (2 + 1 + 4 + 1) * 8


def test_to_dataframe():
    pd = pytest.importorskip("pandas")
    obs, d = filled()
    v = obs.to_dataframe(("qif", "v"))
    assert isinstance(v, pd.DataFrame)
    assert v.shape == (300, 4) and list(v.columns) == [0, 1, 2, 3]
    assert v.index.name == "time"
    np.testing.assert_allclose(v.index.to_numpy(), obs.time)
    np.testing.assert_array_equal(v.to_numpy(), d["v"])
    v.iloc[0, 0] = 123.0  # a copy by default
    assert obs[("qif", "v")][0, 0] == d["v"][0, 0]
    s = obs.to_dataframe(("qif", "s"), copy=False)
    assert list(s.columns) == ["qif.s"]


def test_plot_and_matshow():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    obs, d = filled()
    ax = obs.plot(("qif", "v"), figsize=(4, 3), lw=0.5)
    assert len(ax.get_lines()) == 4
    assert ax.get_xlabel() == "time (model units)" and ax.get_ylabel() == "qif.v"  # a manual recording: no model
    np.testing.assert_array_equal(ax.get_lines()[1].get_ydata(), d["v"][:, 1])
    ax2 = obs.plot(y=("qif", "s"), x="loss", ax=ax)
    assert ax2 is ax and ax.get_xlabel() == "loss"
    ax = obs.matshow(("qif", "v"))
    image = ax.get_images()[0].get_array()
    assert image.shape == (4, 300)
    np.testing.assert_array_equal(np.asarray(image), d["v"].T)
    plt.close("all")


def test_errors():
    obs, _ = filled(samples=3)
    with pytest.raises(qifsim.InvalidArgument, match=r"no series 'qif.x' was recorded \(series: out, loss, qif.v, qif.s\)"):
        obs[("qif", "x")]
    with pytest.raises(qifsim.InvalidArgument, match="got 1 variables"):
        obs.record(10, output=[0.0, 0.0], loss=0.0, record_vars=[np.zeros(4)])
    with pytest.raises(qifsim.InvalidArgument, match="width"):
        obs.record(10, output=[0.0, 0.0, 0.0], loss=0.0, record_vars=[np.zeros(4), np.zeros(4)])
    with pytest.raises(qifsim.InvalidArgument, match="listed twice"):
        Observer(1e-3, record_vars=[("qif", "v"), ("qif", "v", True)])
    with pytest.raises(qifsim.InvalidArgument, match="expected"):
        Observer(1e-3, record_vars=["qif.v"])
    with pytest.raises(qifsim.InvalidArgument, match="dt"):
        Observer(0.0)


def test_empty_observer():
    obs = Observer(1e-3, record_vars=[("qif", "v", True)])
    assert len(obs) == 0
    assert obs["out"].shape[0] == 0 and obs[("qif", "v")].shape == (0,)
    assert obs.steps.shape == (0,)
