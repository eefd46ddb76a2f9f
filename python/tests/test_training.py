"""Readout training and test losses (qifsim/training.py, qifsim/losses.py) against references
written here: each loss against its textbook formula on small arrays written out by hand,
ridge regression against the closed-form solve on states computed independently (function
nodes, whose states are their inputs, and a QIF population stepped by a naive Euler loop),
and RLS against a step-by-step RLS written from RectiPy's update formula."""
import math

import numpy as np
import pytest

from qifsim import InvalidArgument, MemoryBudgetError, Network
from qifsim.losses import Loss
from qifsim.training import RLS

QIF = "neuron_model_templates.spiking_neurons.qif.qif"
VARS = dict(source_var="s", target_var="s_in", input_var="I_ext", output_var="s", spike_var="spike",
            reset_var="v")


# ---- independent references ----------------------------------------------------------------------
def euler_qif_outputs(J, W_in, inputs, eta, dt=1e-3, v0=-2.0):
    """s at the start of every step of a QIF population (tau = k = tau_s = 1, threshold 100,
    reset -100) driven by I = W_in x_t, written out from the model equations."""
    n = J.shape[0]
    v, s = np.full(n, v0), np.zeros(n)
    out = []
    for x in inputs:
        out.append(s.copy())
        spike = v >= 100.0
        s_in = J @ s
        v_new = v + dt * (v * v + eta + W_in @ x + s_in)
        s = s + dt * (-s) + spike
        v = np.where(spike, -100.0, v_new)
    return np.array(out)


def window_means(rows, sampling_steps, cutoff):
    """Window means of a per-step series at the sample steps, written as a plain loop."""
    means, acc = [], []
    for t, row in enumerate(rows):
        if t < cutoff:
            continue
        acc.append(row)
        if t % sampling_steps == 0:
            means.append(np.mean(acc, axis=0))
            acc = []
    return np.array(means)


def ridge(X, Y, alpha):
    return np.linalg.inv(X.T @ X + alpha * np.eye(X.shape[1])) @ X.T @ Y


def naive_rls(X, Y, beta, alpha, update_steps=1, state=None):
    """RectiPy's RLS edge update, literally as its formula reads (rectipy/edges.py), applied at
    steps t % update_steps == 0, from zero weights and P = alpha I or from ``state`` (W, P);
    returns the final (W, P) and, per step, the prediction made before the update and the loss
    known after it."""
    W, P = (np.zeros((Y.shape[1], X.shape[1])), alpha * np.eye(X.shape[1])) if state is None else state
    preds, losses, loss = [], [], 0.0
    for t, (x, y) in enumerate(zip(X, Y)):
        pred = W @ x
        if t % update_steps == 0:
            z = (1.0 / beta) * P @ x
            k = (1.0 + x @ z) ** (-1)
            W = W + np.outer(y - k * x @ (W + np.outer(y, z)).T, z)
            P = P - k * np.outer(z, z)
            loss = float((y - pred) @ (y - pred))
        preds.append(pred)
        losses.append(loss)
    return (W, P), np.array(preds), np.array(losses)


def function_net(rng, m=3, n=4):
    """inp (identity, m) -> h (tanh, n): h's output is tanh(W_in x_t) at every step."""
    net = Network(1e-3)
    W_in = rng.normal(size=(n, m))
    net.add_func_node("inp", m, "identity")
    net.add_func_node("h", n, "tanh")
    net.add_edge("inp", "h", W_in)
    return net, W_in


def qif_net(rng, n=4, m=2):
    J = rng.uniform(0.0, 2.0, (n, n))
    W_in = rng.uniform(0.5, 1.5, (n, m))
    eta = rng.uniform(-1.0, 1.0, n)
    net = Network(1e-3)
    net.add_func_node("inp", m, "identity")
    net.add_diffeq_node("qif", QIF, weights=J, node_vars={"eta": eta}, **VARS)
    net.add_edge("inp", "qif", W_in)
    return net, J, W_in, eta


# ---- losses against their textbook formulas --------------------------------------------------------
X2 = np.array([[1.0, 2.0], [3.0, 4.0]])
T2 = np.array([[0.0, 2.0], [5.0, 1.0]])  # differences 1, 0, -2, 3


