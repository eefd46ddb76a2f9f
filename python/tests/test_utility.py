"""qifsim's RectiPy utilities: coupling matrices, normalize, wta_score. The expectations come
from the definitions (counts, closed forms, binomial spreads) and from naive loops written
here; the "same draws" tests rebuild RectiPy 0.12.2's draw sequence by hand."""
import os
import subprocess
import sys

import numpy as np
import pytest

import qifsim
from qifsim import (circular_connectivity, input_connections, line_connectivity, normalize, random_connectivity,
                    wta_score)

stats = pytest.importorskip("scipy.stats")


# ---- shapes and dtypes ----------------------------------------------------------------------
def test_shapes_and_dtypes():
    np.random.seed(0)
    assert random_connectivity(7, 11, 0.3).shape == (7, 11)
    assert input_connections(9, 4, 0.5).shape == (9, 4)
    assert circular_connectivity(12, 0.25, stats.randint(1, 3)).shape == (12, 12)
    assert line_connectivity(12, 0.25, stats.randint(1, 3)).shape == (12, 12)
    for C in (random_connectivity(3, 5, 0.4, normalize=False), input_connections(5, 3, 0.4, zero_mean=False),
              circular_connectivity(6, 0.5, stats.randint(1, 3), homogeneous_weights=False),
              line_connectivity(6, 0.5, stats.randint(1, 3), homogeneous_weights=False)):
        assert isinstance(C, np.ndarray) and C.dtype == np.float64
    assert isinstance(wta_score(np.eye(3), np.eye(3)), float)
    assert qifsim.random_connectivity is random_connectivity and "wta_score" in qifsim.__all__


# ---- random_connectivity ----------------------------------------------------------------------
def test_random_connectivity_rows_and_connection_probability():
    np.random.seed(1)
    n, m, p = 4000, 20, 0.35
    k = int(m * p)  # 7
    C = random_connectivity(n, m, p, normalize=False)
    np.testing.assert_array_equal((C != 0).sum(axis=1), np.full(n, k))
    assert set(np.unique(C)) == {0.0, 1.0}
    # each column is hit in each row with probability k/m, independently over rows
    q = k / m
    sd = np.sqrt(n * q * (1 - q))
    counts = (C != 0).sum(axis=0)
    assert np.all(np.abs(counts - n * q) < 5 * sd), (counts, n * q, sd)
    # the spread over columns is the binomial one (within the sampling error of a variance)
    assert abs(counts.var(ddof=1) / sd**2 - 1.0) < 5 * np.sqrt(2.0 / (m - 1))

    Cn = random_connectivity(50, m, p)
    np.testing.assert_allclose(Cn.sum(axis=1), 1.0, rtol=1e-14)
    assert set(np.unique(Cn)) == {0.0, 1.0 / k}


def test_random_connectivity_errors():
    with pytest.raises(qifsim.InvalidArgument, match="p"):
        random_connectivity(3, 3, 1.5)
    with pytest.raises(qifsim.InvalidArgument, match="p=0.1"):
        random_connectivity(3, 5, 0.1)  # int(0.5) = 0 connections, cannot normalize
    np.testing.assert_array_equal(random_connectivity(3, 5, 0.1, normalize=False), np.zeros((3, 5)))
    with pytest.raises(qifsim.InvalidArgument, match="n"):
        random_connectivity(-1, 3, 0.5)


# ---- input_connections -------------------------------------------------------------------------
def test_input_connections_counts_scale_and_zero_mean():
    np.random.seed(2)
    n, m, p, scale = 400, 300, 0.25, 2.0
    k = int(n * p)
    W = input_connections(n, m, p, variance=scale, zero_mean=False)
    np.testing.assert_array_equal((W != 0).sum(axis=0), np.full(m, k))
    w = W[W != 0]
    # RectiPy's `variance` multiplies standard normal draws: the weights' variance is scale**2
    tol = 5 * scale**2 * np.sqrt(2.0 / (w.size - 1))
    assert abs(w.var(ddof=1) - scale**2) < tol
    assert abs(w.mean()) < 5 * scale / np.sqrt(w.size)

    W0 = input_connections(n, m, p, variance=scale, zero_mean=True)
    np.testing.assert_array_equal((W0 != 0).sum(axis=0), np.full(m, k))
    np.testing.assert_allclose(W0.sum(axis=0), 0.0, atol=1e-12)
    # subtracting the column mean leaves (k-1)/k of the variance
    w0 = W0[W0 != 0]
    expected = scale**2 * (k - 1) / k
    assert abs(w0.var() - expected) < 5 * expected * np.sqrt(2.0 / (w0.size - m))


