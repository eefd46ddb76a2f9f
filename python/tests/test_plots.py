"""Plots: `qifsim plot` (scripts/qifsim-plot, loaded here as a module) on run folders, and
Observer.plot / Observer.matshow. Checked through the matplotlib objects, not the pixels:
which figures are made, what their axes, titles and legends say, what the raster draws and
where the colour scale of a heat map ends."""
import importlib.machinery
import importlib.util
import pathlib

import numpy as np
import pytest

import qifsim
from qifsim import Network, Observer

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "qifsim-plot"
needs_config = pytest.mark.skipif(not qifsim._qifsim.config_supported(), reason="built without TOML configs")

QIF_CONFIG = """
dt = 1e-3
steps = 2000
[[population]]
name = "qif"
n = 5
weights = { kind = "uniform", low = 0.0, high = 20.0, seed = 42 }
[input]
value = 15.0
[record]
output = true
vars = [["qif", "v", false], ["qif", "spike", true]]
formats = ["npy"]
"""

IK_CONFIG = """
dt = 1e-2
steps = 300
[[population]]
name = "ik"
model = "ik"
n = 4
[input]
value = 60.0
[record]
output = false
vars = [["ik", "v", true]]
formats = ["npy"]
"""


@pytest.fixture(scope="module")
def plot_script():
    loader = importlib.machinery.SourceFileLoader("qifsim_plot", str(SCRIPT))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader("qifsim_plot", loader))
    loader.exec_module(module)
    return module


@pytest.fixture
def figures(plot_script, monkeypatch):
    """The figures qifsim-plot saves, by file name, kept open (save() writes and closes them)."""
    made = {}

    def keep(fig, path):
        fig.tight_layout()
        made[pathlib.Path(path).name] = fig

    monkeypatch.setattr(plot_script, "save", keep)
    yield made
    plt.close("all")


def run(tmp_path, text, name="run", overrides=()):
    config = tmp_path / f"{name}.toml"
    config.write_text(text)
    out = tmp_path / name
    qifsim.run_config(str(config), out_dir=str(out), set=list(overrides), progress="off")
    return str(out)


def legend_inside(ax):
    legend = ax.get_legend()
    ax.figure.canvas.draw()
    box, frame = legend.get_window_extent(), ax.get_window_extent()
    return box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0 and box.y1 <= frame.y1


# ---- qifsim plot ---------------------------------------------------------------------------------

@needs_config
def test_default_plots_draw_a_mean_spike_series_and_keep_the_v_raster(plot_script, tmp_path):
    """A run recording v per neuron and the mean spike series gets a rate figure from the
    mean, and the v raster is still drawn (a mean spike series holds no neuron's spikes)."""
    folder = run(tmp_path, QIF_CONFIG)
    out = tmp_path / "png"
    plot_script.main([folder, "-o", str(out)])
    made = {p.name for p in out.iterdir()}
    assert "qif.spike_rate.png" in made
    assert "qif.v_raster.png" in made
    assert "qif.spike_raster.png" not in made  # no rows to draw for a mean


@needs_config
def test_mean_spike_rate_is_the_recorded_mean_of_spike_over_dt(plot_script, figures, tmp_path):
    folder = run(tmp_path, QIF_CONFIG, overrides=["record.vars=[[\"qif\",\"spike\",true]]"])
    plot_script.main([folder])
    ax = figures["qif.spike_rate.png"].axes[0]
    assert "mean qif.spike" in ax.get_title()
    assert ax.get_ylabel() == "rate (spikes / neuron / time unit)"
    rate = np.load(pathlib.Path(folder) / "qif.spike.npy")[:, 0]  # the mean of spike / dt
    assert rate.max() > 0  # the run spikes
    line = ax.get_lines()[0]
    # A moving average of the recorded rate keeps its mean (away from the ends).
    np.testing.assert_allclose(np.mean(line.get_ydata()), rate.mean(), rtol=0.05)


