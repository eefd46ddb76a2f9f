"""RectiPy's utility functions (``rectipy.utility``): coupling matrices and helpers.

The random matrices are drawn from NumPy's global generator (``np.random``) with the same
calls, in the same order, as RectiPy 0.12.2, so a script seeded with ``np.random.seed`` gets
the same matrices. SciPy is imported only by ``circular_connectivity`` and
``line_connectivity``, whose spatial distribution is a ``scipy.stats`` object.
"""

import numpy as np

from .errors import InvalidArgument


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
