"""``qifsim.Network``: RectiPy's Network interface over qifsim's C++ engine.

The names, arguments and defaults are RectiPy's (``rectipy.Network``); the work is done by
the C++ library (``qifsim._qifsim.Network``). What RectiPy does through PyTorch and PyRates
and qifsim does not (training, other neuron models) is refused with a message saying so.
"""

import contextlib
import signal
import sys
import threading
from typing import Optional

import numpy as np

from . import _qifsim, _templates
from .errors import BackendError, Error, InvalidArgument
from .observer import Observer, var_name


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


def _sparse(values, what: str):
    """``values`` as SciPy CSR arrays ``(rows, cols, indptr, indices, data)`` (int64, int64,
    float64) when it is a sparse matrix or array (``scipy.sparse``: CSR, CSC, COO, ..., or anything
    else with ``.tocsr()``), converted with ``.tocsr()`` and never made dense; None for anything
    else (dense weights). SciPy is looked up only when a caller has imported it: a SciPy sparse
    object cannot exist otherwise, so qifsim does not need SciPy."""
    if values is None or isinstance(values, np.ndarray):
        return None
    sparse_module = sys.modules.get("scipy.sparse")
    if sparse_module is not None and sparse_module.issparse(values):
        m = values.tocsr()
    elif callable(getattr(values, "tocsr", None)):
        m = values.tocsr()
    else:
        return None
    shape = tuple(int(d) for d in m.shape)
    if len(shape) != 2:
        raise InvalidArgument(f"{what}: expected a 2-d array; got shape {shape}")
    data = np.asarray(m.data)
    if data.dtype.kind not in "biuf":
        raise InvalidArgument(f"{what}: expected real numbers; got sparse values of dtype {data.dtype}")
    return (shape[0], shape[1], np.ascontiguousarray(m.indptr, dtype=np.int64),
            np.ascontiguousarray(m.indices, dtype=np.int64), np.ascontiguousarray(data, dtype=np.float64))


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


def _fetcher(a: np.ndarray):
    """``fetch(first, count)``: rows [first, first + count) of ``a`` as a float64 C-contiguous
    copy. The engine calls it as the run consumes its inputs (a few MiB at a time), so the
    inputs are never copied whole, in whatever dtype or layout they come."""
    def fetch(first: int, count: int) -> np.ndarray:
        return np.ascontiguousarray(a[first:first + count], dtype=np.float64)
    return fetch


@contextlib.contextmanager
def _read_only(*arrays):
    """While a run reads them, the arrays are read-only: another thread writing into them
    gets NumPy's "assignment destination is read-only" instead of changing the run's inputs
    halfway. Writability is given back afterwards, also after an error."""
    changed = []
    try:
        for a in arrays:
            if a.flags.writeable:
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


