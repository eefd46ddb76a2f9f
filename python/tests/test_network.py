"""qifsim.Network against the NumPy reference of the spec: RectiPy's arguments and
template names, runs and their recording schedule, function nodes, test(), state changes,
and the errors that name what is wrong."""
import math

import numpy as np
import pytest

import qifsim
from qifsim import Network, Observer
from run_points import CtrlCAtRow, CtrlCWhenRead, no_ctrl_c_reaches_python, press
from reference import Chain, QifPop, run as ref_run

QIF = "neuron_model_templates.spiking_neurons.qif.qif"
QIF_SFA = "neuron_model_templates.spiking_neurons.qif.qif_sfa"
TOL = dict(rtol=1e-10, atol=1e-10)
VARS = dict(source_var="s", target_var="s_in", input_var="I_ext", output_var="s", spike_var="spike",
            reset_var="v")


def lorentzian(n, center=-5.0, width=1.0):
    i = np.arange(1, n + 1)
    return center + width * np.tan(0.5 * np.pi * (2 * i - n - 1) / (n + 1))


def population(rng, n=8):
    """A coupled population with per-neuron parameters, RectiPy style and reference style."""
    J = rng.normal(0.0, 4.0, (n, n)) / n + 3.0 / n
    params = dict(eta=lorentzian(n, 2.0, 1.0), tau=rng.uniform(0.8, 1.2, n), k=1.5, tau_s=rng.uniform(0.5, 2.0, n),
                  v0=rng.uniform(-3.0, 3.0, n), s0=rng.uniform(0.0, 0.5, n))
    node_vars = {"eta": params["eta"], "qif_op/tau": params["tau"], "qif/qif_op/k": params["k"],
                 "all/qif_op/tau_s": params["tau_s"], "v": params["v0"], "qif_op/s": params["s0"]}
    return J, params, node_vars


@pytest.mark.parametrize("sampling_steps, cutoff, batch_samples", [(1, 0, 0), (3, 5, 0), (4, 7, 5), (10, 0, 1)])
def test_run_matches_reference(sampling_steps, cutoff, batch_samples):
    rng = np.random.default_rng(sampling_steps * 100 + cutoff)
    n, steps = 8, 3000
    J, params, node_vars = population(rng, n)
    inputs = rng.uniform(2.0, 14.0, (steps, n))
    net = Network(dt=1e-3)
    net.add_diffeq_node("qif", QIF, weights=J, op="qif_op", node_vars=node_vars, **VARS)
    record = [("qif", "v", False), ("qif", "s", True), ("qif", "spike", False)]
    obs = net.run(inputs, sampling_steps=sampling_steps, cutoff=cutoff, record_vars=record, verbose=False,
                  batch_samples=batch_samples or None)

    pop = QifPop(n, J, **params)
    ref = ref_run(pop.step, lambda i: pop.var(("v", "s", "spike")[i]), inputs, sampling_steps, cutoff,
                  var_means=(False, True, False))
    assert pop.spikes > 20
    np.testing.assert_array_equal(obs.steps, ref["steps"])
    np.testing.assert_allclose(obs.time, ref["steps"] * 1e-3)
    np.testing.assert_allclose(obs["out"], ref["out"], **TOL)
    np.testing.assert_allclose(obs[("qif", "v")], ref["vars"][0], **TOL)
    np.testing.assert_allclose(obs[("qif", "s")], ref["vars"][1][:, 0], **TOL)
    np.testing.assert_array_equal(obs[("qif", "spike")], ref["vars"][2])
    if batch_samples:  # the samples came from the ring buffer in batches of that size
        assert obs.batches == math.ceil(len(ref["steps"]) / batch_samples)


