"""Readout training and testing for ``qifsim.Network``: RectiPy 0.12.2's ``test``,
``fit_ridge`` and ``fit_rls`` (``Network`` holds thin methods that call these), with the
network stepped by qifsim's engine and the regression done with NumPy.

qifsim computes no gradients: RectiPy's ``fit_bptt``, ``fit_eprop`` and ``train="gd"`` are
refused with the message of ``no_gradients``.
"""

import sys

import numpy as np

from . import _qifsim
from .errors import Error, InvalidArgument, MemoryBudgetError
from .losses import Loss
from ._convert import _finite_rows, _int, _rows
from .observer import Observer

_CHUNK_BYTES = 64 << 20  # what fit_ridge records per chunk when it keeps no outputs
_ROW_BLOCK = 1 << 15  # rows per block of the normal equations' products


def no_gradients(call: str) -> InvalidArgument:
    """The error for RectiPy's gradient-descent training (``fit_bptt``, ``fit_eprop``,
    ``add_edge(train="gd")``), which qifsim does not do."""
    return InvalidArgument(f"{call}: qifsim does not support gradient-descent training (it computes no "
                           f"gradients); train a readout with fit_ridge (ridge regression) or fit_rls "
                           f"(recursive least squares, add_edge(..., train='rls'))")


