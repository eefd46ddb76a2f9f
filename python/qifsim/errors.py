"""The exceptions qifsim raises: one per C++ exception type (qifsim/error.hpp).

Each also derives from the built-in exception a RectiPy user would catch for the same
problem (ValueError for a bad argument or graph, MemoryError, OSError, RuntimeError).
"""


class Error(Exception):
    """Base of every qifsim exception."""


class InvalidArgument(Error, ValueError):
    """A value the model or the API cannot accept (shape, range, name)."""


class GraphError(Error, ValueError):
    """The network graph does not compile (input/output-node rule, cycles, widths)."""


class MemoryBudgetError(Error, MemoryError):
    """A recording would need more memory than the budget allows; nothing was allocated."""


class IoError(Error, OSError):
    """Reading or writing a file failed."""


class BackendError(Error, RuntimeError):
    """A backend (BLAS, CUDA, cuBLAS) failed, or the asked-for backend is not usable."""


class BusyError(Error, RuntimeError):
    """A Network (or an Observer being recorded into) was used from a second thread while a
    call was in progress; a Network serves one thread at a time. Nothing was changed."""


class DivergenceError(Error, FloatingPointError):
    """The state became NaN or Inf during a run; samples recorded before it are kept."""


__all__ = ["Error", "InvalidArgument", "GraphError", "MemoryBudgetError", "IoError", "BackendError",
           "BusyError", "DivergenceError"]