def test_input_connections_single_connection_per_column():
    np.random.seed(3)
    W = input_connections(4, 6, 0.25, zero_mean=False)  # one row per column
    np.testing.assert_array_equal((W != 0).sum(axis=0), np.ones(6))


# ---- normalize ---------------------------------------------------------------------------------
def test_normalize_modes():
    rng = np.random.default_rng(4)
    x = rng.normal(3.0, 2.0, size=(6, 9))
    lo, hi = x.min(), x.max()
    np.testing.assert_allclose(normalize(x.copy()), (x - lo) / (hi - lo), rtol=1e-12, atol=1e-15)
    z = normalize(x.copy(), mode="zscore")
    assert abs(z.mean()) < 1e-12 and abs(z.std() - 1.0) < 1e-12
    np.testing.assert_allclose(z, (x - x.mean()) / x.std(), rtol=1e-12, atol=1e-12)
    s = normalize(np.abs(x), mode="sum")
    assert abs(s.sum() - 1.0) < 1e-12
    rows = normalize(x.copy(), mode="minmax", row_wise=True)
    for i in range(x.shape[0]):
        r = x[i]
        np.testing.assert_allclose(rows[i], (r - r.min()) / (r.max() - r.min()), rtol=1e-12, atol=1e-15)
    rows = normalize(np.abs(x), mode="sum", row_wise=True)
    np.testing.assert_allclose(rows.sum(axis=1), 1.0, rtol=1e-12)


def test_normalize_in_place_copies_and_constant_data():
    x = np.array([[1.0, 2.0], [3.0, 5.0]])
    assert normalize(x) is x and x.max() == 1.0 and x.min() == 0.0  # in place, as RectiPy
    ints = np.array([2, 4, 6])
    out = normalize(ints)
    np.testing.assert_array_equal(out, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(ints, [2, 4, 6])
    ro = np.array([1.0, 3.0])
    ro.flags.writeable = False
    np.testing.assert_array_equal(normalize(ro), [0.0, 1.0])
    np.testing.assert_array_equal(normalize([4.0, 4.0]), [0.0, 0.0])
    np.testing.assert_array_equal(normalize([4.0, 4.0], mode="zscore"), [0.0, 0.0])
    with pytest.raises(qifsim.InvalidArgument, match="mode"):
        normalize([1.0, 2.0], mode="max")
    with pytest.raises(qifsim.InvalidArgument, match="row_wise"):
        normalize([1.0, 2.0], row_wise=True)


# ---- wta_score ---------------------------------------------------------------------------------
def naive_wta(x, y):
    hits = 0
    for a, b in zip(x.tolist(), y.tolist()):
        wa = max(range(len(a)), key=lambda j: a[j])  # first index of the largest entry
        wb = max(range(len(b)), key=lambda j: b[j])
        hits += wa == wb
    return hits / len(x)


def test_wta_score():
    assert wta_score([[1, 0], [0, 1], [1, 0]], [[2, 1], [3, 0], [0.5, 0.1]]) == pytest.approx(2 / 3)
    rng = np.random.default_rng(5)
    x = rng.normal(size=(500, 4))
    y = x + rng.normal(scale=0.7, size=x.shape)
    assert wta_score(x, y) == naive_wta(x, y)
    ties = rng.integers(0, 2, size=(200, 3)).astype(float)
    assert wta_score(ties, ties[::-1]) == naive_wta(ties, ties[::-1])
    with pytest.raises(qifsim.InvalidArgument, match="rows"):
        wta_score(np.zeros((3, 2)), np.zeros((4, 2)))


# ---- circular and line connectivity --------------------------------------------------------------
def test_circular_connectivity_distances():
    np.random.seed(6)
    N, p, near = 50, 0.2, stats.randint(1, 4)  # distances 1, 2, 3
    k = int(N * p)
    for homogeneous in (True, False):
        C = circular_connectivity(N, p, near, homogeneous_weights=homogeneous)
        i, j = np.nonzero(C)
        d = np.abs(i - j)
        assert set(np.minimum(d, N - d)) <= {1, 2, 3}
        np.testing.assert_allclose(C.sum(axis=1), 1.0, rtol=1e-14)
        assert np.all((C != 0).sum(axis=1) <= 6)
        if homogeneous:
            for r in range(N):
                vals = C[r][C[r] != 0]
                np.testing.assert_allclose(vals, 1.0 / vals.size, rtol=1e-15)
        else:
            np.testing.assert_allclose(C * k, np.round(C * k), atol=1e-12)  # multiples of 1/k
    # with 50 draws per node, node 0 reaches across the seam to N-1 (and N-1 to 0)
    C = circular_connectivity(N, 1.0, stats.randint(1, 4))
    assert C[0, N - 1] > 0 and C[N - 1, 0] > 0


def test_line_connectivity_distances():
    np.random.seed(7)
    N, p, near = 50, 0.2, stats.randint(1, 4)
    for homogeneous in (True, False):
        C = line_connectivity(N, p, near, homogeneous_weights=homogeneous)
        i, j = np.nonzero(C)
        assert set(np.abs(i - j)) <= {1, 2, 3}
        assert not np.any(C[:, 0])  # RectiPy keeps sources 0 < j < N only
        sums = C.sum(axis=1)
        np.testing.assert_allclose(sums[sums > 0], 1.0, rtol=1e-14)
        assert np.count_nonzero(sums) >= N - 1


def test_spatial_errors():
    with pytest.raises(qifsim.InvalidArgument, match="spatial_distribution"):
        circular_connectivity(5, 0.5, "near")
    with pytest.raises(qifsim.InvalidArgument, match="integer distances"):
        line_connectivity(5, 0.5, stats.norm(0, 1))
    with pytest.raises(qifsim.InvalidArgument, match="p=0.1"):
        circular_connectivity(5, 0.1, stats.randint(1, 2))


# ---- the same draws as RectiPy ---------------------------------------------------------------
def rectipy_like_random(n, m, p, normalize):
    k = int(m * p)
    C = np.zeros((n, m))
    for r in range(n):
        order = np.arange(m)
        np.random.shuffle(order)  # what np.random.permutation(m) does
        for c in order[:k]:
            C[r, c] = 1.0 / k if normalize else 1.0
    return C


def draws_after(seed, make):
    np.random.seed(seed)
    value = make()
    return value, np.random.random_sample(3)  # the generator advanced by the same amount


def test_same_draws_random_connectivity():
    for normalize_rows in (True, False):
        got, after = draws_after(11, lambda: random_connectivity(6, 9, 0.4, normalize=normalize_rows))
        want, want_after = draws_after(11, lambda: rectipy_like_random(6, 9, 0.4, normalize_rows))
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(after, want_after)


def test_same_draws_input_connections():
    n, m, p, scale = 8, 5, 0.5, 1.5
    k = int(n * p)

    def reference(zero_mean):
        mask = rectipy_like_random(m, n, p, False).T  # all connectivity draws come first
        W = np.zeros((n, m))
        for c in range(m):
            rows = [r for r in range(n) if mask[r, c] > 0]
            w = np.random.randn(k) * scale
            if zero_mean:
                w = w - sum(w) / k
            for r, v in zip(rows, w):
                W[r, c] = v
        return W

    for zero_mean in (False, True):
        got, after = draws_after(12, lambda: input_connections(n, m, p, variance=scale, zero_mean=zero_mean))
        want, want_after = draws_after(12, lambda: reference(zero_mean))
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-13)
        np.testing.assert_array_equal(got != 0, want != 0)
        np.testing.assert_array_equal(after, want_after)


