"""Sparse weights from SciPy and the `coupling=` run option: a network whose J is given as a
scipy.sparse matrix (CSR, CSC, COO, ...) runs as the same network given as the dense array, every
coupling mode gives the same spikes, the recorded s_in is SciPy's J @ s, and bad weights or modes
are refused with messages that name what is wrong. Expected values come from SciPy/NumPy or from
the dense run, never from this code's own output."""
import subprocess
import sys

import numpy as np
import pytest

sp = pytest.importorskip("scipy.sparse")

import qifsim  # noqa: E402
from qifsim import InvalidArgument, Network  # noqa: E402

QIF = "neuron_model_templates.spiking_neurons.qif.qif"
VARS = dict(source_var="s", target_var="s_in", input_var="I_ext", output_var="s", spike_var="spike",
            reset_var="v")
N, K, STEPS, DRIVE = 300, 10, 2000, 15.0
RECORD = [("p", var, False) for var in ("v", "s", "s_in", "spike")]


def connectivity(seed=7):
    """K distinct random presynaptic partners per neuron (no self-coupling), weights
    0.05 * U(0.5, 1.5), and eta ~ U(-5, -3): as COO coordinates (row = target)."""
    rng = np.random.default_rng(seed)
    rows = np.repeat(np.arange(N), K)
    cols = np.concatenate([rng.choice(np.delete(np.arange(N), i), K, replace=False) for i in range(N)])
    vals = 0.05 * rng.uniform(0.5, 1.5, N * K)
    eta = rng.uniform(-5.0, -3.0, N)
    return rows, cols, vals, eta


ROWS, COLS, VALS, ETA = connectivity()
J_CSR = sp.csr_matrix((VALS, (ROWS, COLS)), shape=(N, N))
J_DENSE = J_CSR.toarray()


def build(weights, eta=ETA, **kw):
    net = Network(dt=1e-3)
    net.add_diffeq_node("p", QIF, weights=weights, node_vars={"eta": eta}, **VARS, **kw)
    return net


def simulate(weights, net=None, **run_kw):
    """Run the standard network; returns (net, {var: samples x N array})."""
    net = build(weights) if net is None else net
    obs = net.run(np.full((STEPS, N), DRIVE), record_vars=RECORD, verbose=False, **run_kw)
    return net, {var: np.array(obs[("p", var)]) for var in ("v", "s", "s_in", "spike")}


@pytest.fixture(scope="module")
def dense_run():
    net, rec = simulate(J_DENSE)
    assert rec["spike"].sum() >= N  # every neuron spikes on average at least once
    assert net.coupling_choice == "'p': dense"  # small dense J: auto keeps it dense
    return rec


def assert_same_run(rec, ref, v_rtol=1e-9, s_in_atol=1e-12):
    np.testing.assert_array_equal(np.nonzero(rec["spike"]), np.nonzero(ref["spike"]))
    np.testing.assert_allclose(rec["v"], ref["v"], rtol=v_rtol, atol=v_rtol)
    np.testing.assert_allclose(rec["s_in"], ref["s_in"], rtol=0, atol=s_in_atol)


def coo_with_duplicate():
    """The same matrix as COO with one entry split in two (SciPy sums duplicates)."""
    a, b = 0.3 * VALS[0], VALS[0] - 0.3 * VALS[0]
    rows = np.concatenate([ROWS, ROWS[:1]])
    cols = np.concatenate([COLS, COLS[:1]])
    vals = np.concatenate([[a], VALS[1:], [b]])
    return sp.coo_matrix((vals, (rows, cols)), shape=(N, N))


def unsorted_csr_with_duplicate():
    """CSR arrays as given (not canonical): row 0's columns in reverse order and its entry at the
    first of them split into two stored values (summed when the CSR is read, as SciPy does)."""
    m = J_CSR
    b, e = m.indptr[0], m.indptr[1]
    idx = m.indices[b:e][::-1].copy()
    val = m.data[b:e][::-1].copy()
    half = 0.5 * val[0]
    val[0] = half
    idx = np.append(idx, idx[0])
    val = np.append(val, m.data[b:e][::-1][0] - half)
    indices = np.concatenate([idx, m.indices[e:]])
    data = np.concatenate([val, m.data[e:]])
    indptr = m.indptr.copy()
    indptr[1:] += 1
    raw = sp.csr_matrix((data, indices, indptr), shape=(N, N))
    assert not raw.has_canonical_format
    return raw


FORMATS = {
    "csr": lambda: J_CSR,
    "csc": lambda: J_CSR.tocsc(),
    "coo_duplicate": coo_with_duplicate,
    "csr_unsorted_duplicate": unsorted_csr_with_duplicate,
    "csr_array": lambda: sp.csr_array(J_CSR),
    "dense": lambda: J_DENSE,
}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_sparse_formats_match_dense(fmt, dense_run):
    w = FORMATS[fmt]()
    ref = dense_run
    if fmt in ("coo_duplicate", "csr_unsorted_duplicate"):
        # SciPy's own dense view of the same matrix (duplicates summed); the split entry sums to
        # within one rounding of the original, so its run is compared with its own dense run.
        _, ref = simulate(w.toarray())
    _, rec = simulate(w)
    assert_same_run(rec, ref)