def test_qif_sfa_template_matches_reference():
    rng = np.random.default_rng(7)
    n, steps = 6, 4000
    J = rng.uniform(0.0, 2.0, (n, n))
    inputs = np.full((steps, n), 12.0)
    node_vars = {"qif_sfa/qif_sfa_op/alpha": 0.5, "tau_x": rng.uniform(5.0, 20.0, n), "x": 0.2, "eta": -3.0}
    net = Network(1e-3)
    net.add_diffeq_node("sfa", QIF_SFA, weights=J, op="qif_sfa_op", node_vars=node_vars, **VARS)
    obs = net.run(inputs, sampling_steps=2, record_vars=[("sfa", "x", False), ("sfa", "v", True)], verbose=False)

    pop = QifPop(n, J, eta=-3.0, adaptation=True, alpha=0.5, tau_x=node_vars["tau_x"], x0=0.2)
    ref = ref_run(pop.step, lambda i: pop.var(("x", "v")[i]), inputs, 2, 0, var_means=(False, True))
    assert pop.spikes > 20
    np.testing.assert_allclose(obs["out"], ref["out"], **TOL)
    np.testing.assert_allclose(obs[("sfa", "x")], ref["vars"][0], **TOL)
    np.testing.assert_allclose(obs[("sfa", "v")], ref["vars"][1][:, 0], **TOL)


def test_spike_threshold_reset_and_output_v():
    n, steps = 4, 2000
    inputs = np.full((steps, n), 60.0)
    net = Network(1e-3)
    net.add_diffeq_node("qif", "qif", **dict(VARS, output_var="v"), spike_threshold=[30.0, 40.0, 50.0, 60.0],
                        spike_reset=-40.0, node_vars={"eta": np.linspace(-5.0, 5.0, n)})
    net.compile()
    out = np.array([net.forward(inputs[t]) for t in range(steps)])
    pop = QifPop(n, None, eta=np.linspace(-5.0, 5.0, n), v_th=[30.0, 40.0, 50.0, 60.0], v_reset=-40.0, output="v")
    expected = np.array([pop.step(inputs[t]) for t in range(steps)])
    assert pop.spikes > 20
    np.testing.assert_allclose(out, expected, **TOL)
    assert out.max() >= 30.0 and out.max() < 60.0 + 30.0  # v is seen above threshold for one step


@pytest.mark.parametrize("act_in, act_out", [("identity", "tanh"), ("sigmoid", "softmax"),
                                             ("tanh", "softmin"), ("identity", "log_softmax")])
def test_function_nodes_and_edges(act_in, act_out):
    rng = np.random.default_rng(3)
    m, n, k, steps = 3, 10, 4, 1500
    J = rng.uniform(-1.0, 3.0, (n, n))
    W_in = rng.uniform(0.0, 4.0, (n, m))
    W_out = rng.normal(0.0, 1.0, (k, n))
    inputs = rng.uniform(0.0, 5.0, (steps, m))
    net = Network(1e-3)
    net.add_func_node("inp", m, act_in)
    net.add_diffeq_node("qif", QIF, weights=J, node_vars={"eta": lorentzian(n, 1.0, 0.5)}, **VARS)
    net.add_func_node("readout", k, act_out)
    net.add_edge("inp", "qif", weights=W_in)
    net.add_edge("qif", "readout", weights=W_out)
    net.compile()
    assert (net.n_in, net.n_out) == (m, k)
    obs = net.run(inputs, sampling_steps=5, cutoff=3, record_vars=[("readout", "out", False)], verbose=False)

    chain = Chain(act_in, W_in, QifPop(n, J, eta=lorentzian(n, 1.0, 0.5)), W_out, act_out)
    ys = []

    def step(x):
        ys.append(chain.step(x))
        return ys[-1]

    ref = ref_run(step, lambda i: None, inputs, 5, 3)
    assert chain.pop.spikes > 10
    np.testing.assert_allclose(obs["out"], ref["out"], **TOL)
    # a function node's "out" at step t is computed from the state at t's start: y(t)
    np.testing.assert_allclose(obs[("readout", "out")], np.array(ys)[ref["steps"]], **TOL)