def test_mse_and_l1():
    assert Loss("mse")(X2, T2) == pytest.approx((1 + 0 + 4 + 9) / 4)
    assert Loss("mse", {"reduction": "sum"})(X2, T2) == pytest.approx(14.0)
    assert Loss("mse", {"size_average": False})(X2, T2) == pytest.approx(14.0)  # torch's legacy spelling
    np.testing.assert_allclose(Loss("mse", {"reduction": "none"})(X2, T2), [[1, 0], [4, 9]])
    assert Loss("l1")(X2, T2) == pytest.approx((1 + 0 + 2 + 3) / 4)
    np.testing.assert_allclose(Loss("l1").per_sample(X2, T2), [0.5, 2.5])
    with pytest.warns(UserWarning, match="different to the input size"):
        value = Loss("mse")(X2, np.array([1.0, 2.0]))  # broadcast over the rows, as torch does
    assert value == pytest.approx((0 + 0 + 4 + 4) / 4)


def test_nll():
    logp = np.array([[-0.5, -1.0, -2.0], [-1.5, -0.2, -3.0]])
    t = np.array([0, 1])
    assert Loss("nll")(logp, t) == pytest.approx((0.5 + 0.2) / 2)
    w = {"weight": [1.0, 2.0, 3.0]}
    assert Loss("nll", w)(logp, t) == pytest.approx((1 * 0.5 + 2 * 0.2) / (1 + 2))
    assert Loss("nll", {**w, "reduction": "sum"})(logp, t) == pytest.approx(1 * 0.5 + 2 * 0.2)
    assert Loss("nll", {"ignore_index": 1})(logp, t) == pytest.approx(0.5)
    np.testing.assert_allclose(Loss("nll", w).per_sample(logp, t), [0.5, 0.2])


def test_cross_entropy_with_indices_smoothing_and_probabilities():
    logits = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
    t = np.array([2, 0])
    z0 = math.exp(1) + math.exp(2) + math.exp(3)
    logq0 = [1 - math.log(z0), 2 - math.log(z0), 3 - math.log(z0)]
    logq1 = [-math.log(3)] * 3
    assert Loss("ce")(logits, t) == pytest.approx((-logq0[2] - logq1[0]) / 2)
    eps = 0.1  # (1 - eps) * -log q_y + eps / C * sum_c -log q_c
    smoothed = [(1 - eps) * -lq[y] + eps / 3 * -sum(lq) for lq, y in ((logq0, 2), (logq1, 0))]
    assert Loss("ce", {"label_smoothing": eps})(logits, t) == pytest.approx(np.mean(smoothed))
    w = [0.5, 1.0, 2.0]
    weighted = (2.0 * -logq0[2] + 0.5 * -logq1[0]) / (2.0 + 0.5)
    assert Loss("ce", {"weight": w})(logits, t) == pytest.approx(weighted)
    p = np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])  # class probabilities: the input's shape
    expected = (-sum(pi * lq for pi, lq in zip(p[0], logq0)) - logq1[0]) / 2
    assert Loss("ce")(logits, p) == pytest.approx(expected)


def test_kl_divergence():
    logq = np.log(np.array([[0.25, 0.75], [0.5, 0.5]]))
    p = np.array([[0.5, 0.5], [1.0, 0.0]])  # 0 * log 0 counts 0
    terms = [0.5 * math.log(0.5 / 0.25), 0.5 * math.log(0.5 / 0.75), 1.0 * math.log(1.0 / 0.5), 0.0]
    with pytest.warns(UserWarning, match="batchmean"):
        assert Loss("kld")(logq, p) == pytest.approx(sum(terms) / 4)
    assert Loss("kld", {"reduction": "batchmean"})(logq, p) == pytest.approx(sum(terms) / 2)
    logp = np.log(np.array([[0.5, 0.5], [0.9, 0.1]]))
    direct = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75) + 0.9 * math.log(0.9 / 0.5) + \
        0.1 * math.log(0.1 / 0.5)
    assert Loss("kld", {"reduction": "sum", "log_target": True})(logq, logp) == pytest.approx(direct)


def test_hinge_embedding():
    x = np.array([[0.3, -0.2], [1.5, 0.1]])
    y = np.array([[1.0, -1.0], [-1.0, 1.0]])
    # y = 1: x; y = -1: max(0, margin - x)
    assert Loss("hinge")(x, y) == pytest.approx((0.3 + 1.2 + 0.0 + 0.1) / 4)
    assert Loss("hinge", {"margin": 2.0})(x, y) == pytest.approx((0.3 + 2.2 + 0.5 + 0.1) / 4)