def spatial_reference(N, p, dist, homogeneous, circular):
    k = int(N * p)
    C = np.zeros((N, N))
    for i in range(N):
        dists = dist.rvs(size=k)  # per node: distances, then the coin for each sign
        coins = stats.bernoulli.rvs(p=0.5, loc=0, size=k)
        hits = {}
        for d, coin in zip(dists, coins):
            j = i + d if coin > 0 else i - d
            if circular:
                j = j % N
            elif not 0 < j < N:
                continue
            hits[j] = hits.get(j, 0) + 1
        drawn = sum(hits.values())
        for j, count in hits.items():
            C[i, j] = 1.0 / len(hits) if homogeneous else count / (k if circular else drawn)
    return C


@pytest.mark.parametrize("circular", [True, False])
@pytest.mark.parametrize("homogeneous", [True, False])
def test_same_draws_spatial(circular, homogeneous):
    N, p, dist = 15, 0.4, stats.binom(4, 0.5)  # distance 0 (a self-connection) is possible
    f = circular_connectivity if circular else line_connectivity
    got, after = draws_after(13, lambda: f(N, p, dist, homogeneous_weights=homogeneous))
    want, want_after = draws_after(13, lambda: spatial_reference(N, p, dist, homogeneous, circular))
    np.testing.assert_allclose(got, want, rtol=1e-15, atol=0)
    np.testing.assert_array_equal(after, want_after)


def test_imports_without_scipy():
    code = ("import sys; sys.modules['scipy'] = None\n"
            "import qifsim, numpy as np\n"
            "assert qifsim.random_connectivity(3, 4, 0.5).shape == (3, 4)\n"
            "try:\n    qifsim.circular_connectivity(4, 0.5, None)\nexcept ImportError:\n    print('no scipy')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ),
                         cwd=os.path.dirname(__file__) or ".")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "no scipy"