@pytest.mark.parametrize("loss", ["mse", "l1"])
def test_test_scores_the_sampled_outputs_against_one_target_row_per_sample(loss):
    # RectiPy 0.12.2: loss(stack(sampled window means), targets) with the targets as given.
    rng = np.random.default_rng(11)
    n, steps = 5, 2000
    J = rng.uniform(0.0, 10.0, (n, n))
    inputs = np.full((steps, n), 8.0)
    samples = len(range(14, steps, 7))  # t >= 10 and t % 7 == 0
    targets = rng.uniform(0.0, 1.0, (samples, n))
    net = Network(1e-3)
    net.add_diffeq_node("qif", QIF, weights=J, **VARS)
    obs, value = net.test(inputs, targets, loss=loss, sampling_steps=7, cutoff=10, record_loss=True, verbose=False)

    pop = QifPop(n, J)
    ref = ref_run(pop.step, lambda i: None, inputs, 7, 10)
    d = ref["out"] - targets
    per_sample = np.mean(d * d, axis=1) if loss == "mse" else np.mean(np.abs(d), axis=1)
    assert value == pytest.approx(np.mean(per_sample), rel=1e-12)
    np.testing.assert_allclose(obs["loss"], per_sample, **TOL)
    np.testing.assert_allclose(obs["out"], ref["out"], **TOL)
    assert obs["loss"].ndim == 1 and obs.record_loss


def test_state_reset_set_var_and_continuation():
    rng = np.random.default_rng(5)
    n, steps = 6, 1000
    J = rng.uniform(0.0, 5.0, (n, n))
    inputs = rng.uniform(5.0, 15.0, (steps, n))
    net = Network(1e-3)
    net.add_diffeq_node("qif", QIF, weights=J, **VARS)
    np.testing.assert_array_equal(net.get_var("qif", "v"), np.full(n, -2.0))  # before compile: v0
    net.run(inputs, verbose=False)
    net.reset()  # RectiPy 0.12.2 zeroes the state vector
    assert net.step_count == 0
    np.testing.assert_array_equal(net.get_var("qif", "qif_op/v"), np.zeros(n))

    v0 = rng.uniform(-5.0, 5.0, n)
    net.reset({"qif": {"v": v0, "s": 0.25}})
    obs1 = net.run(inputs, record_vars=[("qif", "v", False)], verbose=False)
    net.set_var("qif", "eta", -1.0)  # a parameter, between runs
    obs2 = net.run(inputs, record_vars=[("qif", "v", False)], verbose=False)

    pop = QifPop(n, J, v0=v0, s0=0.25)
    ref1 = ref_run(pop.step, lambda i: pop.var("v"), inputs, 1, 0, var_means=(False,))
    pop.eta[:] = -1.0
    ref2 = ref_run(pop.step, lambda i: pop.var("v"), inputs, 1, 0, var_means=(False,))
    np.testing.assert_allclose(obs1[("qif", "v")], ref1["vars"][0], **TOL)
    np.testing.assert_allclose(obs2[("qif", "v")], ref2["vars"][0], **TOL)
    np.testing.assert_allclose(obs2["out"], ref2["out"], **TOL)
    np.testing.assert_array_equal(net.get_var("qif", "eta"), np.full(n, -1.0))


def test_run_appends_to_an_observer_and_views_stay_valid():
    n, steps = 3, 600
    inputs = np.full((steps, n), 10.0)
    net = Network(1e-3)
    net.add_diffeq_node("qif", QIF, **VARS, N=n)
    obs = Observer(net.dt, record_vars=[("qif", "v", False)], record_loss=False)
    net.run(inputs, obs=obs, sampling_steps=3, verbose=False)
    first = obs[("qif", "v")]
    kept = first.copy()
    assert not first.flags.writeable
    assert np.shares_memory(first, obs.to_numpy(("qif", "v")))  # no copy on the way out
    net.run(inputs, obs=obs, sampling_steps=3, verbose=False)
    assert len(obs) == 2 * 200
    np.testing.assert_array_equal(first, kept)  # the earlier view is untouched
    np.testing.assert_array_equal(obs[("qif", "v")][:200], kept)
    pop = QifPop(n, None)
    ref = ref_run(pop.step, lambda i: pop.var("v"), np.vstack([inputs, inputs]), 1, 0, var_means=(False,))
    np.testing.assert_allclose(obs[("qif", "v")][200:], ref["vars"][0][steps::3], **TOL)
    np.testing.assert_array_equal(obs.steps[200:], np.arange(0, steps, 3))  # steps are run-local


