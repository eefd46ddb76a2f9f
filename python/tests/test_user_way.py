"""What a new user trips on from Python: an interrupted or diverging `obs = net.run(...)` keeps
its samples (on the exception), values that are not finite never reach a recording, numbers
that are not whole or too large are named, the device argument speaks Python, and a
population needs a size. Expected values are the error contract, or a run of the same
network alone."""
import numpy as np
import pytest

import qifsim
from run_points import CtrlCAtRow, no_ctrl_c_reaches_python
from qifsim import Network

QIF = "neuron_model_templates.spiking_neurons.qif.qif"
VARS = dict(source_var="s", target_var="s_in", input_var="I_ext", output_var="s", spike_var="spike",
            reset_var="v")


def diverging():
    net = Network(1e-3)
    net.add_diffeq_node("qif", QIF, weights=np.full((2, 2), -1e308), node_vars={"s": 1.0}, **VARS)
    return net


def test_ctrl_c_during_obs_equals_net_run_keeps_the_samples_on_the_exception():
    n, steps = 2000, 12000
    # The T x 1 input drives every neuron; the run reads it in pieces of 262 rows at N = 2000.
    net = Network(1e-3)
    net.add_diffeq_node("qif", QIF, **VARS, N=n, node_vars={"eta": np.linspace(-5.0, 5.0, n)})
    inputs = np.full((steps, 1), 3.0)
    alone = Network(1e-3)
    alone.add_diffeq_node("qif", QIF, **VARS, N=n, node_vars={"eta": np.linspace(-5.0, 5.0, n)})
    whole = alone.run(inputs, sampling_steps=10, record_vars=[("qif", "v", True)], verbose=False)

    with pytest.raises(KeyboardInterrupt, match=r"\.observer") as info:
        obs = net.run(CtrlCAtRow(inputs, at=5000), sampling_steps=10, record_vars=[("qif", "v", True)],  # noqa: F841
                      verbose=False)
    no_ctrl_c_reaches_python()
    obs = info.value.observer
    assert 0 < len(obs) < steps // 10
    net.run(inputs, obs=obs, verbose=False, resume=True)  # the interrupted run's schedule, as the message says
    np.testing.assert_array_equal(obs[("qif", "v")], whole[("qif", "v")])
    np.testing.assert_array_equal(obs.steps, whole.steps)


def test_a_divergence_carries_the_samples_before_it_and_none_after():
    net = diverging()
    with pytest.raises(qifsim.DivergenceError, match=r"\.observer") as info:
        net.run(np.zeros((3000, 2)), record_vars=[("qif", "v", False)], verbose=False)
    obs = info.value.observer
    v = obs[("qif", "v")]
    assert len(v) >= 1 and np.all(np.isfinite(v))  # every recorded value is finite
    assert np.all(np.isfinite(obs["out"]))


def test_test_mode_errors_carry_the_observer_too():
    net = diverging()
    with pytest.raises(qifsim.DivergenceError) as info:
        net.test(np.zeros((3000, 2)), np.zeros((3000, 2)), record_vars=[("qif", "v", True)], sampling_steps=1,
                 verbose=False)
    assert np.all(np.isfinite(info.value.observer[("qif", "v")]))


def test_forward_refuses_an_input_that_is_not_finite():
    net = Network(1e-3)
    net.add_diffeq_node("qif", QIF, N=5, **VARS)
    net.compile()
    v = net.get_var("qif", "v")
    with pytest.raises(qifsim.InvalidArgument, match=r"input\[0\]"):
        net.forward(np.full(5, np.nan))
    np.testing.assert_array_equal(net.next_state("qif", "v"), v)
    assert net.step_count == 0


@pytest.mark.parametrize("kwargs, message", [
    (dict(sampling_steps=2.5), r"sampling_steps must be a whole number; got 2\.5"),
    (dict(sampling_steps=2 ** 70), r"sampling_steps = 1180591620717411303424 is out of range"),
    (dict(sampling_steps=0), r"sampling_steps = 0 is out of range"),
    (dict(cutoff="3"), r"cutoff must be a whole number"),
    (dict(batch_samples=True), r"batch_samples must be a whole number"),
])
def test_numbers_that_are_not_whole_or_too_large_are_named(kwargs, message):
    net = Network(1e-3)
    net.add_diffeq_node("qif", QIF, N=2, **VARS)
    with pytest.raises(qifsim.InvalidArgument, match=message):
        net.run(np.zeros((10, 2)), verbose=False, **kwargs)
    assert net.run(np.zeros((10, 2)), sampling_steps=2.0, verbose=False)["out"].shape == (5, 2)  # 2.0 is whole