@needs_config
def test_means_are_labelled_as_means_without_a_legend(plot_script, figures, tmp_path):
    folder = run(tmp_path, QIF_CONFIG, overrides=["record.vars=[[\"qif\",\"v\",true]]"])
    plot_script.main([folder, "--var", "qif.v"])
    ax = figures["qif.v_time.png"].axes[0]
    assert ax.get_ylabel() == "mean qif.v"
    assert ax.get_title() == "mean qif.v against time"
    assert ax.get_legend() is None  # one series: the title and the y label name it


@needs_config
def test_legends_of_several_lines_sit_inside_the_axes(plot_script, figures, tmp_path):
    folder = run(tmp_path, QIF_CONFIG)
    plot_script.main([folder, "--var", "qif.v", "--xy", "qif.v:out"])
    for name in ("qif.v_time.png", "qif.v_vs_out.png"):
        ax = figures[name].axes[0]
        assert [t.get_text() for t in ax.get_legend().get_texts()] == [f"qif.v[{i}]" for i in range(5)]
        assert legend_inside(ax), name


@needs_config
def test_time_axis_says_the_model_unit(plot_script, figures, tmp_path):
    qif = run(tmp_path, QIF_CONFIG, name="qif")
    ik = run(tmp_path, IK_CONFIG, name="ik")
    # A config whose model is set by --set: the override in the copy's header counts.
    ik_by_set = run(tmp_path, IK_CONFIG.replace('model = "ik"', 'model = "qif"').replace("value = 60.0", "value = 1.0"),
                    name="ik_set", overrides=["population.0.model=ik", "input.value=60.0"])
    plot_script.main([qif, "--var", "out", "-o", str(tmp_path / "a")])
    assert figures["out_time.png"].axes[0].get_xlabel() == "time"
    for folder in (ik, ik_by_set):
        plot_script.main([folder, "--var", "ik.v", "-o", str(tmp_path / "b")])
        assert figures["ik.v_time.png"].axes[0].get_xlabel() == "time (ms)", folder
    # No config beside the recording (Observer.export's folders): the unit cannot be told.
    obs = Observer(1e-2, record_output=False, record_loss=False, record_vars=[("qif", "v", True)])
    for t in range(10):
        obs.record(t, record_vars=[np.full(3, float(t))])
    obs.export(tmp_path / "exported")
    plot_script.main([str(tmp_path / "exported"), "-o", str(tmp_path / "c")])
    ax = figures["qif.v_time.png"].axes[0]
    assert ax.get_xlabel() == "time (model units)"
    assert ax.get_ylabel() == "mean qif.v"  # a 1-d array: a mean


def test_raster_of_many_neurons_shows_a_readable_sample(plot_script, figures, tmp_path):
    """1e5 neurons: at most 200 rows, evenly spaced, the title says so, the spike count is
    of all neurons."""
    n, samples = 100_000, 40
    folder = tmp_path / "big"
    folder.mkdir()
    spikes = np.zeros((samples, n))
    spikes[np.arange(n) % samples, np.arange(n)] = 1.0  # neuron i spikes at sample i % 40
    np.save(folder / "qif.spike.npy", spikes)
    np.save(folder / "steps.npy", np.arange(samples, dtype=np.int64))
    np.save(folder / "time.npy", np.arange(samples) * 1e-3)
    plot_script.main([str(folder), "--raster", "qif.spike"])
    ax = figures["qif.spike_raster.png"].axes[0]
    ids = np.concatenate([line.get_ydata() for line in ax.get_lines()])
    assert len(np.unique(ids)) == 200 and ids.min() == 0 and ids.max() == n - 1
    assert plot_script.MAX_RASTER_ROWS == 200
    assert "200 of 100000 neurons shown" in ax.get_title()
    assert f"{n} in all {n} neurons" in ax.get_title()
    assert ax.get_lines()[0].get_markersize() >= 1.5


def test_overrides_apply_as_qifsim_run_applies_them(plot_script):
    config = {"population": [{"name": "qif"}], "record": {"vars": [["qif", "v", False]]}}
    assert plot_script.apply_override(config, 'record.vars=[["qif","v",true]]')
    assert plot_script.apply_override(config, "population.0.model=ik")  # a bare word: a string
    assert config == {"population": [{"name": "qif", "model": "ik"}], "record": {"vars": [["qif", "v", True]]}}
    assert not plot_script.apply_override(config, "population.3.model=ik")  # no such entry