def test_sparse_weights_are_never_made_dense(dense_run):
    class NoDense(sp.csr_matrix):
        def toarray(self, *a, **k):
            raise AssertionError("made dense")

        todense = toarray

        def __array__(self, *a, **k):
            raise AssertionError("made dense")

    _, rec = simulate(NoDense(J_CSR))
    assert_same_run(rec, dense_run)


@pytest.mark.parametrize("mode", ["dense", "sparse", "events", "auto"])
def test_coupling_modes_give_the_same_spikes(mode, dense_run):
    for weights in (J_CSR, J_DENSE):
        _, rec = simulate(weights, coupling=mode)
        np.testing.assert_array_equal(np.nonzero(rec["spike"]), np.nonzero(dense_run["spike"]))
        if mode != "events":  # events differ from the product by rounding between resyncs
            assert_same_run(rec, dense_run)
        else:
            np.testing.assert_allclose(rec["s_in"], dense_run["s_in"], rtol=0, atol=1e-9)


def test_recorded_s_in_is_scipy_product():
    for mode in ("auto", "dense", "sparse"):
        _, rec = simulate(J_CSR, coupling=mode)
        # The sample at step t holds the state at the step's start and that step's s_in = J s.
        expected = (J_CSR @ rec["s"].T).T
        assert np.abs(expected).max() > 0.1
        np.testing.assert_allclose(rec["s_in"], expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())


def test_coupling_choice_reports_the_operator():
    net = build(J_CSR)
    assert net.coupling_choice == ""  # before compile()
    net.compile()
    assert net.coupling_choice == "'p': sparse"  # auto keeps a small sparse J sparse, no events
    x = np.full((50, N), DRIVE)
    net.run(x, coupling="dense", verbose=False)
    assert net.coupling_choice == "'p': dense"
    net.run(x, coupling="events", verbose=False)
    assert net.coupling_choice == "'p': events over sparse (resync 1000)"
    net.run(x, coupling="events", resync=50, verbose=False)
    assert net.coupling_choice == "'p': events over sparse (resync 50)"
    net.run(x, event_coupling=20, verbose=False)  # the older spelling
    assert net.coupling_choice == "'p': events over sparse (resync 20)"
    net.test(x, np.zeros((1, N)), coupling="sparse", verbose=False)  # one sample (sampling_steps=100)
    assert net.coupling_choice == "'p': sparse"
    dense = build(J_DENSE)
    dense.compile()
    assert dense.coupling_choice == "'p': dense"
    dense.run(x, coupling="sparse", verbose=False)
    assert dense.coupling_choice == "'p': sparse"


def test_test_takes_the_coupling_keyword(dense_run):
    x = np.full((STEPS, N), DRIVE)
    targets = np.zeros((STEPS, N))
    losses = {}
    for mode in ("dense", "sparse", "events"):
        net = build(J_CSR)
        obs, losses[mode] = net.test(x, targets, coupling=mode, resync=100, sampling_steps=1, verbose=False,
                                     record_vars=[("p", "spike", False)])
        np.testing.assert_array_equal(np.nonzero(np.array(obs[("p", "spike")])), np.nonzero(dense_run["spike"]))
    # Loss of the output s against zero targets: the same run, so the same mean within rounding.
    ref = np.mean(np.mean(dense_run["s"] ** 2, axis=1))
    for mode, value in losses.items():
        assert value == pytest.approx(ref, rel=1e-9), mode


def test_bad_coupling_mode_is_refused():
    net = build(J_CSR)
    x = np.full((10, N), DRIVE)
    with pytest.raises(InvalidArgument, match="'bogus'"):
        net.run(x, coupling="bogus", verbose=False)
    with pytest.raises(InvalidArgument, match="'nope'"):
        net.test(x, np.zeros((10, N)), coupling="nope", verbose=False)
    with pytest.raises(InvalidArgument, match="resync"):
        net.run(x, coupling="events", resync=-1, verbose=False)
    # Procedural needs equal weights; the population is named.
    with pytest.raises(InvalidArgument, match="population 'p'.*not all equal"):
        net.run(x, coupling="procedural", verbose=False)
    net.run(x, verbose=False)  # the network still runs after the refusals