def test_loss_arguments_are_checked():
    with pytest.raises(InvalidArgument, match="'huber' is unknown"):
        Loss("huber")
    with pytest.raises(InvalidArgument, match=r"\['margin'\].*MSELoss"):
        Loss("mse", {"margin": 1.0})
    with pytest.raises(InvalidArgument, match="batchmean"):
        Loss("mse", {"reduction": "batchmean"})
    with pytest.raises(InvalidArgument, match="integers"):
        Loss("nll")(X2, np.array([0.0, 1.0]))
    with pytest.raises(InvalidArgument, match="target 2 is out of bounds"):
        Loss("nll")(X2, np.array([0, 2]))
    with pytest.raises(InvalidArgument, match="do not broadcast"):
        Loss("l1")(X2, np.zeros((3, 2)))


# ---- Network.test ------------------------------------------------------------------------------------
def test_test_scores_the_samples_as_given_with_each_loss():
    rng = np.random.default_rng(1)
    net, W_in = function_net(rng)
    net.add_func_node("logp", 4, "log_softmax")
    net.add_edge("h", "logp", np.eye(4))
    x = rng.normal(size=(30, 3))
    z = np.tanh(x @ W_in.T)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))  # every step's output
    sampled = window_means(logp, 4, 3)  # steps 4, 8, ..., 28
    classes = rng.integers(0, 4, size=len(sampled))
    obs, value = net.test(x, classes, loss="nll", sampling_steps=4, cutoff=3, record_loss=True, verbose=False)
    np.testing.assert_allclose(obs["out"], sampled, rtol=1e-12)
    expected = -sampled[np.arange(len(sampled)), classes]
    assert value == pytest.approx(np.mean(expected), rel=1e-12)
    np.testing.assert_allclose(obs["loss"], expected, rtol=1e-12)
    targets = rng.normal(size=sampled.shape)
    obs, value = net.test(x, targets, loss="mse", sampling_steps=4, cutoff=3, verbose=False, record_output=False)
    assert value == pytest.approx(np.mean((sampled - targets) ** 2), rel=1e-12)
    assert "out" not in obs.keys() and list(obs.steps) == list(range(4, 30, 4))


def test_test_takes_targets_per_step_averaged_over_each_window_as_the_outputs():
    rng = np.random.default_rng(21)
    net, W_in = function_net(rng)
    x = rng.normal(size=(30, 3))
    z = np.tanh(x @ W_in.T)  # every step's output
    y = rng.normal(size=(30, 4))  # one target row per step
    # The reference, written out: samples at steps 4, 8, ..., 28 (cutoff 3); each sample's
    # output and target the mean over steps 3..4, 5..8, 9..12, ...
    edges = [3, 5, 9, 13, 17, 21, 25, 29]
    out = np.array([z[a:b].mean(axis=0) for a, b in zip(edges[:-1], edges[1:])])
    target = np.array([y[a:b].mean(axis=0) for a, b in zip(edges[:-1], edges[1:])])
    obs, value = net.test(x, y, loss="mse", sampling_steps=4, cutoff=3, record_loss=True, verbose=False)
    assert value == pytest.approx(np.mean((out - target) ** 2), rel=1e-12)
    np.testing.assert_allclose(obs["loss"], np.mean((out - target) ** 2, axis=1), rtol=1e-12)
    _, value = net.test(x, y, loss="l1", sampling_steps=4, cutoff=3, verbose=False)
    assert value == pytest.approx(np.mean(np.abs(out - target)), rel=1e-12)
    _, per_sample = net.test(x, target, loss="l1", sampling_steps=4, cutoff=3, verbose=False)
    assert per_sample == value  # the same targets given per sample
    # Class indices per step: one class over each window, that class scored.
    net.add_func_node("logp", 4, "log_softmax")
    net.add_edge("h", "logp", np.eye(4))
    classes = rng.integers(0, 4, size=7)
    per_step = np.r_[np.full(3, 3), np.repeat(classes, [2, 4, 4, 4, 4, 4, 4]), 0]  # 30 steps
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    sampled = np.array([logp[a:b].mean(axis=0) for a, b in zip(edges[:-1], edges[1:])])
    _, value = net.test(x, per_step, loss="nll", sampling_steps=4, cutoff=3, verbose=False)
    assert value == pytest.approx(np.mean(-sampled[np.arange(7), classes]), rel=1e-12)
    mixed = per_step.copy()
    mixed[10] = (mixed[10] + 1) % 4  # step 10: in sample 2's window, steps 9..12
    before = net.step_count
    with pytest.raises(InvalidArgument, match=r"sample 2 \(steps 9\.\.12\) holds several"):
        net.test(x, mixed, loss="nll", sampling_steps=4, cutoff=3, verbose=False)
    assert net.step_count == before  # refused before the run