def test_a_population_needs_a_size():
    net = Network(1e-3)
    with pytest.raises(qifsim.InvalidArgument, match="number of neurons is not given"):
        net.add_diffeq_node("qif", QIF, **VARS)
    with pytest.raises(qifsim.InvalidArgument, match="different lengths"):
        net.add_diffeq_node("qif", QIF, node_vars={"eta": [1.0, 2.0], "tau": [1.0, 1.0, 1.0]}, **VARS)
    net.add_diffeq_node("qif", QIF, node_vars={"eta": [1.0, 2.0, 3.0]}, **VARS)  # N from node_vars
    net.compile()
    assert net.n_in == 3


def test_the_device_argument_speaks_python():
    net = Network(1e-3, device="cuda:1")
    net.add_diffeq_node("qif", QIF, N=2, **VARS)
    usable, _ = qifsim.cuda_device_status(1)
    if usable:
        pytest.skip("a second GPU is usable here")
    with pytest.raises(qifsim.BackendError) as info:
        net.compile()
    message = str(info.value)
    assert "device='cuda:1'" in message and "device='cpu'" in message
    assert "Backend::" not in message  # no C++ names
    with pytest.raises(qifsim.InvalidArgument, match="cuda:N"):
        Network(1e-3, device="cuda:x")
    assert qifsim.cuda_device_count() >= 0


def test_subnormals_are_kept_in_float64_and_can_be_flushed():
    def run(subnormals, dtype=np.float64):
        net = Network(1e-3, dtype=dtype)
        net.add_diffeq_node("qif", QIF, N=2, node_vars={"s": 1e-310 if dtype == np.float64 else 1e-40}, **VARS)
        net.run(np.zeros((5, 2)), verbose=False, subnormals=subnormals)
        return net.get_var("qif", "s")

    s = 1e-310
    for _ in range(5):
        s = s + 1e-3 * (-s / 1.0)  # the spec's update, with the subnormal kept
    assert run("keep")[0] == s and run("auto")[0] == s  # float64: parity by default
    assert run("flush")[0] == 0.0
    assert run("auto", np.float32)[0] == 0.0  # float32: flushed by default
    with pytest.raises(qifsim.InvalidArgument, match="subnormals='sometimes'"):
        run("sometimes")


def test_verbose_false_prints_nothing_and_a_requested_coupling_is_named_once(capfd):
    """verbose=False: no backend or coupling line on stderr. A run that asks for a coupling
    mode logs that mode's line once, not first the automatic choice of compile()."""
    rng = np.random.default_rng(4)
    n = 600  # from N = 512 on, auto stores a J with under a quarter nonzero sparse
    J = np.where(rng.random((n, n)) < 0.1, 0.01, 0.0)

    def net():
        net = Network(1e-3, device="auto")
        net.add_diffeq_node("qif", QIF, weights=J, **VARS)
        return net

    net().run(np.zeros((20, 1)), verbose=False)
    assert capfd.readouterr().err == ""
    net().run(np.zeros((20, 1)), verbose=True, coupling="sparse")
    lines = [line for line in capfd.readouterr().err.splitlines() if "coupling" in line]
    assert len(lines) == 1 and lines[0].startswith("qifsim: coupling sparse -> "), lines


def test_a_unit_mistake_in_dt_is_a_warning_naming_the_population():
    # dt = 1 for a model in seconds: v jumps between ~1e4 and the reset on every step. One
    # RuntimeWarning naming the population, also with verbose=False; RectiPy's dt gives none.
    import warnings

    net = Network(dt=1.0)
    net.add_diffeq_node("qif", QIF, N=5, **VARS)
    with pytest.warns(RuntimeWarning, match=r"population 'qif': dt = 1 does not suit it.*"
                                            r"5 of 5 neurons spike again.*time unit") as caught:
        net.run(np.zeros((20, 5)), verbose=False)
    assert len([w for w in caught if "dt = 1" in str(w.message)]) == 1
    fine = Network(dt=1e-3)
    fine.add_diffeq_node("qif", QIF, N=5, **VARS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fine.run(np.zeros((20, 5)), verbose=False)