# ---- Observer.plot and Observer.matshow ------------------------------------------------------------

def manual(samples=200, n=4, seed=0):
    obs = Observer(1e-2, record_output=False, record_loss=False,
                   record_vars=[("qif", "v", False), ("qif", "s", True)])
    rng = np.random.default_rng(seed)
    v = rng.uniform(-5.0, 5.0, size=(samples, n))
    v.flat[::150] = 100.0  # peaks and resets: under 1% of the values each, far out
    v.flat[75::150] = -100.0
    for t in range(samples):
        obs.record(t, record_vars=[v[t], rng.random(n)])
    return obs, v


def test_observer_plot_names_the_series():
    obs, _ = manual()
    ax = obs.plot(("qif", "v"), lw=0.5, color="k")
    assert isinstance(ax, matplotlib.axes.Axes)
    assert all(line.get_linewidth() == 0.5 and line.get_color() == "k" for line in ax.get_lines())
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [f"qif.v[{i}]" for i in range(4)]
    assert ax.get_ylabel() == "qif.v" and ax.get_title() == "qif.v against time (model units)"
    ax = obs.plot(("qif", "s"))
    assert ax.get_ylabel() == "mean qif.s" and ax.get_title() == "mean qif.s against time (model units)"
    assert ax.get_lines()[0].get_label() == "mean qif.s"
    assert ax.get_legend() is None  # a single line: the title and y label name it
    ax = obs.plot(("qif", "s"), label="mine")
    assert ax.get_lines()[0].get_label() == "mine"
    plt.close("all")


def test_observer_plot_of_two_series_on_one_axes_has_a_legend():
    obs, _ = manual()
    other, _ = manual(seed=1)
    ax = obs.plot(("qif", "s"))
    other.plot(("qif", "s"), ax=ax)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["mean qif.s", "mean qif.s"]
    assert legend_inside(ax)
    ax.set_title("mine")
    obs.plot(("qif", "v"), ax=ax)
    assert ax.get_title() == "mine"  # a title set by hand stays
    plt.close("all")


def test_matshow_clips_the_colour_scale_to_the_subthreshold_range():
    obs, v = manual()
    ax = obs.matshow(("qif", "v"))
    lo, hi = ax.get_images()[0].get_clim()
    expected = np.percentile(v, [1, 99])
    np.testing.assert_allclose((lo, hi), expected)
    assert -100.0 < lo and hi < 100.0  # the reset and the peak are outside the scale
    colorbar = ax.get_images()[0].colorbar
    assert "qif.v" in colorbar.ax.get_ylabel()
    assert np.asarray(ax.get_images()[0].get_array()).max() == 100.0  # the values are all drawn
    ax = obs.matshow(("qif", "v"), vmin=-1.0, vmax=2.0)  # chosen by hand: as given
    assert ax.get_images()[0].get_clim() == (-1.0, 2.0)
    plt.close("all")


def test_observer_time_axis_says_the_model_unit():
    for template, unit in (("qif", "time"), ("ik", "time (ms)")):
        net = Network(dt=1e-2)
        net.add_diffeq_node("pop", f"neuron_model_templates.spiking_neurons.{template}.{template}",
                            weights=np.zeros((2, 2)), source_var="s", target_var="s_in", input_var="I_ext",
                            output_var="s", spike_var="spike", reset_var="v", op=f"{template}_op")
        obs = net.run(np.zeros((5, 2)), record_vars=[("pop", "v", True)], verbose=False)
        ax = obs.plot(("pop", "v"))
        assert ax.get_xlabel() == unit, template
        assert obs.matshow(("pop", "v")).get_xlabel() == unit
    plt.close("all")



