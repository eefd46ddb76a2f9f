"""The parts of RectiPy 0.12.2's Observer API beyond recording and retrieval: defaults,
save()/obs[key], recordings, recorded_variables. Expected values are the data recorded here
by hand."""
import numpy as np
import pytest

import qifsim
from qifsim import Network, Observer

QIF = "neuron_model_templates.spiking_neurons.qif.qif"


def manual(samples=5, width=1, mean=True, record_loss=True, dt=0.5):
    obs = Observer(dt, record_loss=record_loss, record_vars=[("qif", "v", mean)])
    rng = np.random.default_rng(0)
    out = rng.normal(size=(samples, width))
    loss = rng.normal(size=samples)
    v = rng.normal(size=(samples, 3))
    for t in range(samples):
        obs.record(2 * t, output=out[t], loss=loss[t], record_vars=[v[t]])
    return obs, out, loss, v


def test_defaults_are_rectipys():
    obs = Observer(1e-3)
    assert obs.record_output is True and obs.record_loss is True
    assert obs.keys() == ["out", "loss"]
    assert Observer(1e-3, record_loss=False).keys() == ["out"]


def test_run_and_test_still_default_to_no_loss():
    net = Network(1e-3)
    net.add_diffeq_node("qif", QIF, weights=np.zeros((2, 2)), source_var="s", target_var="s_in",
                        input_var="I_ext", output_var="s", spike_var="spike", reset_var="v", op="qif_op")
    obs = net.run(np.zeros((4, 2)), verbose=False)
    assert obs.record_loss is False and "loss" not in obs.keys()
    obs, _ = net.test(np.zeros((4, 2)), np.zeros((4, 2)), sampling_steps=1, verbose=False)
    assert obs.record_loss is False
    obs.save("note", "kept")  # observers made by run/test accept saved values too
    assert obs["note"] == "kept"
    given = Observer(net.dt, record_loss=False, record_vars=[("qif", "v", True)])
    assert net.run(np.zeros((3, 2)), obs=given, verbose=False) is given and len(given) == 3


def test_save_and_retrieve():
    obs, out, _, _ = manual()
    w = np.arange(6.0).reshape(2, 3)
    obs.save("w_out", w)
    assert obs["w_out"] is w  # as stored
    np.testing.assert_array_equal(obs.to_numpy("w_out"), w)
    obs.save("epoch_loss", [0.5, 0.25, 0.125])
    assert obs["epoch_loss"] == [0.5, 0.25, 0.125]
    np.testing.assert_array_equal(obs.to_numpy("epoch_loss"), [0.5, 0.25, 0.125])
    obs.save("y", [np.ones(2), np.zeros(2)])
    np.testing.assert_array_equal(obs.to_numpy("y"), [[1.0, 1.0], [0.0, 0.0]])
    obs.save(("readout", "w"), 3.0)  # a tuple that is no recording is a plain key
    assert obs[("readout", "w")] == 3.0
    obs.save("w_out", None)  # saving again replaces
    assert obs["w_out"] is None
    np.testing.assert_array_equal(obs["out"], out)  # recordings are untouched
    with pytest.raises(qifsim.InvalidArgument, match="no series 'nothing'"):
        obs["nothing"]


def test_save_refuses_recording_keys():
    obs, _, _, _ = manual()
    for key in ("out", "loss", ("qif", "v"), ("qif", "qif_op/v"), "qif.v", "steps", "time"):
        with pytest.raises(qifsim.InvalidArgument, match="names a recording"):
            obs.save(key, 1)
    with pytest.raises(qifsim.InvalidArgument, match="hashable"):
        obs.save(["a"], 1)
    no_loss = Observer(1.0, record_loss=False)
    no_loss.save("loss", 7)  # not recorded here, so a free key (as in RectiPy)
    assert no_loss["loss"] == 7


def test_saved_values_as_dataframes():
    pd = pytest.importorskip("pandas")
    obs, _, _, _ = manual()
    obs.save("epoch_loss", [3.0, 2.0])
    df = obs.to_dataframe("epoch_loss")
    assert isinstance(df, pd.DataFrame) and df.shape == (2, 1)
    np.testing.assert_array_equal(df.to_numpy()[:, 0], [3.0, 2.0])
    info = {"epochs": 2}
    obs.save("info", info)
    assert obs.to_dataframe("info") is info


def test_recorded_variables():
    obs, _, _, _ = manual()
    assert obs.recorded_variables == [("qif", "v"), "loss", "out", "steps"]
    assert obs.recorded_state_variables == [("qif", "v")]
    obs, _, _, _ = manual(record_loss=False)
    assert obs.recorded_variables == [("qif", "v"), "out", "steps"]
    assert Observer(1.0, record_output=False, record_loss=False).recorded_variables == ["steps"]


