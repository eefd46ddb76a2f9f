"""Argument checks and conversions of qifsim's Python layer: RectiPy's arguments (arrays,
sparse matrices, whole numbers, device and dtype names) made into what the C++ core takes,
with errors that name the argument; and how a run reads its inputs (piece by piece, read-only
meanwhile)."""

import contextlib
import sys

import numpy as np

from .errors import InvalidArgument


def _vector(values, what: str) -> np.ndarray:
    """A 1-d float64 C-contiguous array; no copy when `values` already is one."""
    a = np.ascontiguousarray(values, dtype=np.float64)
    if a.ndim != 1:
        if a.ndim == 2 and 1 in a.shape:
            return a.reshape(-1)
        raise InvalidArgument(f"{what}: expected a scalar or a 1-d array; got shape {a.shape}")
    return a


def _matrix(values, what: str) -> np.ndarray:
    """A 2-d float64 C-contiguous array; a 1-d array is taken as one column."""
    a = np.ascontiguousarray(values, dtype=np.float64)
    if a.ndim == 1:
        a = a.reshape(-1, 1)
    if a.ndim != 2:
        raise InvalidArgument(f"{what}: expected a 2-d array; got shape {a.shape}")
    return a


def _sparse_matrix(values):
    """``values`` converted with ``.tocsr()`` when it is a sparse matrix or array
    (``scipy.sparse``: CSR, CSC, COO, ..., or anything else with ``.tocsr()``), never made dense;
    None for anything else (dense weights). SciPy is looked up only when a caller has imported
    it: a SciPy sparse object cannot exist otherwise, so qifsim does not need SciPy."""
    if values is None or isinstance(values, np.ndarray):
        return None
    sparse_module = sys.modules.get("scipy.sparse")
    if sparse_module is not None and sparse_module.issparse(values):
        return values.tocsr()
    if callable(getattr(values, "tocsr", None)):
        return values.tocsr()
    return None


def _csr_arrays(m, what: str):
    """A CSR matrix as the core takes it: ``(rows, cols, indptr, indices, data)`` (int64,
    int64, float64)."""
    shape = tuple(int(d) for d in m.shape)
    if len(shape) != 2:
        raise InvalidArgument(f"{what}: expected a 2-d array; got shape {shape}")
    data = np.asarray(m.data)
    if data.dtype.kind not in "biuf":
        raise InvalidArgument(f"{what}: expected real numbers; got sparse values of dtype {data.dtype}")
    return (shape[0], shape[1], np.ascontiguousarray(m.indptr, dtype=np.int64),
            np.ascontiguousarray(m.indices, dtype=np.int64), np.ascontiguousarray(data, dtype=np.float64))


def _sparse(values, what: str):
    """``values`` as SciPy CSR arrays (``_csr_arrays``) when it is sparse (``_sparse_matrix``);
    None for dense weights."""
    m = _sparse_matrix(values)
    return None if m is None else _csr_arrays(m, what)


_INT64_MAX = 2 ** 63 - 1


def _int(value, name: str, minimum: int = 0) -> int:
    """``value`` as an int: a whole number (Python or NumPy integer, or a float with no
    fractional part) in [minimum, 2^63 - 1]; anything else is an InvalidArgument naming it."""
    if isinstance(value, (bool, np.bool_)):
        raise InvalidArgument(f"{name} must be a whole number; got {value!r}")
    if isinstance(value, (int, np.integer)):
        v = int(value)
    elif isinstance(value, (float, np.floating)) and float(value).is_integer():
        v = int(value)
    else:
        raise InvalidArgument(f"{name} must be a whole number; got {value!r}")
    if v < minimum or v > _INT64_MAX:
        raise InvalidArgument(f"{name} = {v} is out of range (it must be in [{minimum}, 2^63 - 1])")
    return v


def _rows(values, what: str) -> np.ndarray:
    """The caller's steps x width array as it is (no copy where it already is an array); a
    1-d array is one column. Runs read it piece by piece (see ``_fetcher``)."""
    a = values if isinstance(values, np.ndarray) else np.asarray(values)
    if a.ndim == 1:
        a = a.reshape(-1, 1)
    if a.ndim != 2:
        raise InvalidArgument(f"{what}: expected a 2-d array (steps x width); got shape {a.shape}")
    if a.dtype.kind not in "biuf":
        raise InvalidArgument(f"{what}: expected numbers; got an array of dtype {a.dtype}")
    return a