def test_float32_is_close_to_float64_reference():
    rng = np.random.default_rng(2)
    n, steps = 5, 500
    J = rng.uniform(0.0, 2.0, (n, n))
    inputs = np.full((steps, n), 3.0)
    net = Network(1e-3, dtype=np.float32)
    assert net.dtype == np.float32
    net.add_diffeq_node("qif", QIF, weights=J, **VARS)
    obs = net.run(inputs, record_vars=[("qif", "v", False)], verbose=False)
    pop = QifPop(n, J)
    ref = ref_run(pop.step, lambda i: pop.var("v"), inputs, 1, 0, var_means=(False,))
    assert pop.spikes == 0  # no spike: a float32 rounding cannot move a spike by a step
    np.testing.assert_allclose(obs[("qif", "v")], ref["vars"][0], rtol=1e-4, atol=1e-4)
    assert obs["out"].dtype == np.float64


def test_inputs_of_any_array_like():
    net = Network(1e-3)
    net.add_diffeq_node("qif", QIF, **VARS, N=2)
    net.compile()
    assert net.forward([1.0, 2.0]).shape == (2,)
    assert net.forward(np.array([[1, 2]])).shape == (2,)       # ints, 1 x n
    assert net.forward(np.ones(4)[::2]).shape == (2,)          # strided
    obs = net.run([[1.0, 1.0]] * 10, verbose=False)
    assert obs["out"].shape == (10, 2)
    frozen = obs["out"]  # read-only views go back in as inputs
    assert net.forward(frozen[3]).shape == (2,)
    assert net.run(frozen, verbose=False)["out"].shape == (10, 2)


def test_device_and_dtype_arguments():
    assert Network(1e-3, device="cpu").device == "cpu"
    net = Network(1e-3, device="auto")
    net.add_diffeq_node("qif", QIF, **VARS, N=1)
    net.compile()
    assert net.backend in ("cpu", "cuda")
    with pytest.raises(qifsim.InvalidArgument, match="device 'tpu'"):
        Network(1e-3, device="tpu")
    with pytest.raises(qifsim.InvalidArgument, match="dtype"):
        Network(1e-3, dtype=np.int32)
    usable, _ = qifsim.cuda_device_status()
    if not usable:
        net = Network(1e-3, device="cuda:0")
        net.add_diffeq_node("qif", QIF, **VARS, N=1)
        with pytest.raises(qifsim.BackendError, match="no GPU is usable"):
            net.compile()


@pytest.mark.parametrize("kwargs, message", [
    (dict(node_vars={"qif/qif_op/etaa": 1.0}), "unknown node_vars key 'qif/qif_op/etaa'"),
    (dict(node_vars={"alpha": 1.0}), "unknown node_vars key 'alpha'"),
    (dict(node_vars={"qif/lif_op/eta": 1.0}), "node_vars key 'qif/lif_op/eta'"),
    (dict(node_vars={"I_ext": 1.0}), "'I_ext' is an input"),
    (dict(node_vars={"eta": [1.0, 2.0]}), "eta has 2 values"),
    (dict(source_var="v"), "source_var='v'"),
    (dict(target_var="qif_op/I_ext"), "target_var='qif_op/I_ext'"),
    (dict(op="lif_op"), "op 'lif_op'"),
    (dict(spike_var=None), "spike_var='spike'"),
    (dict(train_params=["eta"]), "does not train"),
    (dict(spike_threshold=-200.0), "v_reset"),
])
def test_add_diffeq_node_errors_name_the_argument(kwargs, message):
    net = Network(1e-3)
    args = dict(VARS, weights=np.ones((3, 3)))
    args.update(kwargs)
    with pytest.raises(qifsim.InvalidArgument, match=message.replace("(", r"\(").replace("[", r"\[")) as info:
        net.add_diffeq_node("qif", QIF, **args)
    assert isinstance(info.value, ValueError)