def test_recordings_one_value_per_sample():
    pd = pytest.importorskip("pandas")
    obs, out, loss, v = manual(samples=5, width=1, mean=True, dt=0.5)
    rec = obs.recordings
    assert isinstance(rec, pd.DataFrame)
    assert list(rec.columns) == [("qif", "v"), "out", "loss"]
    np.testing.assert_array_equal(rec.index.to_numpy(), [0.0, 1.0, 2.0, 3.0, 4.0])  # steps 0, 2, .. times dt
    np.testing.assert_allclose(rec[("qif", "v")].to_numpy(), v.mean(axis=1), rtol=1e-15)
    np.testing.assert_array_equal(rec["out"].to_numpy(), out[:, 0])
    np.testing.assert_array_equal(rec["loss"].to_numpy(), loss)
    rec.iloc[0, 1] = 99.0  # a copy
    assert obs["out"][0, 0] == out[0, 0]


def test_recordings_several_units():
    obs, out, loss, v = manual(samples=4, width=2, mean=False)
    rec = obs.recordings
    key = ("qif", "v")
    assert list(rec.columns) == [(key, 0), (key, 1), (key, 2), ("out", 0), ("out", 1), "loss"]
    np.testing.assert_array_equal(rec.to_numpy(), np.column_stack([v, out, loss]))
    empty = Observer(1.0, record_output=False, record_loss=False).recordings
    assert empty.shape == (0, 0)


def test_export_writes_every_series_that_reads_back(tmp_path):
    import qifsim
    obs = qifsim.Observer(1e-3, record_output=True, record_loss=False, record_vars=[("qif", "v", False)])
    for t in range(4):
        obs.record(t, np.array([t, 2.0 * t]), 0.0, [np.array([0.5 * t, -t, 1.0])])
    obs.save("w_out", np.eye(2))  # saved values stay in memory only
    paths = obs.export(tmp_path / "rec", formats=("npy", "csv"))
    assert sorted(p.rsplit("/", 1)[1] for p in paths) == sorted(
        f"{k}.{e}" for k in ("steps", "time", "out", "qif.v") for e in ("npy", "csv"))
    np.testing.assert_array_equal(np.load(tmp_path / "rec" / "out.npy"), [[0, 0], [1, 2], [2, 4], [3, 6]])
    np.testing.assert_array_equal(np.loadtxt(tmp_path / "rec" / "qif.v.csv", delimiter=","),
                                  [[0.5 * t, -t, 1.0] for t in range(4)])
    np.testing.assert_array_equal(np.load(tmp_path / "rec" / "steps.npy"), [0, 1, 2, 3])
    with pytest.raises(qifsim.InvalidArgument, match="formats"):
        obs.export(tmp_path, formats=("hdf5",))


def test_export_replaces_a_link_instead_of_writing_through_it_and_leaves_no_partial_file(tmp_path):
    import os
    import qifsim
    obs = qifsim.Observer(1e-3, record_output=True, record_loss=False)
    for t in range(3):
        obs.record(t, np.array([float(t)]), 0.0, [])
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    out = tmp_path / "rec"
    out.mkdir()
    os.symlink(victim, out / "out.npy")
    obs.export(out)
    assert victim.read_text() == "keep me" and not (out / "out.npy").is_symlink()
    np.testing.assert_array_equal(np.load(out / "out.npy"), [[0.0], [1.0], [2.0]])
    # a directory in the place of a file: the error names it and no temporary file stays behind
    os.remove(out / "time.npy")
    (out / "time.npy").mkdir()
    with pytest.raises(qifsim.IoError, match="time.npy"):
        obs.export(out)
    assert not [p for p in os.listdir(out) if p.endswith(".tmp")]


def test_export_refuses_a_folder_that_is_a_symbolic_link_unless_allowed(tmp_path):
    """As `qifsim run -o LINK` does: the files would land wherever the link points."""
    import os
    import qifsim
    obs = qifsim.Observer(1e-3, record_output=True, record_loss=False)
    obs.record(0, np.array([1.0]), 0.0, [])
    real = tmp_path / "elsewhere"
    real.mkdir()
    os.symlink(real, tmp_path / "linked")
    with pytest.raises(qifsim.IoError, match="linked' is a symbolic link.*allow_symlink=True"):
        obs.export(tmp_path / "linked")
    assert os.listdir(real) == []
    obs.export(tmp_path / "linked", allow_symlink=True)
    np.testing.assert_array_equal(np.load(real / "out.npy"), [[1.0]])
    (tmp_path / "afile").write_text("keep me")
    with pytest.raises(qifsim.IoError, match="cannot make the folder '.*afile'"):
        obs.export(tmp_path / "afile")
    assert (tmp_path / "afile").read_text() == "keep me"
