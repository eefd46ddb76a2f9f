"""Sweeps from Python: ``Network.run(sweep=...)`` gives each recording a member axis, and member
b equals the single run with member b's values (bit for bit with ``reproducible=True``), for
numbers, per-neuron arrays and .npy files; the grid mode takes every combination; bad sweeps are
refused naming the problem."""
import numpy as np
import pytest

import qifsim
from qifsim import Network

QIF = "neuron_model_templates.spiking_neurons.qif.qif"
N = 60


def network(eta=-2.0, v=-2.0):
    rng = np.random.default_rng(4)
    w = rng.uniform(-0.5, 1.0, (N, N)) / N * 8.0
    net = Network(dt=2e-3)
    net.add_diffeq_node("qif", QIF, weights=w, source_var="s", target_var="s_in", input_var="I_ext",
                        output_var="s", spike_var="spike", reset_var="v", spike_threshold=100.0, spike_reset=-100.0,
                        node_vars={"all/qif_op/eta": eta, "all/qif_op/v": v, "all/qif_op/tau": 1.0,
                                   "all/qif_op/tau_s": 0.5, "all/qif_op/k": 1.0})
    return net


def inputs(steps=500, scale=1.0):
    t = np.arange(steps)[:, None]
    return scale * (3.0 + np.sin(0.01 * t)) * np.ones((1, N))


RUN = dict(record_output=True, record_vars=[("qif", "v", False), ("qif", "s", True)], sampling_steps=5,
           verbose=False, reproducible=True)


def test_members_equal_single_runs_bit_for_bit(tmp_path):
    ramp = np.linspace(-3.0, 0.0, N)
    np.save(tmp_path / "v0.npy", np.linspace(-1.0, 1.0, N))
    sweep = {"qif.eta": [-2.0, ramp, 1.0], "qif.v0": [-2.0, str(tmp_path / "v0.npy"), 0.5],
             "input.scale": [1.0, 0.5, 2.0]}
    obs = network().run(inputs(), sweep=sweep, **RUN)
    assert obs["qif", "v"].shape == (len(obs), 3, N)
    assert obs["qif", "s"].shape == (len(obs), 3)
    assert obs["out"].shape == (len(obs), 3, N)
    assert [m["input.scale"] for m in obs.members] == [1.0, 0.5, 2.0]
    assert obs.members[1]["qif.v0"].endswith("v0.npy")
    frame = obs.members_frame()
    assert list(frame.columns) == ["qif.eta", "qif.v0", "input.scale", "status", "samples", "reason"]
    assert list(frame["status"]) == ["complete"] * 3 and list(frame["samples"]) == [len(obs)] * 3
    singles = [network(-2.0, -2.0).run(inputs(), **RUN),
               network(ramp, np.linspace(-1.0, 1.0, N)).run(inputs(scale=0.5), **RUN),
               network(1.0, 0.5).run(inputs(scale=2.0), **RUN)]
    spikes = 0
    for b, one in enumerate(singles):
        np.testing.assert_array_equal(obs["qif", "v"][:, b], one["qif", "v"])
        np.testing.assert_array_equal(obs["qif", "s"][:, b], one["qif", "s"])
        np.testing.assert_array_equal(obs["out"][:, b], one["out"])
        spikes += int((np.diff(one["qif", "v"], axis=0) < -50).sum())
    assert spikes > 0, "no neuron spiked: the comparison saw no reset"
    frame = obs.to_dataframe(("qif", "v"))
    assert frame.columns.names == ["member", "unit"]
    assert frame.shape == (len(obs), 3 * N)