def test_unknown_template_is_refused():
    with pytest.raises(qifsim.InvalidArgument, match="hh.hh' is not supported; qifsim simulates") as info:
        Network(1e-3).add_diffeq_node("hh", "neuron_model_templates.spiking_neurons.hh.hh", **VARS)
    assert "did you mean" not in str(info.value)  # another model, not a typo of one


@pytest.mark.parametrize("typo, meant", [
    ("neuron_model_templates.spiking_neurons.qif.qfi", "neuron_model_templates.spiking_neurons.qif.qif"),
    ("neuron_model_template/spiking_neurons/qif/qif_sfa", "neuron_model_templates.spiking_neurons.qif.qif_sfa"),
    ("neuron_model_templates.rate_neurons.leaky_integrator.tahn",
     "neuron_model_templates.rate_neurons.leaky_integrator.tanh"),
    ("sigmoid", "neuron_model_templates.rate_neurons.leaky_integrator.sigmoid"),
    ("QIF", "qif"),
    ("ik_biexpp", "ik_biexp"),
])
def test_a_misspelt_template_gets_the_closest_name(typo, meant):
    with pytest.raises(qifsim.InvalidArgument, match=f"template '{typo}' is not supported "
                                                     fr"\(did you mean '{meant}'\?\); qifsim simulates"):
        Network(1e-3).add_diffeq_node("p", typo, **VARS)


def test_graph_and_run_errors():
    net = Network(1e-3)
    net.add_diffeq_node("a", QIF, **VARS, N=2)
    net.add_diffeq_node("b", QIF, **VARS, N=2)
    with pytest.raises(qifsim.GraphError, match="found 'a', 'b'") as info:
        net.compile()
    assert isinstance(info.value, ValueError)

    net = Network(1e-3)
    net.add_diffeq_node("qif", QIF, **VARS, N=3)
    with pytest.raises(qifsim.InvalidArgument, match="compile"):
        net.forward(np.zeros(3))
    net.compile()
    with pytest.raises(qifsim.InvalidArgument, match="input has 2 values; the input node 'qif' takes 3"):
        net.forward(np.zeros(2))
    with pytest.raises(qifsim.InvalidArgument, match="has no variable 'w'"):
        net.get_var("qif", "w")
    with pytest.raises(qifsim.InvalidArgument, match="record_loss needs targets"):
        net.run(np.zeros((10, 3)), record_loss=True, verbose=False)
    with pytest.raises(qifsim.InvalidArgument, match="unknown node 'pop'"):
        net.run(np.zeros((10, 3)), record_vars=[("pop", "v", True)], verbose=False)
    with pytest.raises(qifsim.InvalidArgument, match="inputs are 10 x 2"):
        net.run(np.zeros((10, 2)), verbose=False)


def test_memory_budget_refuses_before_running():
    net = Network(1e-3)
    net.add_diffeq_node("qif", QIF, **VARS, N=100)
    obs = Observer(net.dt, record_vars=[("qif", "v", False)], record_loss=False)
    obs.memory_budget = 100_000
    with pytest.raises(qifsim.MemoryBudgetError, match="memory budget") as info:
        net.run(np.zeros((1000, 100)), obs=obs, verbose=False)  # 1000 x 200 values x 8 bytes
    assert isinstance(info.value, MemoryError)
    assert len(obs) == 0 and net.step_count == 0
    with pytest.raises(qifsim.MemoryBudgetError):
        net.run(np.zeros((1000, 100)), memory_budget=50_000, verbose=False)
    obs = net.run(np.zeros((1000, 100)), sampling_steps=100, memory_budget=50_000, verbose=False)
    assert obs["out"].shape == (10, 100)


