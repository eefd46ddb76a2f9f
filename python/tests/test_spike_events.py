"""Spike events from Python: ``run(record_spikes=[...])`` and ``obs.spikes(pop)`` against the
dense per-step ``spike`` variable of the same network (every spike, in order, whatever
``sampling_steps`` is), and a config run's ``<pop>.spikes.npy`` killed at a random point and
resumed against an uninterrupted run."""
import signal
import subprocess
import sys

import numpy as np
import pytest

import qifsim
from qifsim import Network
from run_progress import signal_when_written

QIF = "neuron_model_templates.spiking_neurons.qif.qif"


def network(n=200, seed=4):
    rng = np.random.default_rng(seed)
    J = rng.uniform(0.0, 20.0 / n, (n, n))
    net = Network(dt=1e-3)
    net.add_diffeq_node("qif", QIF, weights=J, op="qif_op", source_var="s", target_var="s_in",
                        input_var="I_ext", output_var="s", spike_var="spike", reset_var="v",
                        node_vars={"eta": rng.uniform(-2.0, 6.0, n), "v": rng.uniform(-5.0, 150.0, n)})
    return net


def dense_events(inputs, cutoff):
    obs = network().run(inputs, cutoff=cutoff, record_vars=[("qif", "spike", False)], verbose=False)
    rows, neurons = np.nonzero(obs[("qif", "spike")])
    return obs.steps[rows], neurons


def test_spike_events_hold_every_spike_whatever_the_sampling():
    inputs = np.full((400, 200), 60.0)
    want_steps, want_neurons = dense_events(inputs, cutoff=9)
    assert len(want_steps) > 150
    obs = network().run(inputs, sampling_steps=25, cutoff=9, record_vars=[("qif", "v", True)],
                        record_spikes=["qif"], verbose=False)
    ev = obs.spikes("qif")
    np.testing.assert_array_equal(ev.steps, want_steps)
    np.testing.assert_array_equal(ev.neurons, want_neurons)
    np.testing.assert_array_equal(ev.times, want_steps * 1e-3)
    assert len(ev) == len(want_steps) and ev.steps.dtype == np.int64
    assert obs.record_spikes == ["qif"]
    assert list(obs.steps) == [t for t in range(9, 400) if t % 25 == 0]  # the samples as before


def test_unrecorded_or_non_spiking_populations_are_refused_naming_them():
    obs = network().run(np.full((20, 200), 1.0), record_spikes="qif", verbose=False)
    with pytest.raises(qifsim.InvalidArgument, match="'other'.*spikes recorded: 'qif'"):
        obs.spikes("other")
    with pytest.raises(qifsim.InvalidArgument, match="'nobody'"):
        network().run(np.full((20, 200), 1.0), record_spikes=["nobody"], verbose=False)


CONFIG = """
dt = 1e-3
steps = 600000
[[function]]
name = "drive"
size = 1
[[population]]
name = "qif"
n = 300
weights = { kind = "fixed_indegree", k = 30, value = 0.3, seed = 3 }
eta = { kind = "lorentzian", center = -1.0, width = 1.0 }
[[edge]]
source = "drive"
target = "qif"
weights = { kind = "all_to_all", value = 1.0 }
[input]
value = 3.0
[record]
output = false
vars = [["qif", "v", true]]
spikes = ["qif"]
sampling_steps = 50
formats = ["npy", "csv", "hdf5"]
checkpoint_seconds = 0.2
flush_seconds = 0.05
"""


@pytest.mark.skipif(not qifsim._qifsim.config_supported(), reason="built without TOML configs")
def test_a_killed_config_run_resumes_to_the_uninterrupted_spike_events(tmp_path):
    config = tmp_path / "run.toml"
    config.write_text(CONFIG)
    r = qifsim.run_config(str(config), out_dir=str(tmp_path / "whole"), progress="off")
    assert r.complete
    whole = qifsim.load_recording(str(tmp_path / "whole"))
    want = whole.spikes("qif")
    assert len(want) > 1000
    folder = str(tmp_path / "part")
    child = subprocess.Popen([sys.executable, "-c", "import qifsim, sys; qifsim.run_config(sys.argv[1], "
                              "out_dir=sys.argv[2], progress='off')", str(config), folder],
                             stderr=subprocess.PIPE, text=True)
    signal_when_written(child, folder, whole.samples // 2, signal.SIGKILL)
    child.communicate(timeout=120)
    assert child.returncode == -signal.SIGKILL
    with pytest.warns(qifsim.IncompleteRecordingWarning):
        partial = qifsim.load_recording(folder)
    part = partial.spikes("qif")  # a killed run's file loads, holding a start of the events
    assert 0 < len(part) < len(want)
    np.testing.assert_array_equal(part.steps, want.steps[:len(part)])
    np.testing.assert_array_equal(part.neurons, want.neurons[:len(part)])
    r = qifsim.run_config(resume=folder, progress="off")
    assert r.complete and r.first_step > 0
    got = qifsim.load_recording(folder, strict=True).spikes("qif")
    np.testing.assert_array_equal(got.steps, want.steps)
    np.testing.assert_array_equal(got.neurons, want.neurons)
    np.testing.assert_array_equal(got.times, want.times)
    # The CSV file continued to the same lines (step, time, neuron).
    assert (tmp_path / "part" / "qif.spikes.csv").read_text() == (tmp_path / "whole" / "qif.spikes.csv").read_text()
    h5py = pytest.importorskip("h5py")
    with h5py.File(f"{folder}/recording.h5") as f:
        np.testing.assert_array_equal(f["qif.spikes"][:], np.stack([want.steps, want.neurons], axis=1))