def _finite_rows(a: np.ndarray, what: str) -> None:
    """Refuse a NaN or Inf in ``a`` (steps x width), naming its row and column. Checked a
    block at a time (about 4 Mi values), so a large or broadcast array needs no whole
    temporary."""
    cols = min(a.shape[1], 1 << 22) or 1
    rows = max(1, (1 << 22) // cols)
    for r0 in range(0, a.shape[0], rows):
        for c0 in range(0, a.shape[1], cols):
            bad = ~np.isfinite(a[r0:r0 + rows, c0:c0 + cols])
            if bad.any():
                r, c = np.argwhere(bad)[0]
                raise InvalidArgument(f"{what} ({r0 + r}, {c0 + c}) is {a[r0 + r, c0 + c]}; they must be finite")


def _fetcher(a: np.ndarray, width: int = 0):
    """``fetch(first, count)``: rows [first, first + count) of ``a`` as a float64 C-contiguous
    copy. The engine calls it as the run consumes its inputs (a few MiB at a time), so the
    inputs are never copied whole, in whatever dtype or layout they come. With ``width``, ``a``
    is one column and each row is repeated ``width`` times (the input broadcast onto every
    neuron of the input population); only the piece fetched is widened."""
    def fetch(first: int, count: int) -> np.ndarray:
        piece = a[first:first + count]
        if width:
            piece = np.broadcast_to(piece, (piece.shape[0], width))
        return np.ascontiguousarray(piece, dtype=np.float64)
    return fetch


def _owned_by_numpy(a: np.ndarray) -> bool:
    """True when ``a`` is, or views, an array that owns its memory (NumPy can then make it
    writable again after making it read-only)."""
    while isinstance(a, np.ndarray):
        if a.base is None:
            return True
        a = a.base
    return False


@contextlib.contextmanager
def _read_only(*arrays):
    """While a run reads them, the arrays are read-only: another thread writing into them
    gets NumPy's "assignment destination is read-only" instead of changing the run's inputs
    halfway. Writability is given back afterwards, also after an error. An array that views
    memory NumPy does not own (a torch tensor through np.asarray) is left as it is: NumPy could
    not make it writable again."""
    changed = []
    try:
        for a in arrays:
            if a.flags.writeable and _owned_by_numpy(a):
                a.flags.writeable = False
                changed.append(a)
        yield
    finally:
        for a in changed:
            a.flags.writeable = True


_COUPLINGS = ("auto", "dense", "sparse", "procedural", "events")


def _mode(coupling, call: str) -> str:
    """The ``coupling`` keyword checked: one of ``_COUPLINGS``."""
    if not isinstance(coupling, str) or coupling not in _COUPLINGS:
        raise InvalidArgument(f"{call}: coupling={coupling!r} is unknown (use 'auto', 'dense', 'sparse', "
                              f"'procedural' or 'events')")
    return coupling


def _backend(device):
    """(backend, GPU index) for RectiPy's ``device`` argument: "cpu", "cuda", "cuda:N", "gpu",
    "auto", or a torch.device."""
    name = str(device).lower()
    if name == "cpu":
        return "cpu", 0
    if name in ("cuda", "gpu"):
        return "cuda", 0
    if name == "auto":
        return "auto", 0
    if name.startswith("cuda:") and name[5:].isdigit():
        return "cuda", int(name[5:])
    raise InvalidArgument(f"Network: device '{device}' is unknown (use 'cpu', 'cuda', 'cuda:N' for GPU N, or "
                          f"'auto')")


def _precision(dtype) -> str:
    name = str(dtype)
    if name.startswith("torch."):
        name = name[len("torch."):]
    else:
        try:
            name = np.dtype(dtype).name
        except TypeError:
            pass
    if name in ("float64", "double"):
        return "float64"
    if name in ("float32", "float"):
        return "float32"
    raise InvalidArgument(f"Network: dtype {dtype!r} is not supported (float64, the default, or float32)")