def _ctrl_c_network(n):
    eta = np.linspace(-5.0, 5.0, n)
    net = Network(1e-3)
    net.add_diffeq_node("qif", QIF, **VARS, N=n, node_vars={"eta": eta})  # a T x 1 input drives every neuron
    net.compile()
    return net, QifPop(n, None, eta=eta)


def test_ctrl_c_stops_a_run_and_resume_continues_it():
    """SIGINT during run(): KeyboardInterrupt with the samples so far; resume=True finishes the
    run, and the whole recording matches the reference as if nothing had happened. The
    Ctrl-C comes as the run reads its input row 3000 (pieces of 262 rows at N = 2000)."""
    n, steps = 2000, 12000
    net, pop = _ctrl_c_network(n)
    inputs = CtrlCAtRow(np.full((steps, 1), 3.0), at=3000)
    obs = Observer(net.dt, record_vars=[("qif", "v", True)], record_loss=False)
    with pytest.raises(KeyboardInterrupt, match="resume=True") as info:
        net.run(inputs, obs=obs, sampling_steps=10, verbose=False)
    no_ctrl_c_reaches_python()
    assert info.value.observer is obs
    assert net.interrupted and 0 < inputs.pressed_at <= net.step_count <= 3000
    assert len(obs) == len(range(0, net.step_count, 10))
    net.run(inputs, obs=obs, sampling_steps=10, verbose=False, resume=True)
    assert not net.interrupted and net.step_count == steps

    ref = ref_run(pop.step, lambda i: pop.var("v"), np.full((steps, n), 3.0), 10, 0, var_means=(True,))
    np.testing.assert_array_equal(obs.steps, ref["steps"])
    np.testing.assert_allclose(obs[("qif", "v")], ref["vars"][0][:, 0], **TOL)
    np.testing.assert_allclose(obs["out"], ref["out"], **TOL)


def test_ctrl_c_during_the_set_up_of_run_stops_it_before_its_first_step():
    """A SIGINT while run() converts its inputs (before the engine starts) is the run's: it
    stops before step 0 with the documented exception and its (empty) observer, and
    resume=True runs the whole of it; nothing reaches Python afterwards."""
    n, steps = 50, 300
    net, pop = _ctrl_c_network(n)
    with pytest.raises(KeyboardInterrupt, match="before step 0 of 300.*resume=True") as info:
        net.run(CtrlCWhenRead(np.full((steps, 1), 3.0)), sampling_steps=10, record_vars=[("qif", "v", True)],
                verbose=False)
    no_ctrl_c_reaches_python()
    obs = info.value.observer
    assert len(obs) == 0 and net.interrupted and net.step_count == 0
    net.run(np.full((steps, 1), 3.0), obs=obs, sampling_steps=10, verbose=False, resume=True)
    ref = ref_run(pop.step, lambda i: pop.var("v"), np.full((steps, n), 3.0), 10, 0, var_means=(True,))
    np.testing.assert_array_equal(obs.steps, ref["steps"])
    np.testing.assert_allclose(obs[("qif", "v")], ref["vars"][0][:, 0], **TOL)