@pytest.mark.parametrize("targets", [np.zeros((12, 4)), np.zeros((29, 4)), np.zeros(12, dtype=int)])
def test_test_refuses_targets_of_neither_length_naming_both(targets):
    rng = np.random.default_rng(22)
    net, _ = function_net(rng)
    loss = "nll" if targets.ndim == 1 else "mse"
    with pytest.raises(InvalidArgument, match=r"targets have (12|29) (rows|values); give one per sample \(7: .*"
                                              r"or one per step \(30,"):
        net.test(rng.normal(size=(30, 3)), targets, loss=loss, sampling_steps=4, cutoff=3, verbose=False)
    assert net.step_count == 0


def test_test_refuses_what_cannot_be_scored_before_running():
    rng = np.random.default_rng(2)
    net, _ = function_net(rng)
    x = rng.normal(size=(50, 3))
    with pytest.raises(InvalidArgument, match=r"\(50, 2\) \(one row per step; \(5, 2\) .* do not broadcast .* \(5, 4\)"):
        net.test(x, np.zeros((50, 2)), sampling_steps=10, verbose=False)
    with pytest.raises(InvalidArgument, match=r"\(5, 2\) do not broadcast .* \(5, 4\)"):
        net.test(x, np.zeros((5, 2)), sampling_steps=10, verbose=False)
    with pytest.raises(InvalidArgument, match="no sample"):
        net.test(x, np.zeros((1, 4)), cutoff=50, verbose=False)
    with pytest.raises(InvalidArgument, match="reduction='none'"):
        net.test(x, np.zeros((50, 4)), sampling_steps=1, loss_kwargs={"reduction": "none"}, verbose=False)
    assert net.step_count == 0


