"""RectiPy's other neuron templates through qifsim's RectiPy interface: the LIF, Izhikevich and
leaky-integrator networks of RectiPy's model tutorials (documentation/models/*.py), against NumPy
references written here from the templates' equations (explicit Euler, as RectiPy steps them)."""
import numpy as np
import pytest

from qifsim import InvalidArgument, Network

LIF = "neuron_model_templates.spiking_neurons.lif.lif"
TANH = "neuron_model_templates.rate_neurons.leaky_integrator.tanh"
SIGMOID = "neuron_model_templates.rate_neurons.leaky_integrator.sigmoid"
IK = "neuron_model_templates.spiking_neurons.ik."
TOL = dict(rtol=1e-9, atol=1e-9)


def lif_reference(J, inp, dt, tau=10.0, k=1.0, eta=0.0, tau_s=0.5, v_th=100.0, v_reset=-100.0):
    """(out, v): s at each step's start (the node's output) and v there."""
    n = J.shape[0]
    v, s = np.zeros(n), np.zeros(n)
    outs, vs = [], []
    for x in inp:
        outs.append(s.copy())
        vs.append(v.copy())
        spike = (v >= v_th).astype(float)
        s_in = J @ s
        dv = -v / tau + k * s_in + x + eta
        s = s + dt * (-s / tau_s + spike / dt)
        v = np.where(spike > 0, v_reset, v + dt * dv)
    return np.array(outs), np.array(vs)


def leaky_reference(J, inp, dt, rate, tau=10.0, k=1.0, eta=0.0, v0=None, after=False):
    """v at each step's start (the tutorials' output li_op/v) and the rate there; with
    `after`, v and the rate after each step instead (what `run` records of a rate node)."""
    n = J.shape[0]
    v = np.zeros(n) if v0 is None else np.array(v0, dtype=float)
    vs, rs = [], []
    for x in inp:
        r = rate(v)
        if not after:
            vs.append(v.copy())
            rs.append(r)
        v = v + dt * (-v / tau + k * (J @ r) + x + eta)
        if after:
            vs.append(v.copy())
            rs.append(rate(v))
    return np.array(vs), np.array(rs)


def test_lif_tutorial_network():
    rng = np.random.default_rng(5)
    J = rng.standard_normal((5, 5)) * 20.0
    inp = np.zeros((3000, 5)) + 200.0
    net = Network(dt=1e-3)
    net.add_diffeq_node("lif", LIF, weights=J, source_var="s", target_var="s_in", input_var="I_ext",
                        output_var="s", spike_var="spike", reset_var="v", op="lif_op")
    obs = net.run(inputs=inp, sampling_steps=1, record_vars=[("lif", "v", False)], verbose=False)
    out, v = lif_reference(J, inp, 1e-3)
    assert (v >= 100.0).sum() > 10  # spikes happen
    np.testing.assert_allclose(obs.to_numpy("out"), out, **TOL)
    np.testing.assert_allclose(obs.to_numpy(("lif", "v")), v, **TOL)


@pytest.mark.parametrize("template,rate", [
    (TANH, np.tanh),
    (SIGMOID, lambda v: 1.0 / (1.0 + np.exp(1.0 * (0.0 - v)))),
])
def test_leaky_integrator_tutorial_network(template, rate):
    rng = np.random.default_rng(6)
    J = rng.standard_normal((5, 5)) * 1.5
    inp = np.zeros((2000, 5)) + 0.5
    op = "tanh_op" if template == TANH else "sigmoid_op"
    net = Network(dt=1e-3)
    net.add_diffeq_node("li", template, weights=J, source_var=f"{op}/r", target_var="li_op/r_in",
                        input_var="li_op/I_ext", output_var="li_op/v")
    obs = net.run(inputs=inp, sampling_steps=10, record_vars=[("li", f"{op}/r", False)], verbose=False)
    v, _ = leaky_reference(J, inp, 1e-3, rate)
    _, r_after = leaky_reference(J, inp, 1e-3, rate, after=True)
    # the output is the window mean of v over the 10 steps up to each sample
    expected = np.array([v[max(0, t - 9):t + 1].mean(axis=0) for t in range(0, 2000, 10)])
    expected[0] = v[0]
    np.testing.assert_allclose(obs.to_numpy("out"), expected, **TOL)
    # a rate node's recorded state is the state after the sampled step (RectiPy's RateNet)
    np.testing.assert_allclose(obs.to_numpy(("li", "r")), r_after[::10], **TOL)


