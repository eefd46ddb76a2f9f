"""RectiPy 0.12.2's graph API on qifsim.Network: pop_node, pop_edge, get_node, get_edge,
clear, net[...], nodes, state, random and transposed edge weights, add_diffeq_node's
keywords, one-wide inputs broadcast onto a population, and a graph changed after a run.

References: the NumPy reading of the spec (reference.py), a freshly built network of the same
nodes, and hand-written expectations from RectiPy's code (rectipy/network.py, edges.py,
nodes.py)."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import qifsim
from qifsim import InvalidArgument, Network
from reference import Chain, QifPop, matvec, run as ref_run

QIF = "neuron_model_templates.spiking_neurons.qif.qif"
QIF_SFA = "neuron_model_templates.spiking_neurons.qif.qif_sfa"
TOL = dict(rtol=1e-10, atol=1e-10)
VARS = dict(source_var="s", target_var="s_in", input_var="I_ext", output_var="s", spike_var="spike",
            reset_var="v")


def coupling(rng, n):
    return rng.uniform(0.0, 4.0, (n, n)) / n


def three_layers(rng, m=3, n=7, k=2, extra=False):
    """inp (m) -> qif (n) -> readout (k), optionally with a second output 'probe' on qif."""
    J = coupling(rng, n)
    W_in, W_out = rng.uniform(0.0, 4.0, (n, m)), rng.normal(0.0, 1.0, (k, n))
    net = Network(1e-3)
    net.add_func_node("inp", m, "identity")
    net.add_diffeq_node("qif", QIF, weights=J, node_vars={"eta": np.linspace(-2.0, 4.0, n)}, **VARS)
    net.add_func_node("readout", k, "tanh")
    if extra:
        net.add_func_node("probe", 4, "sigmoid")
    net.add_edge("inp", "qif", weights=W_in)
    net.add_edge("qif", "readout", weights=W_out)
    if extra:
        net.add_edge("qif", "probe", weights=np.ones((4, n)))
    return net, (J, W_in, W_out)


def record(net, inputs, **kw):
    obs = net.run(inputs, record_vars=[("qif", "v", False), ("qif", "s", False)], verbose=False, **kw)
    return np.array(obs["out"]), np.array(obs[("qif", "v")]), np.array(obs[("qif", "s")])


# ---- pop_node / pop_edge / clear --------------------------------------------------------------
def test_pop_node_leaves_the_network_a_fresh_build_of_the_rest_gives():
    rng = np.random.default_rng(1)
    inputs = rng.uniform(0.0, 3.0, (2000, 3))
    net, _ = three_layers(np.random.default_rng(2), extra=True)
    with pytest.raises(qifsim.GraphError, match="'readout', 'probe'"):
        net.compile()  # two output nodes
    net.set_var("qif", "tau", 0.9)  # a parameter set before the change stays
    probe = net.pop_node("probe")
    assert probe.n_out == 4 and list(net.nodes) == ["inp", "qif", "readout"]
    assert ("qif", "probe") not in [(e.source, e.target) for e in (net.get_edge("inp", "qif"),)]
    fresh, _ = three_layers(np.random.default_rng(2))
    fresh.set_var("qif", "tau", 0.9)
    got, want = record(net, inputs), record(fresh, inputs)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
    assert got[2].max() > 0.5  # the neurons spiked


def test_pop_edge_and_a_new_edge_continue_from_the_state_reached():
    """Run, swap the readout's edge, compile again: the population continues from where it was,
    as an unchanged population would (the reference runs on without a break)."""
    rng = np.random.default_rng(3)
    m, n, k = 3, 7, 2
    net, (J, W_in, W_out) = three_layers(rng, m, n, k)
    x1, x2 = rng.uniform(0.0, 3.0, (1500, m)), rng.uniform(0.0, 3.0, (1000, m))
    got1 = record(net, x1)
    old = net.pop_edge("qif", "readout")
    np.testing.assert_array_equal(old.weights, W_out)
    with pytest.raises(InvalidArgument, match="no edge 'qif' -> 'readout'"):
        net.get_edge("qif", "readout")
    W_new = rng.normal(0.0, 1.0, (k, n))
    net.add_edge("qif", "readout", weights=W_new)
    net.compile()
    assert net.step_count == 1500  # the count continues (noise and Poisson input are keyed by it)
    got2 = record(net, x2)

    pop = QifPop(n, J, eta=np.linspace(-2.0, 4.0, n))
    chain = Chain("identity", W_in, pop, W_out, "tanh")
    ref1 = ref_run(chain.step, lambda i: pop.var("vs"[i]), x1, var_means=(False, False))
    chain.W_out = W_new
    ref2 = ref_run(chain.step, lambda i: pop.var("vs"[i]), x2, var_means=(False, False))
    assert pop.spikes > 10
    for got, ref in ((got1, ref1), (got2, ref2)):
        np.testing.assert_allclose(got[0], ref["out"], **TOL)
        np.testing.assert_allclose(got[1], ref["vars"][0], **TOL)
        np.testing.assert_allclose(got[2], ref["vars"][1], **TOL)


def test_adding_nodes_after_a_run_keeps_the_state_as_in_rectipys_ridge_example():
    """documentation/ridge_example.py: run a lone population on a one-wide zero input, then add
    an input node and an edge, compile and run again from the state reached; the population's
    sfa variable x is kept too, and reset() afterwards goes back to the initial values."""
    rng = np.random.default_rng(4)
    n, m = 9, 2
    J = coupling(rng, n)
    eta = np.linspace(0.0, 5.0, n)
    net = Network(1e-3)
    net.add_diffeq_node("pop", QIF_SFA, weights=J, node_vars={"eta": eta, "v": 1.0}, **VARS)
    obs1 = net.run(np.zeros((1500, 1)), record_vars=[("pop", "x", False)], verbose=False)
    net.add_func_node("inp", m, activation_function="identity")
    W_in = rng.uniform(0.0, 3.0, (n, m))
    net.add_edge("inp", "pop", weights=W_in)
    x_kept = net.get_var("pop", "x")  # before compile: the state that will be continued from
    net.compile()
    x2 = rng.uniform(0.0, 2.0, (1500, m))
    obs2 = net.run(x2, record_vars=[("pop", "v", False), ("pop", "x", False)], verbose=False)

    pop = QifPop(n, J, eta=eta, v0=1.0, adaptation=True)
    ref1 = ref_run(pop.step, lambda i: pop.var("x"), np.zeros((1500, n)), var_means=(False,))
    np.testing.assert_allclose(x_kept, pop.x, **TOL)
    ref2 = ref_run(lambda x: pop.step(matvec(W_in, np.asarray(x, dtype=np.float64))),
                   lambda i: pop.var("vx"[i]), x2, var_means=(False, False))
    assert pop.spikes > 10 and ref1["vars"][0][-1].max() > 0.0
    np.testing.assert_allclose(obs1[("pop", "x")], ref1["vars"][0], **TOL)
    np.testing.assert_allclose(obs2["out"], ref2["out"], **TOL)
    np.testing.assert_allclose(obs2[("pop", "v")], ref2["vars"][0], **TOL)
    np.testing.assert_allclose(obs2[("pop", "x")], ref2["vars"][1], **TOL)
    net.reset()  # RectiPy 0.12.2: the whole state vector becomes 0
    np.testing.assert_array_equal(net.get_var("pop", "v"), np.zeros(n))
    np.testing.assert_array_equal(net.get_var("pop", "x"), np.zeros(n))


def test_set_var_between_a_change_and_compile_sets_where_the_next_step_starts():
    rng = np.random.default_rng(5)
    net, (J, W_in, W_out) = three_layers(rng)
    x = rng.uniform(0.0, 3.0, (800, 3))
    record(net, x)
    s_kept = net.next_state("qif", "s")
    net.pop_edge("qif", "readout")
    net.add_edge("qif", "readout", weights=W_out)
    v_new = rng.uniform(-1.0, 1.0, 7)
    net.set_var("qif", "v", v_new)
    np.testing.assert_array_equal(net.get_var("qif", "v"), v_new)
    np.testing.assert_array_equal(net.get_var("qif", "s"), s_kept)
    with pytest.raises(InvalidArgument, match="takes 1 or 7"):
        net.set_var("qif", "v", np.zeros(3))
    got = record(net, x)
    pop = QifPop(7, J, eta=np.linspace(-2.0, 4.0, 7), v0=v_new, s0=s_kept)
    ref = ref_run(Chain("identity", W_in, pop, W_out, "tanh").step, lambda i: pop.var("v"), x, var_means=(False,))
    np.testing.assert_allclose(got[0], ref["out"], **TOL)
    np.testing.assert_allclose(got[1], ref["vars"][0], **TOL)
    net.reset()  # zeros, not the state set after the change
    np.testing.assert_array_equal(net.get_var("qif", "v"), np.zeros(7))


def test_a_popped_node_keeps_its_values_and_clear_empties_the_network():
    rng = np.random.default_rng(6)
    net, _ = three_layers(rng)
    record(net, rng.uniform(0.0, 3.0, (500, 3)))
    v = net.get_var("qif", "v")
    node = net.pop_node("qif")
    np.testing.assert_array_equal(node["v"], v)
    np.testing.assert_array_equal(node["qif_op/eta"], np.linspace(-2.0, 4.0, 7))
    assert list(net.nodes) == ["inp", "readout"] and len(net) == 2
    with pytest.raises(InvalidArgument, match="unknown node 'qif'"):
        net.get_node("qif")
    with pytest.raises(InvalidArgument, match="no edge 'inp' -> 'qif'"):
        net.pop_edge("inp", "qif")
    net.clear()
    assert len(net) == 0 and list(net.nodes) == []
    with pytest.raises(qifsim.GraphError, match="no nodes"):
        net.compile()


# ---- net[...], nodes, state, node and edge objects ---------------------------------------------
def test_graph_views_and_node_objects():
    rng = np.random.default_rng(7)
    net, (J, W_in, W_out) = three_layers(rng)
    assert [a["node"].label for a in net] == ["inp", "qif", "readout"]
    attrs = net["qif"]
    assert attrs is net.nodes["qif"] and attrs["node"] is net.get_node("qif")
    assert (attrs["node_type"], attrs["n_in"], attrs["n_out"]) == ("diff_eq", 7, 7)
    assert net["inp"]["node_type"] == "func_instant"
    pop = attrs["node"]
    assert {"qif_op/eta", "qif_op/tau", "qif_op/k", "qif_op/tau_s"} <= set(pop.parameter_names)
    assert {"qif_op/v", "qif_op/s", "out", "reset_var"} <= set(pop.variable_names)
    np.testing.assert_array_equal(pop["qif_op/eta"], np.linspace(-2.0, 4.0, 7))
    assert "qif" in net.nodes and "nope" not in net.nodes and len(net.nodes) == 3
    edge = net["inp", "qif"]["edge"]
    assert edge is net.get_edge("inp", "qif") and (edge.n_in, edge.n_out) == (3, 7)
    assert net["inp", "qif"]["trainable"] is False
    np.testing.assert_array_equal(edge.weights, W_in)

    x = rng.uniform(0.0, 3.0, (700, 3))
    record(net, x)
    net.compile()
    assert (net.n_in, net.n_out) == (3, 2)
    pop_ref = QifPop(7, J, eta=np.linspace(-2.0, 4.0, 7))
    chain = Chain("identity", W_in, pop_ref, W_out, "tanh")
    for t in range(len(x)):
        chain.step(x[t])
    state = net.state
    assert list(state) == ["qif"]
    np.testing.assert_allclose(state["qif"], np.concatenate([pop_ref.v, pop_ref.s]), **TOL)
    np.testing.assert_array_equal(pop["out"], pop["s"])  # the output variable
    np.testing.assert_array_equal(pop["reset_var"], pop["v"])
    saved = net.state
    record(net, x)
    net.reset(saved)  # RectiPy's {node: y}
    np.testing.assert_array_equal(net.state["qif"], saved["qif"])
    with pytest.raises(InvalidArgument, match="has 3 values; its state vector has 14"):
        net.reset({"qif": np.zeros(3)})


# ---- edge weights ---------------------------------------------------------------------------
def test_random_edge_weights_are_standard_normal_of_the_edge_shape():
    np.random.seed(11)
    net = Network(1e-3)
    net.add_func_node("a", 300)
    net.add_func_node("b", 200)
    edge = net.add_edge("a", "b")
    w = edge.weights
    assert w.shape == (200, 300)
    assert abs(w.mean()) < 5.0 / np.sqrt(w.size)  # mean 0
    assert abs(w.std() - 1.0) < 0.02  # variance 1
    assert abs(np.mean(w ** 4) - 3.0) < 0.1  # the normal's fourth moment
    np.random.seed(11)
    np.testing.assert_array_equal(w, np.random.randn(200, 300))  # the documented draw


def test_random_weights_run_as_the_same_weights_given():
    np.random.seed(12)
    nets = []
    for given in (None, "copy"):
        net = Network(1e-3)
        net.add_func_node("inp", 2)
        net.add_diffeq_node("qif", QIF, N=5, node_vars={"eta": 3.0}, **VARS)
        net.add_edge("inp", "qif", weights=None if given is None else nets[0].get_edge("inp", "qif").weights)
        nets.append(net)
    x = np.random.default_rng(0).uniform(0.0, 2.0, (600, 2))
    np.testing.assert_array_equal(record(nets[0], x)[0], record(nets[1], x)[0])


@pytest.mark.parametrize("sparse", [False, True])
def test_weights_given_source_by_target_are_used_transposed(sparse):
    rng = np.random.default_rng(13)
    m, n = 3, 6
    W_in = rng.uniform(0.0, 3.0, (n, m))
    x = rng.uniform(0.0, 2.0, (800, m))
    outs = []
    for w in (W_in, W_in.T):  # k x n, and n x k as RectiPy also takes it
        net = Network(1e-3)
        net.add_func_node("inp", m)
        net.add_diffeq_node("qif", QIF, N=n, node_vars={"eta": 1.0}, **VARS)
        edge = net.add_edge("inp", "qif", weights=sp.csr_matrix(w) if sparse else w)
        assert edge.weights.shape == (n, m)
        outs.append(record(net, x)[0])
    np.testing.assert_array_equal(outs[0], outs[1])
    pop = QifPop(n, None, eta=1.0)
    ref = ref_run(lambda xt: pop.step(matvec(W_in, np.asarray(xt, dtype=np.float64))), lambda i: None, x)
    np.testing.assert_allclose(outs[0], ref["out"], **TOL)
    with pytest.raises(InvalidArgument, match="are 4 x 3; expected 6 x 3"):
        net.add_edge("inp", "qif", weights=np.ones((4, 3)))


def test_a_square_edge_between_equal_widths_is_used_transposed_as_in_rectipy():
    """rectipy/edges.py Linear tests weights.shape == (n_in, n_out) first: with a source and a
    target of the same width a square matrix is always transposed."""
    rng = np.random.default_rng(14)
    n = 5
    W = rng.uniform(0.0, 3.0, (n, n))
    x = rng.uniform(0.0, 2.0, (800, n))
    net = Network(1e-3)
    net.add_func_node("inp", n)
    net.add_diffeq_node("qif", QIF, N=n, node_vars={"eta": 1.0}, **VARS)
    np.testing.assert_array_equal(net.add_edge("inp", "qif", weights=W).weights, W.T)
    pop = QifPop(n, None, eta=1.0)
    ref = ref_run(lambda xt: pop.step(matvec(W.T, np.asarray(xt, dtype=np.float64))), lambda i: None, x)
    np.testing.assert_allclose(record(net, x)[0], ref["out"], **TOL)


def test_adding_an_existing_edge_replaces_it():
    rng = np.random.default_rng(15)
    net, (J, W_in, W_out) = three_layers(rng)
    W2 = rng.normal(0.0, 1.0, (2, 7))
    net.add_edge("qif", "readout", weights=W2)
    x = rng.uniform(0.0, 3.0, (500, 3))
    pop = QifPop(7, J, eta=np.linspace(-2.0, 4.0, 7))
    ref = ref_run(Chain("identity", W_in, pop, W2, "tanh").step, lambda i: None, x)
    np.testing.assert_allclose(record(net, x)[0], ref["out"], **TOL)


def test_edge_keywords_are_rectipys():
    net = Network(1e-3)
    net.add_func_node("a", 2)
    net.add_func_node("b", 3)
    with pytest.raises(InvalidArgument, match="delay: not supported.*mask, delays, filter_weights"):
        net.add_edge("a", "b", delay=np.zeros(2, dtype=int))
    with pytest.raises(InvalidArgument, match=r"delays has shape \(3,\); expected one per source output \(2,\)"):
        net.add_edge("a", "b", delays=np.zeros(3, dtype=int))
    with pytest.raises(InvalidArgument, match="whole numbers of steps >= 0"):
        net.add_edge("a", "b", delays=np.array([1, -1]))
    with pytest.raises(InvalidArgument, match=r"filter_weights are \(3, 3\); expected \(2, 2\)"):
        net.add_edge("a", "b", filter_weights=np.eye(3))
    with pytest.raises(InvalidArgument, match="unknown node 'c'"):
        net.add_edge("a", "c")
    net.add_edge("a", "b", edge_attrs={"label": "readout"})
    assert net["a", "b"]["label"] == "readout"


# ---- add_diffeq_node's keywords ---------------------------------------------------------------
def spiking_run(**kwargs):
    net = Network(1e-3)
    args = dict(VARS, N=4, node_vars={"eta": np.array([2.0, 4.0, 6.0, 8.0])})
    args.update(kwargs)
    net.add_diffeq_node("qif", QIF, **args)
    return record(net, np.full((1500, 4), 1.0))


def test_spike_def_float_precision_and_clear():
    base = spiking_run()
    reset_var = {k: v for k, v in VARS.items() if k != "reset_var"}
    net = Network(1e-3)
    net.add_diffeq_node("qif", QIF, N=4, node_vars={"eta": np.array([2.0, 4.0, 6.0, 8.0])}, spike_def="v",
                        **reset_var)
    for a, b in zip(record(net, np.full((1500, 4), 1.0)), base):
        np.testing.assert_array_equal(a, b)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        same = spiking_run(float_precision="float64", clear=False, verbose=False, spike_slope=3.0)
    with pytest.warns(UserWarning, match="float_precision='float32' has no effect.*float64"):
        f32 = spiking_run(float_precision="float32")
    for a, b, c in zip(same, f32, base):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, c)
    assert base[2].max() > 0.5


def test_spike_threshold_reset_and_prefixed_node_vars():
    eta = np.array([2.0, 4.0, 6.0, 8.0])
    got = spiking_run(spike_threshold=40.0, spike_reset=-30.0,
                      node_vars={"all/qif_op/eta": eta, "qif/qif_op/tau": 0.8, "qif_op/v": 0.5})
    pop = QifPop(4, None, eta=eta, tau=0.8, v0=0.5, v_th=40.0, v_reset=-30.0)
    ref = ref_run(pop.step, lambda i: pop.var("vs"[i]), np.full((1500, 4), 1.0), var_means=(False, False))
    assert pop.spikes > 4
    np.testing.assert_allclose(got[1], ref["vars"][0], **TOL)
    np.testing.assert_allclose(got[0], ref["out"], **TOL)


def test_refused_keywords_name_themselves():
    with pytest.raises(InvalidArgument, match="reset=False"):
        spiking_run(reset=False)
    with pytest.raises(InvalidArgument, match="spike_center"):
        spiking_run(spike_center=0.5)
    with pytest.raises(InvalidArgument, match="dtype"):
        spiking_run(dtype=np.float32)
    with pytest.raises(InvalidArgument, match="pass spike_var='spike' and reset_var='v'"):
        spiking_run(reset_var=None)


# ---- one-wide inputs ----------------------------------------------------------------------------
def test_a_one_wide_input_is_fed_to_every_neuron_of_the_input_population():
    rng = np.random.default_rng(16)
    n, steps = 12, 250000  # about 24 MB when widened: fetched in several pieces
    J = coupling(rng, n)
    x = rng.uniform(0.0, 2.0, (steps, 1))
    outs = []
    for inputs in (x, np.repeat(x, n, axis=1)):
        net = Network(1e-3)
        net.add_diffeq_node("qif", QIF, weights=J, node_vars={"eta": np.linspace(-1.0, 1.0, n)}, **VARS)
        obs = net.run(inputs, sampling_steps=500, record_vars=[("qif", "v", True)], verbose=False)
        outs.append((np.array(obs["out"]), np.array(obs[("qif", "v")])))
    np.testing.assert_array_equal(outs[0][0], outs[1][0])
    np.testing.assert_array_equal(outs[0][1], outs[1][1])
    assert x.shape == (steps, 1) and x.flags.writeable

    net = Network(1e-3)
    net.add_diffeq_node("qif", QIF, weights=J, node_vars={"eta": np.linspace(-1.0, 1.0, n)}, **VARS)
    net.compile()
    pop = QifPop(n, J, eta=np.linspace(-1.0, 1.0, n))
    for t in range(300):
        np.testing.assert_allclose(net.forward([x[t, 0]]), pop.step(np.full(n, x[t, 0])), **TOL)


def test_a_one_wide_input_to_a_wider_function_node_is_refused():
    net = Network(1e-3)
    net.add_func_node("inp", 3)
    net.add_diffeq_node("qif", QIF, N=4, **VARS)
    net.add_edge("inp", "qif", weights=np.ones((4, 3)))
    with pytest.raises(InvalidArgument, match="inputs are 10 x 1"):
        net.run(np.zeros((10, 1)), verbose=False)
    with pytest.raises(InvalidArgument, match="input has 1 values"):
        net.forward([0.0])