@needs_config
def test_a_v_raster_uses_the_populations_threshold(plot_script, figures, tmp_path):
    """v_threshold = 50 in the config: a sample of v at or above 50 is a spike of the raster
    (the neurons reset from 50, so v never reaches RectiPy's default 100)."""
    folder = run(tmp_path, QIF_CONFIG, overrides=["population.0.v_threshold=50.0",
                                                  "record.vars=[[\"qif\",\"v\",false]]"])
    plot_script.main([folder])
    v = np.load(pathlib.Path(folder) / "qif.v.npy")
    assert v.max() < 100.0 and (v >= 50.0).sum() > 0
    ax = figures["qif.v_raster.png"].axes[0]
    assert "qif.v >= 50" in ax.get_title()
    assert f"{int((v >= 50.0).sum())} in" in ax.get_title()  # every sample at or above 50, counted


@needs_config
def test_spike_events_are_drawn_whole_with_a_rate_in_bins_the_user_sets(plot_script, figures, tmp_path, capsys):
    """record.spikes: the raster draws every event (the title counts them), the v raster is not
    drawn beside it, and the rate's bins (--bin) hold the events' counts over neurons x width."""
    folder = run(tmp_path, QIF_CONFIG, overrides=["record.spikes=[\"qif\"]", "record.sampling_steps=10"])
    events = np.load(pathlib.Path(folder) / "qif.spikes.npy")
    assert events.shape[1] == 2 and len(events) > 10
    plot_script.main([folder, "--bin", "0.1"])
    assert "qif.v_raster.png" not in figures  # the events are drawn instead
    raster = figures["qif_spikes_raster.png"].axes[0]
    assert f"{len(events)} spikes of 5 neurons" in raster.get_title()
    x, y = raster.get_lines()[0].get_data()
    np.testing.assert_allclose(x, events[:, 0] * 1e-3)
    np.testing.assert_array_equal(y, events[:, 1])
    assert f"drew {len(events)} of {len(events)} spikes" in capsys.readouterr().err
    rate = figures["qif_spikes_rate.png"].axes[0]
    assert "bins of 0.1" in rate.get_title()
    edges, values = rate.get_lines()[0].get_data()
    t = events[:, 0] * 1e-3
    for k in range(len(values) - 1):  # each bin's spikes per neuron per unit of time
        count = np.count_nonzero((t >= edges[k]) & (t < edges[k + 1]))
        assert values[k] == pytest.approx(count / (5 * 0.1))


@needs_config
def test_chosen_neurons_are_labelled_by_their_index(plot_script, figures, tmp_path):
    folder = run(tmp_path, QIF_CONFIG, overrides=['record.vars=[["qif","v",[4,0,2]]]'])
    plot_script.main([folder, "--var", "qif.v"])
    ax = figures["qif.v_time.png"].axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["qif.v[4]", "qif.v[0]", "qif.v[2]"]


SWEEP_CONFIG = QIF_CONFIG.replace("[record]", """[sweep]
mode = "grid"
"qif.eta" = [-2.0, 1.0]
"input.scale" = [0.5, 1.0, 1.5]
[record]""")


@needs_config
def test_the_sweep_view_draws_each_members_statistic_against_the_swept_key(plot_script, figures, tmp_path):
    """A sweep's folder: one line per member against time, and the mean over the last half of
    the run against the swept key, one line per value of the other key, at the values the
    recording holds."""
    folder = run(tmp_path, SWEEP_CONFIG, name="sweep")
    plot_script.main([folder, "--sweep", "input.scale", "--var", "out"])
    assert set(figures) == {"out_members_time.png", "out_sweep_input.scale.png"}
    out = np.load(pathlib.Path(folder) / "out.npy")  # samples x 6 x 5
    stat = out[out.shape[0] // 2:].mean(axis=2).mean(axis=0)  # neuron mean, then the last half
    ax = figures["out_sweep_input.scale.png"].axes[0]
    lines = ax.get_lines()
    assert len(lines) == 2  # eta -2 and eta 1: members 0-2 and 3-5
    for line, members in zip(lines, ([0, 1, 2], [3, 4, 5])):
        np.testing.assert_allclose(line.get_xdata(), [0.5, 1.0, 1.5])
        np.testing.assert_allclose(line.get_ydata(), stat[members], rtol=1e-12)
    assert len(figures["out_members_time.png"].axes[0].get_lines()) == 6
    with pytest.raises(SystemExit, match="not a swept key"):
        plot_script.main([folder, "--sweep", "qif.k"])