def test_wrong_shape_is_refused_naming_it():
    w = sp.random(N, N - 1, density=0.05, format="csr", random_state=3)
    with pytest.raises(InvalidArgument, match=f"{N} x {N - 1}"):
        build(w)
    with pytest.raises(InvalidArgument, match=f"{N} x {N - 1}"):
        build(w.toarray())
    # N that disagrees with the weights: the same message for sparse and dense weights.
    messages = []
    for weights in (J_CSR, J_DENSE):
        with pytest.raises(InvalidArgument) as info:
            build(weights, N=N - 5)
        messages.append(str(info.value))
    assert messages[0] == messages[1]
    assert f"{N} x {N}" in messages[0]


def test_non_finite_values_are_refused():
    for bad in (np.nan, np.inf):
        w = J_CSR.copy()
        w.data[5] = bad
        with pytest.raises(InvalidArgument, match=r"population .p.: sparse weights: value 5 is (nan|inf).*finite"):
            build(w)
    w = J_CSR.astype(np.complex128)
    with pytest.raises(InvalidArgument, match="complex"):
        build(w)


def test_sparse_edge_matches_dense_edge():
    """An input layer (identity function node of 40 units) projected onto the population
    through a sparse edge, and a sparse readout: the same as the dense edges."""
    rng = np.random.default_rng(11)
    n_in = 40
    w_in = sp.random(N, n_in, density=0.1, format="coo", random_state=5) * 40.0
    w_out = sp.random(3, N, density=0.2, format="csc", random_state=6)
    x = rng.uniform(0.0, 1.0, (STEPS, n_in))
    runs = []
    for make in (lambda m: m, lambda m: m.toarray()):
        net = Network(dt=1e-3)
        net.add_func_node("in", n_in, "identity")
        net.add_diffeq_node("p", QIF, weights=make(J_CSR), node_vars={"eta": ETA + 12.0}, **VARS)
        net.add_func_node("out", 3, "identity")
        net.add_edge("in", "p", weights=make(w_in))
        net.add_edge("p", "out", weights=make(w_out))
        obs = net.run(x, record_vars=[("p", "spike", False), ("p", "v", False)], verbose=False)
        runs.append((np.array(obs["out"]), np.array(obs[("p", "spike")]), np.array(obs[("p", "v")])))
    (out_s, spk_s, v_s), (out_d, spk_d, v_d) = runs
    assert spk_d.sum() > N
    np.testing.assert_array_equal(spk_s, spk_d)
    np.testing.assert_allclose(v_s, v_d, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(out_s, out_d, rtol=1e-12, atol=1e-12)
    net = Network(dt=1e-3)
    net.add_func_node("in", n_in, "identity")
    net.add_diffeq_node("p", QIF, weights=J_CSR, node_vars={"eta": ETA}, **VARS)
    with pytest.raises(InvalidArgument, match=f"{N} x {n_in + 1}"):
        net.add_edge("in", "p", weights=sp.random(N, n_in + 1, density=0.1, format="csr"))


def test_all_to_all_weights_are_procedural():
    """The all-to-all binding: J_ij = w for all i, j, no matrix stored, against the dense J."""
    w = 0.5 / N
    params = {"eta": ETA, "v_threshold": np.array([100.0]), "v_reset": np.array([-100.0])}
    net = Network(dt=1e-3)
    net._core.add_population_all_to_all("p", N, w, params, False, "s")
    net.compile()
    assert net.coupling_choice == "'p': procedural"
    _, rec = simulate(None, net=net)
    _, ref = simulate(np.full((N, N), w))
    np.testing.assert_array_equal(rec["spike"], ref["spike"])
    np.testing.assert_allclose(rec["v"], ref["v"], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(rec["s_in"], w * rec["s"].sum(axis=1, keepdims=True) * np.ones((1, N)),
                               rtol=1e-12, atol=1e-15)


def test_qifsim_without_scipy_takes_dense_weights():
    """Dense weights do not touch SciPy: lists and arrays go the dense way, and a dense network
    is built and run without qifsim importing SciPy."""
    from qifsim import network as nw
    assert nw._sparse([[1.0, 2.0]], "w") is None
    assert nw._sparse(np.eye(2), "w") is None
    rows, cols, indptr, indices, data = nw._sparse(sp.coo_matrix(np.eye(3)), "w")
    assert (rows, cols) == (3, 3)
    assert indptr.dtype == np.int64 and indices.dtype == np.int64 and data.dtype == np.float64
    np.testing.assert_array_equal(indptr, [0, 1, 2, 3])
    code = ("import sys, numpy as np, qifsim\n"
            "net = qifsim.Network(dt=1e-3)\n"
            f"net.add_diffeq_node('p', '{QIF}', weights=np.eye(4) * 0.1, node_vars={{'eta': -4.0}}, "
            "source_var='s', target_var='s_in', input_var='I_ext', output_var='s', spike_var='spike', "
            "reset_var='v')\n"
            "net.run(np.full((100, 4), 15.0), verbose=False)\n"
            "assert 'scipy' not in sys.modules, 'qifsim imported scipy'\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
