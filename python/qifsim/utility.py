"""RectiPy's utility functions (``rectipy.utility``): coupling matrices and helpers.

The random matrices are drawn from NumPy's global generator (``np.random``) with the same
calls, in the same order, as RectiPy 0.12.2, so a script seeded with ``np.random.seed`` gets
the same matrices. SciPy is imported only by ``circular_connectivity`` and
``line_connectivity``, whose spatial distribution is a ``scipy.stats`` object.
"""

import numpy as np

from .errors import InvalidArgument, MemoryBudgetError


def _count(value, what: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 0:
        raise InvalidArgument(f"{what}: expected a non-negative integer; got {value!r}")
    return int(value)


def _probability(p, what: str) -> float:
    try:
        p = float(p)
    except (TypeError, ValueError):
        raise InvalidArgument(f"{what}: expected a number in [0, 1]; got {p!r}") from None
    if not 0.0 <= p <= 1.0:
        raise InvalidArgument(f"{what}: expected a number in [0, 1]; got {p}")
    return p


def random_connectivity(n: int, m: int, p: float, normalize: bool = True) -> np.ndarray:
    """A random coupling matrix (n x m, float64) with ``int(m * p)`` connections per row.

    As RectiPy: for every row, ``np.random.permutation(m)`` is drawn and its first
    ``int(m * p)`` entries are the connected columns; their weight is ``1 / int(m * p)``
    (rows sum to 1) when ``normalize``, else 1.

    Raises InvalidArgument for ``p`` outside [0, 1], and when ``normalize`` is asked for a
    ``p`` that gives no connection per row (RectiPy divides by zero there).
    """
    n, m = _count(n, "random_connectivity: n"), _count(m, "random_connectivity: m")
    p = _probability(p, "random_connectivity: p")
    k = int(m * p)
    if normalize and k == 0 and n > 0:
        raise InvalidArgument(f"random_connectivity: p={p} gives int(m * p) = 0 connections per row; "
                              f"normalize=True needs at least one")
    from . import _qifsim
    need, budget = 8.0 * n * m, _qifsim.default_memory_budget()
    if need > budget:
        raise MemoryBudgetError(
            f"random_connectivity: the dense {n} x {m} matrix would take {need / 2**30:.1f} GiB, over the memory "
            f"budget of {budget / 2**30:.1f} GiB (half this machine's memory); for a sparse matrix use "
            f"qifsim.fixed_indegree({n}, {m}, k={k}) (k partners per row, as here) or "
            f"qifsim.sparse_random({n}, {m}, p={p}), which return scipy.sparse CSR matrices")
    C = np.zeros((n, m))
    weight = 1.0 / k if normalize else 1.0
    for row in range(n):
        C[row, np.random.permutation(m)[:k]] = weight
    return C


def input_connections(n: int, m: int, p: float, variance: float = 1.0, zero_mean: bool = True) -> np.ndarray:
    """Random input weights (n x m, float64): ``int(n * p)`` nonzero entries per column.

    As RectiPy: the connected rows come from ``random_connectivity(m, n, p, normalize=False)``
    (transposed), then each column's weights are drawn in turn as ``np.random.randn(k) *
    variance``; so ``variance`` scales the weights (it is their standard deviation). With
    ``zero_mean`` each column's mean over its connected rows is subtracted, so the column
    sums to 0 (up to rounding).

    Where ``int(n * p)`` is 1, RectiPy fails on a 0-d index; qifsim gives the one weight.
    """
    n, m = _count(n, "input_connections: n"), _count(m, "input_connections: m")
    _probability(p, "input_connections: p")
    connected = random_connectivity(m, n, p, normalize=False).T
    C = np.zeros_like(connected)
    for col in range(m):
        rows = np.flatnonzero(connected[:, col] > 0)
        C[rows, col] = np.random.randn(rows.size) * variance
        if zero_mean and rows.size > 0:
            C[rows, col] -= np.sum(C[:, col]) / rows.size
    return C


def _spatial_draws(spatial_distribution, k: int) -> np.ndarray:
    """``k`` signed distances: magnitudes from the distribution, then signs from a fair coin
    (``scipy.stats.bernoulli``), both from NumPy's global generator as in RectiPy."""
    from scipy.stats import bernoulli

    rvs = getattr(spatial_distribution, "rvs", None)
    if not callable(rvs):
        raise InvalidArgument("spatial_distribution: expected a scipy.stats discrete distribution "
                              f"(an object with rvs); got {type(spatial_distribution).__name__}")
    distances = np.asarray(rvs(size=k))
    coins = np.asarray(bernoulli.rvs(p=0.5, loc=0, size=k))
    if distances.shape != (k,) or (distances.dtype.kind not in "iu" and np.any(distances != np.round(distances))):
        raise InvalidArgument(f"spatial_distribution: rvs(size={k}) must give {k} integer distances; "
                              f"got {distances.dtype} values of shape {distances.shape}")
    return distances.astype(np.int64) * np.where(coins > 0, 1, -1)


def _fill_row(C: np.ndarray, row: int, sources: np.ndarray, homogeneous: bool, total: int) -> None:
    """Weights of one row: ``1 / (distinct sources)`` each when ``homogeneous``, else the
    number of times each source was drawn over ``total``."""
    unique, counts = np.unique(sources, return_counts=True)
    if unique.size == 0:
        return
    C[row, unique] = 1.0 / unique.size if homogeneous else counts / total


def circular_connectivity(N: int, p: float, spatial_distribution, homogeneous_weights: bool = True) -> np.ndarray:
    """Coupling matrix (N x N, float64) of N nodes on a circle.

    As RectiPy: each row (node) ``i`` draws ``k = int(N * p)`` distances with
    ``spatial_distribution.rvs(size=k)`` (a ``scipy.stats.rv_discrete``) and then ``k`` signs
    with ``scipy.stats.bernoulli.rvs(p=0.5, size=k)``; its inputs come from the nodes
    ``i + sign * distance`` around the circle. With ``homogeneous_weights`` every distinct
    source gets ``1 / (number of distinct sources)`` (repeated draws count once, so the actual
    connection probability is at most ``p``); otherwise a source gets the fraction of the ``k``
    draws that hit it. Rows sum to 1.

    Differs from RectiPy only where RectiPy fails or double counts: ``p`` with
    ``int(N * p) = 0`` is refused when weights are homogeneous (RectiPy divides by zero), and
    distances of N or more wrap around the circle as often as needed.
    """
    N = _count(N, "circular_connectivity: N")
    p = _probability(p, "circular_connectivity: p")
    k = int(N * p)
    if homogeneous_weights and k == 0 and N > 0:
        raise InvalidArgument(f"circular_connectivity: p={p} gives int(N * p) = 0 connections per node")
    C = np.zeros((N, N))
    for i in range(N):
        sources = np.mod(i + _spatial_draws(spatial_distribution, k), N)
        _fill_row(C, i, sources, homogeneous_weights, k)
    return C


def line_connectivity(N: int, p: float, spatial_distribution, homogeneous_weights: bool = True) -> np.ndarray:
    """Coupling matrix (N x N, float64) of N nodes on a line.

    Draws as ``circular_connectivity`` (distances, then signs, row by row); the sources
    ``i + sign * distance`` outside the line are dropped. As in RectiPy 0.12.2 the kept
    sources are those with ``0 < index < N``, so node 0 is never a source. With
    ``homogeneous_weights`` every distinct kept source gets ``1 / (number of distinct kept
    sources)``; otherwise the fraction of the kept draws that hit it.

    A row whose draws all fall off the line stays zero (RectiPy divides by zero there), and
    ``int(N * p) = 0`` with homogeneous weights is refused.
    """
    N = _count(N, "line_connectivity: N")
    p = _probability(p, "line_connectivity: p")
    k = int(N * p)
    if homogeneous_weights and k == 0 and N > 0:
        raise InvalidArgument(f"line_connectivity: p={p} gives int(N * p) = 0 connections per node")
    C = np.zeros((N, N))
    for i in range(N):
        sources = i + _spatial_draws(spatial_distribution, k)
        sources = sources[(sources > 0) & (sources < N)]
        _fill_row(C, i, sources, homogeneous_weights, sources.size)
    return C


def _normalize_flat(x: np.ndarray, mode: str) -> None:
    if x.size == 0:
        return
    if mode == "minmax":
        x -= np.min(x)
        top = np.max(x)
        if top > 0:
            x /= top
    elif mode == "zscore":
        std = np.std(x)
        x -= np.mean(x)
        if std > 0:
            x /= std
    else:
        total = np.sum(x)
        if total != 0:
            x /= total


def normalize(x, mode: str = "minmax", row_wise: bool = False) -> np.ndarray:
    """Normalize a matrix (or each of its rows with ``row_wise``) and return it.

    ``mode``: ``"minmax"`` (minimum 0, maximum 1), ``"zscore"`` (mean 0, standard deviation 1)
    or ``"sum"`` (sum 1). As in RectiPy, a writable floating-point NumPy array is normalized in
    place and returned; anything else (integers, a read-only view, a list or a torch tensor)
    is first copied into a new float64 array. Constant data is only shifted (minmax, zscore),
    and data summing to 0 is left as it is (``"sum"``; RectiPy gives inf or NaN there).

    Differs from RectiPy 0.12.2 for NumPy input with ``"minmax"``: RectiPy divides by the
    maximum taken before the minimum is subtracted, so its maximum is 1 only when the minimum
    is 0; qifsim gives the documented [0, 1] range.
    """
    if mode not in ("minmax", "zscore", "sum"):
        raise InvalidArgument(f"normalize: mode must be 'minmax', 'zscore' or 'sum'; got {mode!r}")
    if not (isinstance(x, np.ndarray) and x.dtype.kind == "f" and x.flags.writeable):
        x = np.array(x, dtype=np.float64)
    if row_wise:
        if x.ndim != 2:
            raise InvalidArgument(f"normalize: row_wise needs a 2-d x; got shape {x.shape}")
        for row in x:
            _normalize_flat(row, mode)
    else:
        _normalize_flat(x, mode)
    return x


def wta_score(x, y) -> float:
    """Winner-takes-all score: the fraction of rows (samples) whose largest entry sits in the
    same column in ``x`` and ``y`` (both samples x features), as RectiPy."""
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 2 or y.ndim != 2:
        raise InvalidArgument(f"wta_score: x and y must be 2-d (samples x features); got shapes {x.shape} and {y.shape}")
    if x.shape[0] != y.shape[0] or x.shape[0] == 0:
        raise InvalidArgument(f"wta_score: x and y need the same, nonzero number of rows; got {x.shape[0]} and {y.shape[0]}")
    if x.shape[1] == 0 or y.shape[1] == 0:
        raise InvalidArgument(f"wta_score: x and y need at least one column; got shapes {x.shape} and {y.shape}")
    return float(np.mean(np.argmax(x, axis=1) == np.argmax(y, axis=1)))


__all__ = ["random_connectivity", "input_connections", "circular_connectivity", "line_connectivity", "normalize",
           "wta_score"]


def _distribution(values, call: str):
    """(kind, a, b) for the core from a config-style value spec: a number (every nonzero
    weight), or a dict ``{"kind": "uniform", "low", "high"}``, ``{"kind": "normal", "mean",
    "std"}`` or ``{"kind": "constant", "value"}``."""
    if isinstance(values, dict):
        spec = dict(values)
        kind = spec.pop("kind", None)
        keys = {"uniform": ("low", "high"), "normal": ("mean", "std"), "constant": ("value",)}
        if kind not in keys:
            raise InvalidArgument(f"{call}: values['kind'] must be 'uniform', 'normal' or 'constant'; got {kind!r}")
        if set(spec) != set(keys[kind]):
            raise InvalidArgument(f"{call}: values of kind '{kind}' take {', '.join(keys[kind])}; got "
                                  f"{', '.join(sorted(spec)) or 'none'}")
        a = float(spec[keys[kind][0]])
        b = float(spec[keys[kind][1]]) if len(keys[kind]) > 1 else 0.0
        if kind == "uniform" and not b >= a:
            raise InvalidArgument(f"{call}: values: high must be >= low")
        if kind == "normal" and not b >= 0.0:
            raise InvalidArgument(f"{call}: values: std must be >= 0")
        return kind, a, b
    try:
        return "constant", float(values), 0.0
    except (TypeError, ValueError):
        raise InvalidArgument(f"{call}: values must be a number or a dict with 'kind'; got {values!r}") from None


def _csr(n_target: int, n_source: int, arrays):
    import scipy.sparse
    indptr, indices, data = arrays
    return scipy.sparse.csr_matrix((data, indices, indptr), shape=(n_target, n_source), copy=False)


def fixed_indegree(n_target: int, n_source: int, k: int, values=1.0, seed: int = 0, autapses=None):
    """A sparse coupling matrix (``scipy.sparse.csr_matrix``, n_target x n_source, float64) with
    exactly ``k`` nonzero entries in every row, at distinct columns drawn uniformly: row i holds
    the weights onto target neuron i from its k presynaptic partners. The same matrix as a
    config's ``weights = { kind = "fixed_indegree", k, values, seed, autapses }`` for the same
    arguments (qifsim's own generator, not NumPy's: drawn in C++ on all threads, in blocks of
    4096 rows, O(n_target * k) time and memory; README "Config files").

    ``values``: every weight (a number), or ``{"kind": "uniform", "low": .., "high": ..}``,
    ``{"kind": "normal", "mean": .., "std": ..}``. ``autapses``: whether row i may take column
    i; None means False for a square matrix (a population's J) and True otherwise (no neuron is
    both). A 1e5-neuron network with 100 partners each takes 12 MB per million synapses::

        J = qifsim.fixed_indegree(100_000, 100_000, k=100, values=15.0 / 100, seed=1)
        net.add_diffeq_node("qif", "qif", weights=J, ...)
    """
    call = "fixed_indegree"
    n_target, n_source = _count(n_target, f"{call}: n_target"), _count(n_source, f"{call}: n_source")
    k = _count(k, f"{call}: k")
    square = n_target == n_source
    autapses = (not square) if autapses is None else bool(autapses)
    if not autapses and not square:
        raise InvalidArgument(f"{call}: autapses=False needs a square matrix (n_target == n_source); got "
                              f"({n_target}, {n_source})")
    from . import _qifsim
    kind, a, b = _distribution(values, call)
    return _csr(n_target, n_source, _qifsim.fixed_indegree_csr(n_target, n_source, k, kind, a, b,
                                                               _count(seed, f"{call}: seed"), autapses))


def sparse_random(n_target: int, n_source: int, p: float, values=1.0, seed: int = 0):
    """A sparse random matrix (``scipy.sparse.csr_matrix``, n_target x n_source, float64) whose
    entries are nonzero with probability ``p``, independently (Erdos-Renyi): the same matrix as a
    config's ``weights = { kind = "sparse", p, values, seed }`` for the same arguments (drawn in
    C++, in blocks of 4096 rows, O(p * n_target * n_source) time and memory). ``values`` as for
    ``fixed_indegree``."""
    call = "sparse_random"
    n_target, n_source = _count(n_target, f"{call}: n_target"), _count(n_source, f"{call}: n_source")
    p = _probability(p, f"{call}: p")
    from . import _qifsim
    kind, a, b = _distribution(values, call)
    return _csr(n_target, n_source, _qifsim.sparse_matrix_csr(n_target, n_source, p, kind, a, b,
                                                              _count(seed, f"{call}: seed")))