class Network:
    """A network of QIF populations and function nodes, as ``rectipy.Network``.

    ``Network(dt, device="cpu", dtype=np.float64)``: ``device`` is ``"cpu"``, ``"cuda"``
    (``"cuda:0"``) or ``"auto"`` (the GPU when usable); float64 reproduces RectiPy number for
    number, float32 is the fast mode. Inputs and outputs are NumPy arrays (anything
    ``np.asarray`` takes, torch CPU tensors included); outputs are float64.
    """

    def __init__(self, dt: float = 1e-3, device: str = "cpu", dtype=np.float64):
        self._device = device
        self._precision = _precision(dtype)
        backend, gpu = _backend(device)
        self._backend = backend
        self._core = _qifsim.Network(float(dt), backend, self._precision)
        if gpu:
            self._core.set_cuda_device(gpu)
        self._nodes = []  # labels, in the order they were added

    # ---- building -------------------------------------------------------------------
    def add_diffeq_node(self, label: str, node: str, input_var: str = "I_ext", output_var: str = "s",
                        weights=None, source_var: Optional[str] = None, target_var: Optional[str] = None,
                        spike_var: Optional[str] = None, spike_def: Optional[str] = None,
                        reset_var: Optional[str] = None, op: Optional[str] = None,
                        train_params: Optional[list] = None, node_vars: Optional[dict] = None,
                        spike_threshold=1e2, spike_reset=-1e2, dtype=None, N: Optional[int] = None,
                        verbose: bool = True, clear: bool = False) -> None:
        """Add a population of QIF neurons (RectiPy's template ``qif`` or ``qif_sfa``).

        ``node``: ``"neuron_model_templates.spiking_neurons.qif.qif"`` or ``"...qif.qif_sfa"``.
        ``weights``: the N x N coupling J (row i = weights onto neuron i; it sets N) or None
        (no coupling; N from ``N`` or from the lengths in ``node_vars``). J is a dense array or a
        ``scipy.sparse`` matrix or array (CSR, CSC, COO, ...; converted with ``.tocsr()`` and never
        made dense; duplicate entries are summed, as SciPy does). The variable
        arguments must name what the template uses: ``source_var="s"``, ``target_var="s_in"``,
        ``input_var="I_ext"``, ``output_var="s"`` (or ``"v"``), ``spike_var="spike"``,
        ``reset_var="v"`` (RectiPy's older ``spike_def="v"``); each may carry the operator,
        ``"qif_op/s"``. ``node_vars``: initial values and parameters by RectiPy's keys (``"eta"``,
        ``"qif_op/eta"``, ``"qif/qif_op/eta"``): eta, tau, k, tau_s, v, s (and alpha, tau_x, x
        for qif_sfa), each a scalar or one value per neuron. ``spike_threshold`` and
        ``spike_reset`` set where v spikes and where it restarts. ``verbose`` and ``clear``
        (PyRates options) have no effect.
        """
        t = _templates.lookup(node)
        if op is not None and op != t.op:
            raise InvalidArgument(f"add_diffeq_node('{label}'): op '{op}' is not the operator of template "
                                  f"'{t.name}' ('{t.op}')")
        _templates.expect("input_var", input_var, ("I_ext",), t, label)
        out = _templates.expect("output_var", output_var, ("s", "v"), t, label)
        _templates.expect("source_var", source_var, ("s",), t, label)
        _templates.expect("target_var", target_var, ("s_in",), t, label)
        _templates.expect("spike_var", spike_var, ("spike",), t, label)
        _templates.expect("spike_def", spike_def, ("v",), t, label)
        _templates.expect("reset_var", reset_var, ("v",), t, label)
        if spike_var is None or (spike_def is None and reset_var is None):
            raise InvalidArgument(
                f"add_diffeq_node('{label}'): qifsim simulates spiking QIF neurons: pass spike_var='spike' "
                f"and reset_var='v' (RectiPy's spike_def='v'); RectiPy without them builds a rate network")
        if train_params:
            raise InvalidArgument(f"add_diffeq_node('{label}'): train_params: qifsim does not train parameters")
        if dtype is not None and _precision(dtype) != self._precision:
            raise InvalidArgument(f"add_diffeq_node('{label}'): dtype {dtype!r} differs from the network's "
                                  f"({self._precision}); qifsim computes a network in one precision")

        params = {}
        for key, value in (node_vars or {}).items():
            params[_templates.node_var_field(key, t, label)] = _vector(value, f"node_vars['{key}']")
        params["v_threshold"] = _vector(spike_threshold, "spike_threshold")
        params["v_reset"] = _vector(spike_reset, "spike_reset")

        csr = _sparse(weights, f"add_diffeq_node('{label}'): weights")
        if weights is not None:
            J = None if csr is not None else _matrix(weights, f"add_diffeq_node('{label}'): weights")
            rows, cols = csr[:2] if csr is not None else J.shape
            n = rows
            if N is not None and _int(N, f"add_diffeq_node('{label}'): N", 1) != n:
                raise InvalidArgument(f"add_diffeq_node('{label}'): N = {N} but weights are {rows} x {cols}")
        else:
            J = np.zeros((0, 0))
            sizes = {len(v) for v in params.values() if len(v) > 1}
            if N is not None:
                n = _int(N, f"add_diffeq_node('{label}'): N", 1)
            elif len(sizes) == 1:
                n = sizes.pop()
            elif len(sizes) > 1:
                raise InvalidArgument(f"add_diffeq_node('{label}'): node_vars hold per-neuron arrays of different "
                                      f"lengths {sorted(sizes)}")
            else:
                raise InvalidArgument(
                    f"add_diffeq_node('{label}'): the number of neurons is not given: pass weights (an N x N "
                    f"array), N, or per-neuron values in node_vars")
        if csr is not None:
            self._core.add_population_csr(label, n, *csr, params, t.adaptation, out)
        else:
            self._core.add_population(label, n, J, params, t.adaptation, out)
        self._nodes.append(label)

    def add_func_node(self, label: str, n: int, activation_function: str = "identity") -> None:
        """Add a node of ``n`` units applying an activation to its summed input: ``"identity"``,
        ``"tanh"``, ``"sigmoid"``, ``"softmax"``, ``"softmin"`` or ``"log_softmax"``."""
        self._core.add_function(label, _int(n, f"add_func_node('{label}'): n", 1), activation_function)
        self._nodes.append(label)

    def add_edge(self, source: str, target: str, weights=None, train: Optional[str] = None, dtype=None) -> None:
        """Project the n outputs of ``source`` onto the k inputs of ``target`` with ``weights`` (k x n):
        a dense array or a ``scipy.sparse`` matrix or array (converted with ``.tocsr()``, never
        made dense)."""
        if weights is None:
            raise InvalidArgument(f"add_edge('{source}', '{target}'): weights are required (a k x n array); "
                                  f"qifsim has no random initialisation")
        if train is not None:
            raise InvalidArgument(f"add_edge('{source}', '{target}'): train='{train}': qifsim does not train edges")
        if dtype is not None and _precision(dtype) != self._precision:
            raise InvalidArgument(f"add_edge('{source}', '{target}'): dtype {dtype!r} differs from the "
                                  f"network's ({self._precision})")
        what = f"add_edge('{source}', '{target}'): weights"
        csr = _sparse(weights, what)
        if csr is not None:
            self._core.add_edge_csr(source, target, *csr)
        else:
            self._core.add_edge(source, target, _matrix(weights, what))

    def compile(self) -> None:
        """Find the input and output nodes and build the engine (once; again after a change to
        the graph, which starts from the initial state). Errors name the offending nodes."""
        if not self._core.compiled:
            try:
                self._core.compile()
            except BackendError:
                if self._backend != "cuda":
                    raise
                usable, why = _qifsim.cuda_device_status(self._core.cuda_device)
                if usable:
                    raise
                raise BackendError(f"device='{self._device}': no GPU is usable here: {why}. Use device='cpu', or "
                                   f"device='auto' to take a GPU where there is one") from None

    # ---- stepping and state ------------------------------------------------------------
    def forward(self, x) -> np.ndarray:
        """One step with input ``x`` (``n_in`` values); returns the output at the step's start."""
        return self._core.forward(_vector(x, "forward"))

    __call__ = forward

    def get_var(self, node: str, var: str) -> np.ndarray:
        """A copy of a variable's values: state ``v``, ``s``, ``x``, ``spike``, last step's
        ``s_in`` and ``I_ext``, parameters; ``in``/``out`` of function nodes.

        As in RectiPy, after ``forward(x_t)`` a population's state is the state at the start
        of step t, the instant of the output ``forward`` returned: a loop of ``forward`` and
        ``obs.record(t, out, 0.0, [net.get_var(...)])`` records what ``run`` records. Before
        any ``forward``, and after ``run``, ``reset`` or ``set_var`` of a state variable, it is
        the current state (``next_state``)."""
        return self._core.get_var(node, var_name(var))

    def next_state(self, node: str, var: str) -> np.ndarray:
        """A copy of a variable's values now: a population's state is the state the next step
        starts from, whatever the last call was."""
        return self._core.next_state(node, var_name(var))

    def set_var(self, node: str, var: str, val) -> None:
        """Set a state variable (``v``, ``s``, ``x``) or a parameter: a scalar or one value per
        unit. The next step starts from (or with) the new values."""
        self._core.set_var(node, var_name(var), _vector(val, f"set_var('{node}', '{var}')"))

    def reset(self, state: Optional[dict] = None) -> None:
        """Back to the initial state, then set the variables in ``state``:
        ``{node: {var: values}}`` or ``{(node, var): values}``."""
        self.compile()
        entries = []
        for key, value in (state or {}).items():
            if isinstance(key, tuple) and len(key) == 2:
                entries.append((key[0], var_name(key[1]), _vector(value, f"reset: {key}")))
            elif isinstance(key, str) and isinstance(value, dict):
                for var, values in value.items():
                    entries.append((key, var_name(var), _vector(values, f"reset: {key}.{var}")))
            else:
                raise InvalidArgument(f"reset: state entry {key!r}: use {{node: {{var: values}}}} or "
                                      f"{{(node, var): values}}")
        self._core.reset(entries)

    # ---- runs ----------------------------------------------------------------------------
    def run(self, inputs, sampling_steps: int = 1, cutoff: int = 0, record_output: bool = True,
            record_loss: bool = False, record_vars: Optional[list] = None, verbose: bool = True,
            enable_grad: bool = True, obs: Optional[Observer] = None, memory_budget: Optional[int] = None,
            batch_samples: Optional[int] = None, cuda_graphs: bool = True, resume: bool = False,
            divergence_check_steps: Optional[int] = None, event_coupling: int = 0,
            subnormals: str = "auto", coupling: str = "auto", resync: int = 0) -> Observer:
        """Run ``inputs.shape[0]`` steps (``inputs``: T x n_in) from the current state and return
        the recordings.

        A sample is taken at step t when ``t >= cutoff`` and ``t % sampling_steps == 0``: the
        output averaged over the steps since the previous sample, and ``record_vars``
        (``(node, var, mean)`` tuples) at step t. Samples reach the Observer in batches from the
        engine's ring buffer (``batch_samples`` per batch; automatic by default). ``obs``: an
        Observer to append to (its settings then decide what is recorded). ``memory_budget``:
        bytes the recording may take (default half the machine's memory; refused beforehand
        with MemoryBudgetError). ``verbose``: progress on stderr for long runs.
        Ctrl-C stops the run at the next step with KeyboardInterrupt; the exception carries the
        samples so far as ``e.observer``, and ``run(inputs, obs=e.observer, resume=True)`` with
        the same inputs and schedule continues it bit for bit. A NaN/Inf in the state stops the
        run with DivergenceError (the state is checked every ``divergence_check_steps`` steps,
        1000 by default, and every recorded value as it is recorded); it carries the samples
        recorded before it as ``e.observer`` too, as does any other qifsim error.
        ``coupling``: how each population's J s (and each edge's W x) is computed.
        ``"auto"`` (the default) picks the cheapest valid operator from static facts only (N, the
        synapse count, the weights' kind, one tau_s per population), so a network always gets the
        same choice: below N = 4096 the weights are used as given (a dense J dense, bit for bit
        RectiPy's float64 arithmetic; a sparse one sparse); from there on a dense J with all
        entries equal becomes procedural, one with under a quarter nonzero sparse, and a sparse J
        of a population with one tau_s runs events. ``"dense"``: a dense matrix-vector
        product (sparse weights made dense once). ``"sparse"``: CSR rows, each summed in ascending
        column order (dense weights made sparse once). ``"procedural"``: J s = w * sum(s), for
        weights whose entries are all equal. ``"events"`` (CPU): J s decays with tau_s and adds the
        columns of J of the neurons that spiked, with a fresh product every ``resync`` steps
        (0: 1000); needs one tau_s per population, and differs from the product by rounding.
        ``coupling_choice`` says what was chosen. ``event_coupling=R`` (R > 0) is the older
        spelling of ``coupling="events", resync=R``.
        ``subnormals`` (CPU): ``"keep"`` state values below the smallest normal number (s
        and x after long quiet stretches), ``"flush"`` them to zero (faster on CPUs that take a
        micro-code assist per such value), ``"auto"``: flush in float32, keep in float64.
        ``enable_grad`` has no effect (qifsim computes no gradients).
        ``inputs`` are read piece by piece as the run consumes them (any numeric dtype, never a
        whole copy) and are read-only until the run returns. A Network serves one thread at a
        time: a call from another thread during the run raises BusyError.
        """
        self.compile()
        if obs is None:
            obs = Observer(self.dt, record_output=record_output, record_loss=record_loss, record_vars=record_vars)
        # Ctrl-C reaches the C++ run only where Python's default SIGINT handling is in force.
        sigint = threading.current_thread() is threading.main_thread() and \
            signal.getsignal(signal.SIGINT) is signal.default_int_handler
        x = _rows(inputs, "run: inputs")
        try:
            with _read_only(x):
                self._core.run(x.shape[0], x.shape[1], _fetcher(x), obs._core,
                               _int(sampling_steps, "run: sampling_steps", 1), _int(cutoff, "run: cutoff"),
                               "auto" if verbose else "off", _int(memory_budget or 0, "run: memory_budget"),
                               _int(batch_samples or 0, "run: batch_samples"), bool(cuda_graphs), bool(resume),
                               -1 if divergence_check_steps is None else
                               _int(divergence_check_steps, "run: divergence_check_steps"), sigint,
                               _int(event_coupling, "run: event_coupling"), str(subnormals),
                               _mode(coupling, "run"), _int(resync, "run: resync"))
        except (KeyboardInterrupt, Error) as e:
            # `obs = net.run(...)` never assigned obs: the exception carries what was recorded.
            e.observer = obs
            raise
        return obs

    def test(self, inputs, targets, loss: str = "mse", loss_kwargs: Optional[dict] = None,
             sampling_steps: int = 100, verbose: bool = True, cutoff: int = 0, record_output: bool = True,
             record_loss: bool = False, record_vars: Optional[list] = None,
             memory_budget: Optional[int] = None, batch_samples: Optional[int] = None,
             cuda_graphs: bool = True, event_coupling: int = 0, subnormals: str = "auto",
             coupling: str = "auto", resync: int = 0):
        """Run and compare the output with ``targets`` (T x n_out) under ``loss`` (``"mse"`` or
        ``"l1"``). Returns ``(observer, loss)``: the mean per-step loss over steps >= cutoff.
        With ``record_loss`` each sample holds the loss averaged over its window. ``coupling``
        (``"auto"``, ``"dense"``, ``"sparse"``, ``"procedural"`` or ``"events"``) and ``resync``
        choose how J s is computed, as in ``run``."""
        if loss_kwargs:
            raise InvalidArgument("test: loss_kwargs are not supported (losses: 'mse', 'l1')")
        self.compile()
        spec = Observer(self.dt, record_output, record_loss, record_vars)  # records the run
        x = _rows(inputs, "test: inputs")
        y = _rows(targets, "test: targets")
        if y.shape[0] != x.shape[0]:
            raise InvalidArgument(f"test: targets have {y.shape[0]} rows; the inputs have {x.shape[0]} (one per step)")
        try:
            with _read_only(x, y):
                value = self._core.test(
                    x.shape[0], x.shape[1], _fetcher(x), y.shape[1], _fetcher(y), loss, spec._core,
                    _int(sampling_steps, "test: sampling_steps", 1), _int(cutoff, "test: cutoff"),
                    "auto" if verbose else "off", _int(memory_budget or 0, "test: memory_budget"),
                    _int(batch_samples or 0, "test: batch_samples"), bool(cuda_graphs),
                    _int(event_coupling, "test: event_coupling"), str(subnormals),
                    _mode(coupling, "test"), _int(resync, "test: resync"))
        except (KeyboardInterrupt, Error) as e:
            e.observer = spec  # what was recorded before the error
            raise
        return spec, value

    # ---- properties ------------------------------------------------------------------------
    @property
    def dt(self) -> float:
        return self._core.dt

    @property
    def device(self) -> str:
        """The device asked for."""
        return self._device

    @property
    def backend(self) -> str:
        """``"cpu"`` or ``"cuda"`` once compiled (what ``"auto"`` chose); before, as asked."""
        return self._core.backend

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self._precision)

    @property
    def nodes(self) -> list:
        """Node labels in the order they were added."""
        return list(self._nodes)

    @property
    def n_in(self) -> int:
        """Width of the network input (after compile())."""
        return self._core.input_width

    @property
    def n_out(self) -> int:
        """Width of the network output (after compile())."""
        return self._core.output_width

    @property
    def interrupted(self) -> bool:
        """True when the last run stopped early (Ctrl-C) and ``run(..., resume=True)`` can continue it."""
        return self._core.interrupted

    @property
    def coupling_choice(self) -> str:
        """The coupling operators in use, one line: ``"'pop': sparse"``,
        ``"'pop': events over sparse (resync 1000)"``, several joined by ``"; "`` (after
        compile() and after each run; empty before compile() and when no population is coupled)."""
        return self._core.coupling_choice

    @property
    def step_count(self) -> int:
        """Steps taken since compile() or the last reset()."""
        return self._core.step_count

    def __len__(self) -> int:
        return len(self._nodes)

    def __repr__(self) -> str:
        return (f"qifsim.Network(dt={self.dt}, device='{self._device}', dtype={self._precision}, "
                f"nodes={self._nodes})")