# ---- ridge regression ----------------------------------------------------------------------------------
@pytest.mark.parametrize("sampling_steps, cutoff", [(1, 0), (3, 5)])
def test_fit_ridge_on_states_equal_to_the_inputs(sampling_steps, cutoff):
    rng = np.random.default_rng(3)
    net = Network(1e-3)
    net.add_func_node("inp", 3, "identity")
    net.add_func_node("copy", 3, "identity")
    net.add_edge("inp", "copy", np.eye(3))  # copy's output is the input
    x = rng.normal(size=(200, 3))
    targets = np.stack([x[:, 0] - 2 * x[:, 2], np.sin(x[:, 1])], axis=1) + 0.1 * rng.normal(size=(200, 2))
    obs = net.fit_ridge(x, targets, sampling_steps=sampling_steps, cutoff=cutoff, alpha=1e-2, verbose=False,
                        record_output=True)

    X, Y = window_means(x, sampling_steps, cutoff), window_means(targets, sampling_steps, cutoff)
    w = ridge(X, Y, 1e-2)
    np.testing.assert_allclose(obs["w_out"], w, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(obs["y"], X @ w, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(obs["out"], X, rtol=1e-14)
    assert list(net.nodes) == ["inp", "copy", "readout"]
    np.testing.assert_allclose(net.get_edge("copy", "readout").weights, w.T, rtol=1e-14)
    after = net.run(x[:20], verbose=False)["out"]
    np.testing.assert_allclose(after, x[:20] @ w, rtol=1e-10, atol=1e-12)


def test_fit_ridge_in_chunks_keeps_no_outputs_and_gives_the_same_weights():
    rng = np.random.default_rng(4)
    net, J, W_in, eta = qif_net(rng)
    x = rng.uniform(5.0, 20.0, size=(3000, 2))
    s = euler_qif_outputs(J, W_in, x, eta)
    assert s.max() > 0.5  # the neurons spike
    targets = np.stack([np.sin(np.arange(3000) / 200.0), np.cos(np.arange(3000) / 300.0)], axis=1)
    obs = net.fit_ridge(x, targets, sampling_steps=5, cutoff=7, alpha=1e-3, add_readout_node=False, verbose=False,
                        record_output=False, record_vars=[("qif", "v", True)], chunk_steps=333)
    X, Y = window_means(s, 5, 7), window_means(targets, 5, 7)
    np.testing.assert_allclose(obs["w_out"], ridge(X, Y, 1e-3), rtol=1e-7)
    assert "out" not in obs.keys() and list(obs.steps) == list(range(10, 3000, 5))
    assert obs[("qif", "v")].shape == (len(X),)
    with pytest.raises(InvalidArgument, match="'y'"):
        obs["y"]  # X is not kept
    # the same fit keeping the outputs (RectiPy's results), from the same initial state
    net2, *_ = qif_net(np.random.default_rng(4))
    obs2 = net2.fit_ridge(x, targets, sampling_steps=5, cutoff=7, alpha=1e-3, add_readout_node=False, verbose=False,
                          record_output=True, record_vars=[("qif", "v", True)])
    np.testing.assert_allclose(obs2["out"], X, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(obs["w_out"], obs2["w_out"], rtol=1e-9)
    np.testing.assert_allclose(obs[("qif", "v")], obs2[("qif", "v")], rtol=1e-12)


def test_fit_ridge_arguments_are_checked():
    rng = np.random.default_rng(5)
    net, _ = function_net(rng)
    x = rng.normal(size=(10, 3))
    with pytest.raises(InvalidArgument, match="targets have 9 rows; the inputs have 10"):
        net.fit_ridge(x, np.zeros((9, 1)), verbose=False)
    with pytest.raises(InvalidArgument, match="alpha"):
        net.fit_ridge(x, np.zeros((10, 1)), alpha=-1.0, verbose=False)
    with pytest.raises(InvalidArgument, match="record_loss"):
        net.fit_ridge(x, np.zeros((10, 1)), record_loss=True, verbose=False)


def test_a_target_that_is_not_finite_is_named_before_anything_runs():
    """A NaN among fit_ridge's or fit_rls's targets is named by row and column before the
    network steps, and the network is left as it was (no readout node, weights unchanged)."""
    rng = np.random.default_rng(8)
    x = rng.normal(size=(40, 3))
    y = np.zeros((40, 2))
    y[17, 1] = np.nan
    for chunk_steps in (None, 9):
        net, _ = function_net(rng)
        nodes = list(net.nodes)
        with pytest.raises(InvalidArgument, match=r"fit_ridge: targets \(17, 1\) is nan"):
            net.fit_ridge(x, y, verbose=False, chunk_steps=chunk_steps,
                          record_output=chunk_steps is None)
        assert net.step_count == 0 and list(net.nodes) == nodes
    net, _ = function_net(rng)
    net.add_func_node("ro", 2, "identity")
    net.add_edge("h", "ro", train="rls")
    before = net.get_edge("h", "ro").weights.copy()
    with pytest.raises(InvalidArgument, match=r"fit_rls: epoch 1: targets \(17, 1\) is nan"):
        net.fit_rls([x, x], [np.zeros((40, 2)), y], verbose=False)
    assert net.step_count == 0
    np.testing.assert_array_equal(net.get_edge("h", "ro").weights, before)


def test_fit_ridge_refuses_accumulators_over_the_memory_budget_before_running():
    """2^28 targets (a zero-stride view, 8 bytes of data) need normal equations of 4 x 2^28:
    refused by size before anything is allocated or run, not left to the OOM killer."""
    rng = np.random.default_rng(9)
    net, _ = function_net(rng)
    targets = np.broadcast_to(np.zeros(1), (100, 2 ** 28))
    with pytest.raises(MemoryBudgetError, match=r"fit_ridge: the normal equations for 4 outputs and 268435456 "
                                                r"targets would take .* GiB"):
        net.fit_ridge(rng.normal(size=(100, 3)), targets, verbose=False, memory_budget=2 ** 30)
    assert net.step_count == 0 and "readout" not in net.nodes


# ---- recursive least squares -------------------------------------------------------------------------------
@pytest.mark.parametrize("beta, alpha", [(1.0, 1.0), (0.95, 3.0)])
def test_rls_update_follows_rectipys_formula(beta, alpha):
    rng = np.random.default_rng(6)
    X, Y = rng.normal(size=(50, 4)), rng.normal(size=(50, 2))
    rls = RLS(np.zeros((2, 4)), beta=beta, alpha=alpha)
    for x, y in zip(X, Y):
        rls.update(x, y, rls.weights @ x)
    (W, _), _, losses = naive_rls(X, Y, beta, alpha)
    np.testing.assert_allclose(rls.weights, W, rtol=1e-10, atol=1e-12)
    assert rls.loss == pytest.approx(losses[-1], rel=1e-12)
    if beta == 1.0:  # no forgetting: regularised least squares, W = Y^T X (X^T X + I / alpha)^-1
        closed = Y.T @ X @ np.linalg.inv(X.T @ X + np.eye(4) / alpha)
        np.testing.assert_allclose(rls.weights, closed, rtol=1e-9, atol=1e-12)


def test_fit_rls_on_a_function_network():
    rng = np.random.default_rng(7)
    net, W_in = function_net(rng)
    net.add_func_node("ro", 2, "identity")
    net.add_edge("h", "ro", train="rls", beta=0.98, alpha=2.0)
    assert net["h", "ro"]["trainable"]
    x = rng.normal(size=(400, 3))
    H = np.tanh(x @ W_in.T)
    targets = H @ rng.normal(size=(4, 2)) + 0.05 * rng.normal(size=(400, 2))
    obs = net.fit_rls(x, targets, update_steps=3, sampling_steps=7, verbose=False)

    (W, _), preds, losses = naive_rls(H, targets, 0.98, 2.0, update_steps=3)
    np.testing.assert_allclose(net.get_edge("h", "ro").weights, W, rtol=1e-9, atol=1e-12)
    assert list(obs.steps) == list(range(0, 400, 7))
    np.testing.assert_allclose(obs["out"], preds[::7], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(obs["loss"], losses[::7], rtol=1e-9, atol=1e-12)
    # the engine now runs with the trained weights
    np.testing.assert_allclose(net.run(x[:25], verbose=False)["out"], H[:25] @ W.T, rtol=1e-10, atol=1e-12)


def test_fit_rls_on_a_qif_population_with_epochs():
    rng = np.random.default_rng(8)
    net, J, W_in, eta = qif_net(rng)
    net.add_func_node("ro", 1, "identity")
    net.add_edge("qif", "ro", train="rls")
    x = [rng.uniform(5.0, 20.0, size=(600, 2)) for _ in range(2)]
    targets = [np.sin(np.arange(600) / 50.0).reshape(-1, 1) for _ in range(2)]
    obs = net.fit_rls(x, targets, update_steps=2, verbose=False)

    state = None
    for xe, ye in zip(x, targets):  # every epoch starts from the initial state; W and P carry on
        state, _, losses = naive_rls(euler_qif_outputs(J, W_in, xe, eta), ye, 1.0, 1.0, update_steps=2, state=state)
    W = state[0]
    np.testing.assert_allclose(net.get_edge("qif", "ro").weights, W, rtol=1e-8, atol=1e-12)
    assert len(obs["epoch_loss"]) == 2 and obs["epoch_loss"][-1] == pytest.approx(losses[-1], rel=1e-8)
    np.testing.assert_array_equal(obs["epochs"], [0, 1])


def test_training_that_qifsim_does_not_do_is_refused():
    rng = np.random.default_rng(9)
    net, _ = function_net(rng)
    net.add_func_node("ro", 2, "identity")
    with pytest.raises(InvalidArgument, match="gradient-descent.*fit_ridge.*fit_rls"):
        net.add_edge("h", "ro", train="gd")
    with pytest.raises(InvalidArgument, match="fit_bptt: qifsim does not support gradient-descent"):
        net.fit_bptt([np.zeros((3, 3))], [np.zeros((3, 2))])
    with pytest.raises(InvalidArgument, match="fit_eprop"):
        net.fit_eprop(np.zeros((3, 3)), np.zeros((3, 2)))
    with pytest.raises(InvalidArgument, match="train='sgd' is unknown"):
        net.add_edge("h", "ro", train="sgd")
    with pytest.raises(InvalidArgument, match="beta"):
        net.add_edge("h", "ro", train="rls", beta=1.5)
    with pytest.raises(InvalidArgument, match="no edge is trained by RLS"):
        net.add_edge("h", "ro", np.zeros((2, 4)))
        net.fit_rls(np.zeros((3, 3)), np.zeros((3, 2)), verbose=False)


def test_fit_rls_needs_the_edge_to_end_in_the_output_node():
    rng = np.random.default_rng(10)
    net, _ = function_net(rng)
    net.add_func_node("ro", 2, "identity")
    net.add_func_node("after", 2, "tanh")
    net.add_edge("h", "ro", train="rls")
    net.add_edge("ro", "after", np.eye(2))
    with pytest.raises(InvalidArgument, match="must end in the network's output node \\('after'\\)"):
        net.fit_rls(np.zeros((3, 3)), np.zeros((3, 2)), verbose=False)