def sample_steps(steps: int, sampling_steps: int, cutoff: int) -> np.ndarray:
    """The steps ``run`` takes a sample at: ``t >= cutoff`` and ``t % sampling_steps == 0``."""
    first = -(-cutoff // sampling_steps) * sampling_steps
    return np.arange(first, steps, sampling_steps, dtype=np.int64)


class SampleWindows:
    """Turns a per-step series into what ``run`` records for it: at every sample step, the
    mean over the steps since the previous sample (from ``cutoff`` for the first). Fed in
    consecutive pieces (``push``); a window may span pieces."""

    def __init__(self, sampling_steps: int, cutoff: int, width: int):
        self.sampling_steps, self.cutoff, self.width = sampling_steps, cutoff, width
        self._sum = np.zeros(width)
        self._count = 0

    def push(self, first: int, rows) -> tuple:
        """``rows``: the values of steps ``first, first + 1, ...``. Returns ``(steps, means)``
        of the samples whose windows close within them."""
        end = first + len(rows)
        start = max(first, self.cutoff)
        none = (np.empty(0, dtype=np.int64), np.empty((0, self.width)))
        if start >= end:
            return none
        rows = np.asarray(rows[start - first:], dtype=np.float64).reshape(end - start, self.width)
        ss = self.sampling_steps
        steps = np.arange(-(-start // ss) * ss, end, ss, dtype=np.int64)
        if steps.size == 0:
            self._sum += rows.sum(axis=0)
            self._count += rows.shape[0]
            return none
        ends = steps - start + 1  # window i covers rows [ends[i-1], ends[i])
        sums = np.add.reduceat(rows[:ends[-1]], np.r_[0, ends[:-1]], axis=0)
        counts = np.diff(np.r_[0, ends]).astype(np.float64)
        sums[0] += self._sum
        counts[0] += self._count
        tail = rows[ends[-1]:]
        self._sum, self._count = tail.sum(axis=0), tail.shape[0]
        return steps, sums / counts[:, None]


class NormalEquations:
    """``X^T X`` and ``X^T Y`` summed over blocks of rows, and the ridge solution
    ``(X^T X + alpha I)^-1 X^T Y``."""

    def __init__(self, n: int, k: int):
        self.xtx = np.zeros((n, n))
        self.xty = np.zeros((n, k))
        self.rows = 0

    def add(self, X: np.ndarray, Y: np.ndarray) -> None:
        for a in range(0, X.shape[0], _ROW_BLOCK):
            x = np.asarray(X[a:a + _ROW_BLOCK], dtype=np.float64)
            self.xtx += x.T @ x
            self.xty += x.T @ np.asarray(Y[a:a + _ROW_BLOCK], dtype=np.float64)
        self.rows += X.shape[0]

    def solve(self, alpha: float) -> np.ndarray:
        """The n x k weights (LAPACK's LU solve; the least-squares solution of minimal norm,
        also LAPACK's, where the regularised matrix is singular)."""
        a = self.xtx + alpha * np.eye(self.xtx.shape[0])
        try:
            return np.linalg.solve(a, self.xty)
        except np.linalg.LinAlgError:
            return np.linalg.lstsq(a, self.xty, rcond=None)[0]


class RLS:
    """The state of an edge trained by recursive least squares, as RectiPy's ``RLS`` edge
    (rectipy/edges.py): ``weights`` (k x n), ``P`` (n x n, starts as ``alpha * I``), the
    forgetting factor ``beta`` (0 < beta <= 1) and ``loss`` (the last update's squared error).

    ``update(x, y, y_hat)`` with source output x, target y and the target node's output
    y_hat::

        z = P x / beta;   g = 1 / (1 + x.z)
        weights += g (y - weights x) z^T;   P -= g z z^T;   loss = |y - y_hat|^2

    RectiPy writes the weight step as ``(y - g x (W + y z^T)^T) z^T``, which is the same
    ``g (y - W x) z^T``. Its P step lacks the 1/beta of the textbook RLS with forgetting
    (Haykin: ``P = P / beta - g z z^T``); the two agree for beta = 1, and qifsim does as
    RectiPy.
    """

    def __init__(self, weights, beta: float = 1.0, alpha: float = 1.0):
        beta, alpha = float(beta), float(alpha)
        if not 0.0 < beta <= 1.0:
            raise InvalidArgument(f"RLS: beta = {beta}: the forgetting factor must be in (0, 1]")
        if not alpha >= 0.0 or not np.isfinite(alpha):
            raise InvalidArgument(f"RLS: alpha = {alpha}: P starts as alpha * I; alpha must be >= 0")
        self.weights = np.array(weights, dtype=np.float64)
        if self.weights.ndim != 2:
            raise InvalidArgument(f"RLS: weights must be a k x n array; got shape {self.weights.shape}")
        self.beta, self.alpha = beta, alpha
        self.P = alpha * np.eye(self.weights.shape[1])
        self.loss = 0.0

    def update(self, x, y, y_hat) -> None:
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        z = (self.P @ x) / self.beta
        g = 1.0 / (1.0 + x @ z)
        self.weights += np.outer(g * (y - self.weights @ x), z)
        self.P -= g * np.outer(z, z)
        error = y - np.asarray(y_hat, dtype=np.float64)
        self.loss = float(error @ error)


def activate(activation: str, x: np.ndarray) -> np.ndarray:
    """A function node's activation applied to its summed input (over its n units)."""
    if activation == "identity":
        return x
    if activation == "tanh":
        return np.tanh(x)
    if activation == "sigmoid":
        return 1.0 / (1.0 + np.exp(-x))
    if activation in ("softmax", "softmin", "log_softmax"):
        s = -x if activation == "softmin" else x
        shifted = s - np.max(s)
        if activation == "log_softmax":
            return shifted - np.log(np.sum(np.exp(shifted)))
        e = np.exp(shifted)
        return e / np.sum(e)
    raise InvalidArgument(f"activation '{activation}' is unknown")


def _record_vars(obs: Observer, net) -> list:
    return [net.get_var(node, var) for node, var in obs.recorded_state_variables]


# ---- test ------------------------------------------------------------------------------------
def sample_targets(y: np.ndarray, fn: Loss, steps: int, sampling_steps: int, cutoff: int) -> np.ndarray:
    """``test``'s targets as it scores them: one row per sample. Targets with one row per step
    (``steps`` rows, where that is not also the number of samples) are reduced over each
    sample's window as the outputs are: their mean over the steps since the previous sample
    (from ``cutoff`` for the first). Class indices (nll, ce: one integer per step) must be the
    same over each window, and that one class is taken. Targets of one row per sample are
    returned as given; a 2-d target (or class indices) with any other number of rows is
    refused naming both; anything else is left to the loss (torch's broadcasting)."""
    taken = sample_steps(steps, sampling_steps, cutoff)
    samples = taken.size
    if y.ndim == 0:
        return y
    rows = y.shape[0]
    classes = fn.name in ("nll", "ce") and y.ndim == 1
    if (y.ndim == 2 or classes) and rows not in (samples, steps) and not (rows == 1 and not classes):
        word = "rows" if y.ndim == 2 else "values"
        raise InvalidArgument(
            f"test: targets have {rows} {word}; give one per sample ({samples}: the steps t >= cutoff = {cutoff} "
            f"with t % sampling_steps == 0, sampling_steps = {sampling_steps}) or one per step ({steps}, the "
            f"inputs' rows, averaged over each sample's window as the outputs are)")
    if rows != steps or steps == samples:
        return y
    if classes:
        starts = np.r_[cutoff, taken[:-1] + 1]
        window = y[cutoff:taken[-1] + 1]
        mixed = np.flatnonzero(np.maximum.reduceat(window, starts - cutoff) !=
                               np.minimum.reduceat(window, starts - cutoff))
        if mixed.size:
            i = mixed[0]
            raise InvalidArgument(
                f"test: {fn.name} targets given per step are class indices: each sample's window must hold one "
                f"class; sample {i} (steps {starts[i]}..{taken[i]}) holds several (give one class per sample, or "
                f"one per step constant over each window)")
        return y[taken]
    width = int(np.prod(y.shape[1:], dtype=np.int64))
    _, means = SampleWindows(sampling_steps, cutoff, width).push(0, y.reshape(steps, width))
    return means.reshape((samples,) + y.shape[1:])


def test(net, inputs, targets, loss: str, loss_kwargs, sampling_steps, verbose: bool, cutoff, record_output: bool,
         record_loss: bool, record_vars, run_kwargs: dict):
    """``Network.test``: run, then one loss of the recorded outputs (samples x n_out) against
    ``targets``: one row per sample as given, or one row per step reduced over each sample's
    window as the outputs are (``sample_targets``). Returns ``(observer, loss)``."""
    fn = Loss(loss, loss_kwargs)
    if fn.reduction == "none":
        raise InvalidArgument("test: loss_kwargs reduction='none' gives one loss per element; test returns one "
                              "number (use 'mean' or 'sum')")
    ss = _int(sampling_steps, "test: sampling_steps", 1)
    c = _int(cutoff, "test: cutoff")
    steps = _rows(inputs, "test: inputs").shape[0]
    samples = sample_steps(steps, ss, c).size
    if samples == 0:
        raise InvalidArgument(f"test: no sample is taken (cutoff = {c}, {steps} steps); the loss needs at least one")
    given = np.asarray(targets)
    y = sample_targets(given, fn, steps, ss, c)
    net.compile()
    fn.check((samples, net.n_out), y, given=None if y is given else
             f"targets of shape {given.shape} (one row per step; {y.shape} averaged over each sample's window)")
    run = net.run(inputs, ss, c, record_output=True, record_loss=False, record_vars=record_vars, verbose=verbose,
                  **run_kwargs)
    out = run["out"]
    value = fn(out, y)
    if record_output and not record_loss:
        return run, value
    per_sample = fn.per_sample(out, y) if record_loss else None
    obs = Observer(net.dt, record_output=record_output, record_loss=record_loss, record_vars=record_vars)
    obs._models = run._models
    series = [run[key] for key in run.recorded_state_variables]
    for i, step in enumerate(run.steps):
        obs.record(int(step), out[i] if record_output else None, per_sample[i] if record_loss else 0.0,
                   [s[i] for s in series])
    return obs, value


# ---- ridge regression ---------------------------------------------------------------------------
def fit_ridge(net, inputs, targets, sampling_steps, alpha, verbose: bool, add_readout_node: bool, cutoff,
              record_output: bool, record_vars, obs, chunk_steps, run_kwargs: dict) -> Observer:
    """``Network.fit_ridge`` (see there)."""
    x = _rows(inputs, "fit_ridge: inputs")
    y = _rows(targets, "fit_ridge: targets")
    if x.shape[0] != y.shape[0]:
        raise InvalidArgument(f"fit_ridge: targets have {y.shape[0]} rows; the inputs have {x.shape[0]} (one target "
                              f"row per step)")
    ss = _int(sampling_steps, "fit_ridge: sampling_steps", 1)
    c = _int(cutoff, "fit_ridge: cutoff")
    alpha = float(alpha)
    if not (alpha >= 0.0 and np.isfinite(alpha)):
        raise InvalidArgument(f"fit_ridge: alpha = {alpha} must be >= 0")
    net.compile()
    source = net._core.output_node
    n, k, steps = net.n_out, y.shape[1], x.shape[0]
    if obs is None:
        obs = Observer(net.dt, record_output=record_output, record_loss=False, record_vars=record_vars)
    elif obs.record_loss:
        raise InvalidArgument("fit_ridge: the Observer records a loss; fit_ridge has none (record_loss=False)")
    # The accumulators (X^T X, X^T Y and their solve's copies, the prediction y) against the
    # memory budget before anything is allocated or run.
    need = 8.0 * (2.0 * n * n + 3.0 * n * k + 2.0 * k)
    if obs.record_output:
        need += 8.0 * k * (steps // ss + 1)
    budget = run_kwargs.get("memory_budget") or _qifsim.default_memory_budget()
    if need > budget:
        raise MemoryBudgetError(f"fit_ridge: the normal equations for {n} outputs and {k} targets would take "
                                f"{need / 2**30:.3g} GiB, more than the memory budget of {budget / 2**30:.3g} GiB "
                                f"(memory_budget=)")
    _finite_rows(y, "fit_ridge: targets")  # before the run, not in the readout's weights after it
    targets_sampled = SampleWindows(ss, c, k)
    eqs = NormalEquations(n, k)
    if obs.record_output:
        before = len(obs)
        net.run(x, ss, c, verbose=verbose, obs=obs, **run_kwargs)
        X = obs["out"][before:]
        done = 0
        for a in range(0, steps, _ROW_BLOCK):
            _, Y = targets_sampled.push(a, y[a:a + _ROW_BLOCK])
            eqs.add(X[done:done + Y.shape[0]], Y)
            done += Y.shape[0]
        w_out = eqs.solve(alpha)
        obs.save("y", X @ w_out)
    else:
        triples = obs._core.recorded_state_variables()
        widths = sum(1 if mean else net.get_node(node).n_out for node, _, mean in triples)
        chunk = _int(chunk_steps, "fit_ridge: chunk_steps", 1) if chunk_steps else \
            max(1, _CHUNK_BYTES // (8 * (n + k + widths)))
        outputs_sampled = SampleWindows(ss, c, n)
        try:
            for a in range(0, steps, chunk):
                b = min(steps, a + chunk)
                if verbose and chunk < steps:
                    print(f"fit_ridge: steps {a}..{b - 1} of {steps}", file=sys.stderr)
                part = net.run(x[a:b], 1, 0, record_output=True, record_loss=False, record_vars=triples,
                               verbose=False, **run_kwargs)
                taken, X = outputs_sampled.push(a, part["out"])
                _, Y = targets_sampled.push(a, y[a:b])
                eqs.add(X, Y)
                series = [part[(node, var)] for node, var, _ in triples]
                for step in taken:
                    obs.record(int(step), None, 0.0, [s[step - a] for s in series])
        except (KeyboardInterrupt, Error) as e:
            e.observer = obs
            raise
        w_out = eqs.solve(alpha)
    obs.save("w_out", w_out)
    if add_readout_node:
        net.add_func_node("readout", k, activation_function="identity")
        try:
            net.add_edge(source, "readout", weights=w_out)  # n x k: taken as its transpose, k x n
        except Error:
            net.pop_node("readout")  # the network as it was: no readout without its edge
            raise
    return obs


# ---- recursive least squares --------------------------------------------------------------------
def _next(t: int, every: int) -> int:
    return -(-t // every) * every


def _rls_pass(net, source: str, activation: str, rls: RLS, x, y, update_steps: int, sampling_steps=None,
              obs=None) -> None:
    """RectiPy's RLS loop over the rows of ``x``: at every step the network steps once; at
    steps ``t % update_steps == 0`` the edge is updated with the source's output, ``y[t]`` and
    the target node's output; at steps ``t % sampling_steps == 0`` the output (the target's,
    before the update), the loss (after it) and the variables are recorded. Steps nobody
    looks at run in one engine run (no Python per step)."""
    steps = x.shape[0]
    t = 0
    while t < steps:
        ahead = _next(t, update_steps)
        if sampling_steps is not None:
            ahead = min(ahead, _next(t, sampling_steps))
        ahead = min(ahead, steps)
        if ahead > t:
            # one engine run (its single empty sample is dropped)
            net.run(x[t:ahead], ahead - t, 0, record_output=False, record_loss=False, verbose=False)
            t = ahead
            continue
        net.forward(x[t])
        xs = net.get_var(source, "out")
        y_hat = activate(activation, rls.weights @ xs)
        if t % update_steps == 0:
            rls.update(xs, y[t], y_hat)
        if sampling_steps is not None and t % sampling_steps == 0:
            obs.record(t, y_hat, rls.loss, _record_vars(obs, net))
        t += 1


def fit_rls(net, edge: tuple, inputs, targets, update_steps, sampling_steps, verbose: bool, record_output: bool,
            record_loss: bool, record_vars) -> Observer:
    """``Network.fit_rls`` (see there). ``edge``: ``(source, target, activation, rls)`` of the
    trained edge, whose target is the network's output node and takes no other input."""
    source, target, activation, rls = edge
    us = _int(update_steps, "fit_rls: update_steps", 1)
    ss = _int(sampling_steps, "fit_rls: sampling_steps", 1)
    k = rls.weights.shape[0]
    obs = Observer(net.dt, record_output=record_output, record_loss=record_loss, record_vars=record_vars)
    epochs = isinstance(inputs, list)
    pairs = list(zip(inputs, targets)) if epochs else [(inputs, targets)]
    if epochs and len(inputs) != len(targets):
        raise InvalidArgument(f"fit_rls: {len(inputs)} input epochs but {len(targets)} target epochs")
    checked = []
    for i, (x, y) in enumerate(pairs):
        what = f"fit_rls: epoch {i}: " if epochs else "fit_rls: "
        x, y = _rows(x, what + "inputs"), _rows(y, what + "targets")
        if x.shape[0] != y.shape[0]:
            raise InvalidArgument(f"{what}targets have {y.shape[0]} rows; the inputs have {x.shape[0]} (one per step)")
        if y.shape[1] != k:
            raise InvalidArgument(f"{what}targets have {y.shape[1]} columns; the edge '{source}' -> '{target}' "
                                  f"has {k} outputs")
        _finite_rows(y, what + "targets")
        checked.append((x, y))
    net.compile()
    try:
        if not epochs:
            x, y = checked[0]
            _rls_pass(net, source, activation, rls, x, y, us, ss, obs)
        else:
            start = net.state
            epoch_loss = []
            for i, (x, y) in enumerate(checked):
                _rls_pass(net, source, activation, rls, x, y, us)
                epoch_loss.append(rls.loss)
                net.reset(start)
                if verbose:
                    print(f"fit_rls: epoch {i + 1}/{len(checked)}, loss {rls.loss}", file=sys.stderr)
            obs.save("epoch_loss", epoch_loss)
            obs.save("epochs", np.arange(len(checked)))
    except (KeyboardInterrupt, Error) as e:
        e.observer = obs
        raise
    net._set_edge_weights(source, target, rls.weights)
    return obs