def test_ctrl_c_after_the_last_step_of_run_raises_with_the_complete_recording(monkeypatch):
    """A SIGINT after the engine's last step, while run() is putting things back (here as
    the inputs are made writable again), is not lost and not raised later at another line:
    run() raises KeyboardInterrupt saying the run is complete, with all its samples."""
    import contextlib

    from qifsim import network

    plain = network._read_only

    @contextlib.contextmanager
    def then_ctrl_c(*arrays):
        with plain(*arrays):
            yield
        press()

    n, steps = 50, 300
    net, pop = _ctrl_c_network(n)
    monkeypatch.setattr(network, "_read_only", then_ctrl_c)
    with pytest.raises(KeyboardInterrupt, match="run is complete.*nothing to resume") as info:
        net.run(np.full((steps, 1), 3.0), sampling_steps=10, record_vars=[("qif", "v", True)], verbose=False)
    no_ctrl_c_reaches_python()
    assert not net.interrupted and net.step_count == steps
    ref = ref_run(pop.step, lambda i: pop.var("v"), np.full((steps, n), 3.0), 10, 0, var_means=(True,))
    np.testing.assert_allclose(info.value.observer[("qif", "v")], ref["vars"][0][:, 0], **TOL)


def test_ctrl_c_during_test_raises_once_with_the_samples():
    """test() runs run(): a Ctrl-C stops it with the samples so far, and none is left for
    Python afterwards."""
    n, steps = 2000, 6000
    net, _ = _ctrl_c_network(n)
    inputs = CtrlCAtRow(np.full((steps, 1), 3.0), at=1000)
    with pytest.raises(KeyboardInterrupt, match="interrupted before step") as info:
        net.test(inputs, np.zeros((steps // 100, n)), verbose=False)
    no_ctrl_c_reaches_python()
    assert net.interrupted and 0 < len(info.value.observer) < steps // 100


def test_divergence_stops_the_run_and_keeps_the_samples():
    net = Network(1e-3)
    net.add_diffeq_node("qif", QIF, **VARS, N=2, spike_threshold=1e300, spike_reset=-1e300)
    obs = Observer(net.dt, record_vars=[("qif", "v", False)], record_loss=False)
    # (v_reset = -1e300 overflows on the step after a reset, which compile() warns of.)
    with pytest.raises(qifsim.DivergenceError, match="qif") as info, \
            pytest.warns(RuntimeWarning, match="spike again on the step after a reset"):
        net.run(np.full((5000, 2), 100.0), obs=obs, divergence_check_steps=100, verbose=False)
    assert isinstance(info.value, FloatingPointError)
    assert 0 < len(obs) < 5000


def test_event_coupling_matches_reference():
    """event_coupling=R: J s from the spikes (dense every R steps) against the reference's
    dense loop: the same spike steps, v within rounding amplified near threshold."""
    rng = np.random.default_rng(21)
    n, steps = 60, 4000
    J = rng.uniform(0.0, 20.0 / n, (n, n))
    eta = rng.uniform(-5.0, -3.0, n)
    inputs = np.full((steps, n), 15.0)
    net = Network(dt=1e-3)
    net.add_diffeq_node("qif", QIF, weights=J, op="qif_op", node_vars={"eta": eta}, **VARS)
    obs = net.run(inputs, record_vars=[("qif", "v", False), ("qif", "spike", False)], verbose=False,
                  event_coupling=500)
    pop = QifPop(n, J, eta=eta)
    ref = ref_run(pop.step, lambda i: pop.var(("v", "spike")[i]), inputs, var_means=(False, False))
    assert pop.spikes > 3 * n
    np.testing.assert_array_equal(obs[("qif", "spike")], ref["vars"][1])
    np.testing.assert_allclose(obs[("qif", "v")], ref["vars"][0], rtol=0, atol=1e-8)
    np.testing.assert_allclose(obs["out"], ref["out"], rtol=0, atol=1e-12)


def test_event_coupling_needs_one_tau_s():
    rng = np.random.default_rng(3)
    J, _, node_vars = population(rng, 8)  # tau_s per neuron
    net = Network(dt=1e-3)
    net.add_diffeq_node("qif", QIF, weights=J, op="qif_op", node_vars=node_vars, **VARS)
    with pytest.raises(qifsim.InvalidArgument, match="tau_s"):
        net.run(np.ones((10, 8)), verbose=False, event_coupling=5)