def test_leaky_integrator_node_vars_and_forward_view():
    J = np.array([[0.0, 0.5], [-0.5, 0.0]])
    net = Network(dt=1e-2)
    net.add_diffeq_node("li", SIGMOID, weights=J, source_var="sigmoid_op/r", target_var="li_op/r_in",
                        input_var="li_op/I_ext", output_var="li_op/v",
                        node_vars={"all/li_op/v": np.array([0.2, -0.3]), "all/li_op/tau": 2.0,
                                   "all/sigmoid_op/s": 3.0, "all/sigmoid_op/v0": 0.1, "all/sigmoid_op/r_max": 2.0})
    rate = lambda v: 2.0 / (1.0 + np.exp(3.0 * (0.1 - v)))  # noqa: E731
    v, _ = leaky_reference(J, np.full((3, 2), 0.4), 1e-2, rate, tau=2.0, v0=[0.2, -0.3])
    net.compile()
    y = net.forward(np.array([0.4, 0.4]))
    np.testing.assert_allclose(y, v[0], **TOL)  # a rate node returns v at the step's start ...
    np.testing.assert_allclose(net.get_var("li", "v"), v[1], **TOL)  # ... and shows the state after it
    np.testing.assert_allclose(net.get_var("li", "r"), rate(v[1]), **TOL)


@pytest.mark.parametrize("name", ["ik", "iku", "ik_biexp"])
def test_izhikevich_templates(name):
    n, steps, dt = 4, 8000, 1e-2
    rng = np.random.default_rng(8)
    J = rng.random((n, n)) * 0.5
    eta = np.array([50.0, 60.0, 70.0, 80.0])
    net = Network(dt=dt)
    net.add_diffeq_node("ik", IK + name, weights=J, source_var="s", target_var="s_in", input_var="I_ext",
                        output_var="s", spike_var="spike", reset_var="v", op=f"{name}_op",
                        spike_threshold=30.0, spike_reset=-65.0, node_vars={"eta": eta})
    obs = net.run(np.full((steps, n), 200.0), record_vars=[("ik", "v", False), ("ik", "u", False)], verbose=False)
    v, u, s, x = np.full(n, -60.0), np.zeros(n), np.zeros(n), np.zeros(n)
    vs, us = [], []
    for _ in range(steps):
        vs.append(v.copy())
        us.append(u.copy())
        spike = (v >= 30.0).astype(float) / dt
        s_in = J @ s
        dv = (0.7 * (v + 60.0) * (v + 40.0) - u + 200.0 + eta + 1.0 * s_in * (0.0 - v)) / 100.0
        vd, sp = (v, spike) if name == "ik" else (v.mean(), spike.mean())
        du = (-2.0 * (vd + 60.0) - u) / 33.33 + 10.0 * sp
        if name == "ik_biexp":
            ds, dx = -s / 6.0 + x, -x / 2.0 + spike
        else:
            ds, dx = -s / 6.0 + spike, 0.0
        u, s, x = u + dt * du, s + dt * ds, x + dt * dx
        v = np.where(spike > 0, -65.0, v + dt * dv)
    assert (np.array(vs) >= 30.0).sum() > 10
    np.testing.assert_allclose(obs.to_numpy(("ik", "v")), np.array(vs), rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(obs.to_numpy(("ik", "u")), np.array(us), rtol=1e-8, atol=1e-8)


def test_unknown_variable_of_a_template_is_named():
    net = Network(dt=1e-3)
    with pytest.raises(InvalidArgument, match="tau_x"):
        net.add_diffeq_node("lif", LIF, weights=np.eye(2), source_var="s", target_var="s_in", input_var="I_ext",
                            output_var="s", spike_var="spike", reset_var="v", op="lif_op",
                            node_vars={"tau_x": 1.0})
