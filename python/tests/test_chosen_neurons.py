"""Chosen neurons from Python: ``record_vars=[("qif", "v", [3, 1])]`` records those neurons'
values in that order, the columns of the full recording of the same run; a config's
``["qif", "v", [..]]`` likewise; bad lists are refused naming the neuron."""
import numpy as np
import pytest

import qifsim
from qifsim import Network

QIF = "neuron_model_templates.spiking_neurons.qif.qif"


def network(n=30):
    rng = np.random.default_rng(2)
    net = Network(dt=1e-3)
    net.add_diffeq_node("qif", QIF, weights=rng.uniform(0.0, 20.0 / n, (n, n)), op="qif_op", source_var="s",
                        target_var="s_in", input_var="I_ext", output_var="s", spike_var="spike", reset_var="v",
                        node_vars={"eta": rng.uniform(-2.0, 6.0, n)})
    return net


def test_chosen_neurons_are_the_columns_of_the_full_recording():
    inputs = np.full((500, 30), 10.0)
    full = network().run(inputs, sampling_steps=4, record_vars=[("qif", "v", False)], verbose=False)
    pick = [29, 3, 0]
    chosen = network().run(inputs, sampling_steps=4, record_vars=[("qif", "v", np.array(pick))], verbose=False)
    assert chosen[("qif", "v")].shape == (len(full.steps), 3)
    np.testing.assert_array_equal(chosen[("qif", "v")], full[("qif", "v")][:, pick])


def test_bad_lists_are_refused():
    with pytest.raises(qifsim.InvalidArgument, match="neuron 30 is not one"):
        network().run(np.ones((5, 30)), record_vars=[("qif", "v", [30])], verbose=False)
    with pytest.raises(qifsim.InvalidArgument, match="listed twice"):
        network().run(np.ones((5, 30)), record_vars=[("qif", "v", [1, 1])], verbose=False)
    with pytest.raises(qifsim.InvalidArgument, match="neuron indices"):
        network().run(np.ones((5, 30)), record_vars=[("qif", "v", [0.5])], verbose=False)


CONFIG = """
dt = 1e-3
steps = 400
[[population]]
name = "qif"
n = 20
weights = { kind = "uniform", low = 0.0, high = 1.0, seed = 3 }
eta = { kind = "lorentzian", center = 1.0, width = 1.0 }
[input]
value = 5.0
[record]
output = false
vars = [["qif", "v", %s]]
sampling_steps = 5
formats = ["npy"]
"""


@pytest.mark.skipif(not qifsim._qifsim.config_supported(), reason="built without TOML configs")
def test_a_config_records_the_chosen_neurons(tmp_path):
    for name, third in (("full", "false"), ("chosen", "[4, 19, 0]")):
        (tmp_path / f"{name}.toml").write_text(CONFIG % third)
        qifsim.run_config(str(tmp_path / f"{name}.toml"), out_dir=str(tmp_path / name), progress="off")
    full = qifsim.load_recording(str(tmp_path / "full"))["qif.v"]
    chosen = qifsim.load_recording(str(tmp_path / "chosen"))["qif.v"]
    np.testing.assert_array_equal(chosen, full[:, [4, 19, 0]])
    (tmp_path / "bad.toml").write_text(CONFIG % "[4, 20]")
    with pytest.raises(qifsim.InvalidArgument, match="neuron 20 is not one of 'qif''s 20"):
        qifsim.run_config(str(tmp_path / "bad.toml"), out_dir=str(tmp_path / "bad"), progress="off")


def test_a_mean_flag_given_as_0_or_1_stays_a_flag():
    obs = network().run(np.full((20, 30), 5.0), record_vars=[("qif", "v", 1), ("qif", "s", 0)], verbose=False)
    assert obs[("qif", "v")].shape == (20,)  # one mean a sample
    assert obs[("qif", "s")].shape == (20, 30)


def test_tables_and_plots_label_the_chosen_neurons():
    import matplotlib
    matplotlib.use("Agg")
    obs = network().run(np.full((50, 30), 10.0), record_vars=[("qif", "v", [29, 3, 0])], verbose=False)
    df = obs.to_dataframe(("qif", "v"))
    assert list(df.columns) == [29, 3, 0]
    np.testing.assert_array_equal(df[3].to_numpy(), obs[("qif", "v")][:, 1])
    assert [c for c in obs.recordings.columns if isinstance(c, tuple) and c[0] == ("qif", "v")] == \
        [(("qif", "v"), 29), (("qif", "v"), 3), (("qif", "v"), 0)]
    ax = obs.plot(("qif", "v"))
    assert [line.get_label() for line in ax.get_lines()] == ["qif.v[29]", "qif.v[3]", "qif.v[0]"]
    full = network().run(np.full((50, 30), 10.0), record_vars=[("qif", "v", False)], verbose=False)
    assert list(full.to_dataframe(("qif", "v")).columns) == list(range(30))


def test_labels_under_rectipys_variable_names():
    obs = network().run(np.full((20, 30), 10.0), record_vars=[("qif", "qif_op/v", [7, 2])], verbose=False)
    assert list(obs.to_dataframe(("qif", "qif_op/v")).columns) == [7, 2]