def test_grid_mode_and_own_inputs():
    net = network()
    x = np.hstack([inputs(scale=1.0), inputs(scale=1.5), inputs(scale=1.0), inputs(scale=1.5)])
    obs = net.run(x, sweep={"qif.eta": [-3.0, -1.0], "qif.k": [0.5, 1.5]}, sweep_mode="grid", **RUN)
    assert obs["qif", "s"].shape == (len(obs), 4)
    assert [(m["qif.eta"], m["qif.k"]) for m in obs.members] == [(-3.0, 0.5), (-3.0, 1.5), (-1.0, 0.5), (-1.0, 1.5)]
    one = network(eta=-1.0)
    one.set_var("qif", "k", 0.5)
    np.testing.assert_array_equal(obs["qif", "v"][:, 2], one.run(inputs(scale=1.0), **RUN)["qif", "v"])


def test_bad_sweeps_are_refused_naming_the_problem():
    net = network()
    with pytest.raises(qifsim.InvalidArgument, match=r"'qif.eta' 3.*'qif.k' 2"):
        net.run(inputs(), sweep={"qif.eta": [1, 2, 3], "qif.k": [1, 2]}, verbose=False)
    with pytest.raises(qifsim.InvalidArgument, match="unknown node 'nope'"):
        net.run(inputs(), sweep={"nope.eta": [1, 2]}, verbose=False)
    with pytest.raises(qifsim.InvalidArgument, match="one value per member"):
        net.run(inputs(), sweep={"qif.eta": 1.0}, verbose=False)
    with pytest.raises(qifsim.InvalidArgument, match="grid"):
        net.run(inputs(), sweep={"qif.eta": [1, 2]}, sweep_mode="product", verbose=False)
    with pytest.raises(qifsim.InvalidArgument, match="one line per member"):
        net.run(inputs(), sweep={"qif.eta": [1, 2]}, verbose=False).plot("out", x=("qif", "v"))


def test_plot_draws_one_line_per_member():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    obs = network().run(inputs(), sweep={"qif.eta": [-2.0, 0.5]}, **RUN)
    ax = obs.plot(("qif", "v"))
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["qif.eta -2.0", "qif.eta 0.5"]
    np.testing.assert_allclose(lines[1].get_ydata(), obs["qif", "v"][:, 1].mean(axis=1))
    assert "2 members" in ax.get_title()


def test_a_diverging_member_stops_and_the_others_run_on(tmp_path):
    net = network()
    obs = net.run(inputs(), sweep={"qif.v_threshold": [100.0, 1e305, 100.0], "qif.v_reset": [-100.0, 1e300, -100.0],
                                   "qif.eta": [-2.0, 50.0, -1.0]},
                  **RUN)
    frame = obs.members_frame()
    assert list(frame["status"]) == ["complete", "diverged", "complete"]
    kept = frame["samples"][1]
    assert 0 <= kept < len(obs)
    assert np.isnan(obs["qif", "v"][kept:, 1]).all()
    assert np.isfinite(obs["qif", "v"][:, [0, 2]]).all()
    assert "variable 'v'" in frame["reason"][1]


def test_the_example_sweep_config_and_its_recording(tmp_path):
    import os

    config = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "coupling_sweep.toml")
    run = qifsim.run_config(config, set=["duration=2.0"], out_dir=str(tmp_path / "sweep"), progress="off")
    rec = qifsim.load_recording(run.out_dir)
    assert rec["out"].shape == (200, 8, 1)
    assert [m["qif.k"] for m in rec.members] == ["0.2", "0.4", "0.6", "0.8", "1", "1.2", "1.4", "1.6"]
    assert all(m["status"] == "complete" and m["samples"] == 200 for m in rec.members)


def test_spike_events_carry_the_member():
    obs = network().run(inputs(), sweep={"qif.eta": [3.0, 8.0]}, record_spikes=["qif"], **RUN)
    ev = obs.spikes("qif")
    assert ev.members is not None and len(ev.members) == len(ev) > 0
    for b, eta in enumerate([3.0, 8.0]):
        one = network(eta).run(inputs(), record_spikes=["qif"], **RUN).spikes("qif")
        assert one.members is None
        np.testing.assert_array_equal(ev.steps[ev.members == b], one.steps)
        np.testing.assert_array_equal(ev.neurons[ev.members == b], one.neurons)
