"""``qifsim.Network``: RectiPy's Network interface over qifsim's C++ engine.

The names, arguments and defaults are RectiPy's (``rectipy.Network``); the work is done by
the C++ library (``qifsim._qifsim.Network``). What RectiPy does through PyTorch and PyRates
and qifsim does not (gradient-descent training, PyRates template objects) is refused with a
message saying so.
"""

import os
import warnings
from collections.abc import Mapping
from typing import Optional

import numpy as np

from . import _qifsim, _templates
from .errors import BackendError, Error, InvalidArgument
from .observer import Observer, var_name
from ._convert import (_backend, _csr_arrays, _fetcher, _int, _matrix, _mode, _precision, _read_only, _rows, _sparse,
                       _sparse_matrix, _vector)
from ._graph import Edge, Node, _NodeView, _oriented

_AFTER_LAST_STEP = ("qifsim: Ctrl-C as run() ended: the run is complete and all its samples are in this exception's "
                    ".observer (except KeyboardInterrupt as e: obs = e.observer); there is nothing to resume")


_RATE_OUTPUT_WARNED = False


def _warn_rate_output_once(call: str, output_var: str) -> None:
    global _RATE_OUTPUT_WARNED
    if _RATE_OUTPUT_WARNED:
        return
    _RATE_OUTPUT_WARNED = True
    warnings.warn(f"{call}: output_var={output_var!r}: RectiPy 0.12.2 outputs the node's v here, not r, and so "
                  f"does qifsim's Python API (a RectiPy script gets RectiPy's numbers); the C++ API and configs "
                  f"output r for output_var = \"r\". (Warned once.)", UserWarning, stacklevel=3)


class Network:
    """A network of QIF populations and function nodes, as ``rectipy.Network``.

    ``Network(dt, device="cpu", dtype=np.float64)``: ``device`` is ``"cpu"``, ``"cuda"``
    (``"cuda:0"``) or ``"auto"`` (the GPU when usable); float64 reproduces RectiPy number for
    number, float32 is the fast mode. Inputs and outputs are NumPy arrays (anything
    ``np.asarray`` takes, torch CPU tensors included); outputs are float64.

    The graph can change after compile() and runs, as in RectiPy: ``pop_node``, ``pop_edge``,
    adding nodes or edges, then compile() again. The C++ engine cannot remove a node, so the
    network keeps every node and edge as added and builds the engine anew from them; the
    populations that stay keep their state (v, s, x: what the next step starts from) and the
    parameters set with ``set_var``, as RectiPy's node objects keep theirs, and the step count
    (``step_count``: noise and Poisson input continue their numbers rather than drawing the first
    steps' again). Not kept: the last step's per-step values (``spike``, ``s_in``, ``I_ext``, a
    function node's ``in``/``out``) and an interrupted run (it cannot be resumed).
    """

    def __init__(self, dt: float = 1e-3, device: str = "cpu", dtype=np.float64):
        self._device = device
        self._precision = _precision(dtype)
        backend, gpu = _backend(device)
        self._backend = backend
        self._gpu = gpu
        self._core = self._new_core(float(dt))
        self._nodes = {}  # label -> RectiPy's node attribute dict, in the order added
        self._edges = {}  # (source, target) -> RectiPy's edge attribute dict, in the order added
        self._carry = {}  # label -> {state var: values} to set once compiled (after a graph change)
        self._steps_carry = 0  # the step count to continue from once compiled (after a graph change)
        self._schedule = (1, 0)  # (sampling_steps, cutoff) of the last run: a resume's defaults

    def _new_core(self, dt: float):
        core = _qifsim.Network(dt, self._backend, self._precision)
        if self._gpu:
            core.set_cuda_device(self._gpu)
        return core

    # ---- the graph as added, and the engine built from it ----------------------------
    def _state_now(self) -> dict:
        """``{label: {state var: values}}``: where every population's next step starts from
        (the engine's state, or what is waiting to be set at the next compile). Raises
        BusyError while another thread runs the network, before anything changes."""
        carry = {label: dict(values) for label, values in self._carry.items()}
        if self._core.compiled:
            # The step count too (noise and Poisson input are keyed by it): an engine built
            # again continues it, so a later run does not draw the first steps' numbers again.
            self._steps_carry = self._core.step_count
            for label, attrs in self._nodes.items():
                node = attrs["node"]
                if node.template is not None:
                    carry[label] = {v: self._core.next_state(label, v) for v in node.template.states}
        return carry

    def _build_node(self, core, node: Node) -> None:
        """The core call that adds ``node``, from what add_diffeq_node/add_func_node recorded."""
        spec = node._spec
        if node.template is None:
            core.add_function(node.label, node.n_out, node.activation)
        elif node.template.core_call == "add_population":
            if spec["csr"] is not None:
                core.add_population_csr(node.label, node.n_out, *spec["csr"], spec["params"],
                                        node.template.adaptation, node._output_var)
            else:
                core.add_population(node.label, node.n_out, spec["J"], spec["params"], node.template.adaptation,
                                    node._output_var)
        elif spec["csr"] is not None:
            core.add_model_population_csr(node.label, node.template.model, node.n_out, *spec["csr"], spec["params"],
                                          node._output_var)
        else:
            core.add_model_population(node.label, node.template.model, node.n_out, spec["J"], spec["params"],
                                      node._output_var)
        if node.template is not None and spec.get("noise") is not None:
            core.add_noise(node.label, *spec["noise"])
        for poisson in spec.get("poisson", []) if node.template is not None else []:
            core.add_poisson_input(node.label, *poisson)

    @staticmethod
    def _build_edge(core, edge: Edge) -> None:
        if edge._memory is not None:
            delays, filt = edge._memory
            core.add_edge_with(edge.source, edge.target, edge.weights, delays, filt, True)
        elif edge._csr is not None:
            core.add_edge_csr(edge.source, edge.target, *edge._csr)
        else:
            core.add_edge(edge.source, edge.target, edge.weights)

    @staticmethod
    def _edge_memory(call: str, n: int, delays, filter_weights):
        """(delays, filter) for the core from RectiPy's arguments, checked."""
        d = []
        if delays is not None:
            arr = np.asarray(delays.detach().cpu().numpy() if hasattr(delays, "detach") else delays)
            if arr.ndim != 1 or len(arr) != n:
                raise InvalidArgument(f"{call}: delays has shape {arr.shape}; expected one per source output ({n},)")
            if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr != np.round(arr)):
                raise InvalidArgument(f"{call}: delays are whole numbers of steps >= 0")
            d = [int(x) for x in arr]
        f = np.zeros((0, 0))
        if filter_weights is not None:
            f = _matrix(filter_weights, f"{call}: filter_weights")
            if f.shape != (n, n):
                raise InvalidArgument(f"{call}: filter_weights are {f.shape}; expected ({n}, {n}) "
                                      f"(source outputs x source outputs)")
        return d, np.ascontiguousarray(f, dtype=np.float64)

    def _rebuild(self, nodes: dict, edges: dict, carry: dict) -> None:
        """A new engine with ``nodes`` and ``edges`` (in their order), not compiled; ``carry``
        (the populations' state) is set once it is."""
        core = self._new_core(self._core.dt)
        for attrs in nodes.values():
            self._build_node(core, attrs["node"])
        for attrs in edges.values():
            self._build_edge(core, attrs["edge"])
        self._core, self._nodes, self._edges = core, nodes, edges
        self._carry = {label: values for label, values in carry.items() if label in nodes}

    def _add_node(self, node: Node) -> Node:
        carry = self._state_now()
        self._build_node(self._core, node)  # the core checks; nothing changes when it refuses
        self._carry = carry
        self._nodes[node.label] = {"node": node, "node_type": node.node_type, "n_out": node.n_out,
                                   "n_in": node.n_in}
        return node

    def _attrs(self, label, call: str) -> dict:
        if label not in self._nodes:
            raise InvalidArgument(f"{call}: unknown node {label!r} (nodes: {', '.join(self._nodes) or 'none'})")
        return self._nodes[label]

    # ---- building -------------------------------------------------------------------
    def add_diffeq_node(self, label: str, node: str, input_var: str = "I_ext", output_var: str = "s",
                        weights=None, source_var: Optional[str] = None, target_var: Optional[str] = None,
                        spike_var: Optional[str] = None, reset_var: Optional[str] = None, reset: bool = True,
                        op: Optional[str] = None, train_params: Optional[list] = None,
                        node_vars: Optional[dict] = None, spike_threshold=1e2, spike_reset=-1e2, dtype=None,
                        N: Optional[int] = None, spike_def: Optional[str] = None,
                        float_precision: Optional[str] = None, verbose: bool = True, clear: bool = True,
                        spike_slope=None, spike_center=1.0) -> Node:
        """Add a population of N neurons of one of RectiPy's neuron templates and return its
        node object.

        ``node``: ``"neuron_model_templates.spiking_neurons.qif.qif"``, ``"...qif.qif_sfa"``,
        ``"...spiking_neurons.lif.lif"``, ``"...spiking_neurons.ik.ik"``, ``"...ik.iku"``,
        ``"...ik.ik_biexp"``, ``"neuron_model_templates.rate_neurons.leaky_integrator.tanh"`` or
        ``"...leaky_integrator.sigmoid"`` (also the short names ``"qif"``, ``"lif"``, ``"ik"``, ...).
        Variables and ``node_vars`` keys take the templates' operator prefixes (``"lif_op/v"``;
        ``"li_op/v"`` and ``"tanh_op/r"`` for the leaky integrators), on the CPU or the GPU.
        ``weights``: the N x N coupling J (row i = weights onto neuron i; it sets N) or None
        (no coupling; N from ``N`` or from the lengths in ``node_vars``). J is a dense array or a
        ``scipy.sparse`` matrix or array (CSR, CSC, COO, ...; converted with ``.tocsr()`` and never
        made dense; duplicate entries are summed, as SciPy does). The variable
        arguments must name what the template uses: ``source_var="s"``, ``target_var="s_in"``,
        ``input_var="I_ext"``, ``output_var="s"`` (or ``"v"``), ``spike_var="spike"``,
        ``reset_var="v"``; each may carry the operator, ``"qif_op/s"``, or name it in ``op``.
        ``node_vars``: initial values and parameters by RectiPy's keys (``"eta"``,
        ``"qif_op/eta"``, ``"all/qif_op/eta"``, ``"qif/qif_op/eta"``): eta, tau, k, tau_s, v, s
        (and alpha, tau_x, x for qif_sfa), each a scalar or one value per neuron.
        ``spike_threshold`` and ``spike_reset`` set where v spikes and where it restarts.

        Where qifsim differs from RectiPy 0.12.2:

        - ``reset=False`` (RectiPy's ``SpikeNet``, a spiking node without the reset) is refused:
          that class cannot run in RectiPy 0.12.2 (it fails when built or at its first step).
        - ``spike_def="v"`` is taken as ``reset_var="v"``. RectiPy 0.12.2 has no such argument
          (only its tutorial text names it) and, without ``reset_var``, refuses a spiking node.
        - ``float_precision`` has no effect, as in RectiPy 0.12.2, where the node's ``dtype``
          (float64 unless given) overrides it; a value other than the network's precision gets
          a warning saying so. ``dtype`` must be the network's precision (qifsim computes a
          network in one precision; ``Network(dtype=np.float32)`` for float32).
        - ``verbose``, ``clear`` (PyRates options) and ``spike_slope`` (the width of RectiPy's
          surrogate gradient) have no effect; ``spike_center`` (the spike's value when v equals
          the threshold exactly) must be 1, RectiPy's default.
        - ``train_params`` is refused: qifsim does not train parameters.
        - The weights array is kept by reference where it is already float64 and C-ordered:
          a later ``pop_node``/``pop_edge`` builds the engine again from it, so change it in place
          only if the change should show then.
        """
        call = f"add_diffeq_node('{label}')"
        t = _templates.lookup(node)
        if op is not None and op not in (t.op,) + t.ops:
            raise InvalidArgument(f"{call}: op '{op}' is not the operator of template '{t.name}' ('{t.op}')")
        _templates.expect("input_var", input_var, t.input_vars, t, label)
        out = _templates.expect("output_var", output_var, t.output_vars, t, label)
        if not t.spiking and out == "r":
            # RectiPy 0.12.2 outputs the node's v here (its network's output indexes the state
            # vector, where r is not): follow the release, so a RectiPy script gets its numbers.
            _warn_rate_output_once(call, output_var)
            out = "v"
        _templates.expect("source_var", source_var, t.source_vars, t, label)
        _templates.expect("target_var", target_var, t.target_vars, t, label)
        if t.spiking:
            _templates.expect("spike_var", spike_var, t.spike_vars, t, label)
            by_def = _templates.expect("spike_def", spike_def, t.reset_vars, t, label)
            reset_name = _templates.expect("reset_var", reset_var, t.reset_vars, t, label) or by_def
            if spike_var is None or reset_name is None:
                raise InvalidArgument(
                    f"{call}: qifsim simulates spiking '{t.name}' neurons: pass spike_var='{t.spike_vars[0]}' and "
                    f"reset_var='{t.reset_vars[0]}'; RectiPy without them builds a rate network")
        else:
            if spike_var is not None:
                raise InvalidArgument(f"{call}: '{t.name}' is a rate model; it takes no spike_var")
            reset_name = None  # RectiPy's rate node ignores reset_var
        if not reset:
            raise InvalidArgument(
                f"{call}: reset=False (RectiPy's SpikeNet, a spiking node without the reset) is not supported: "
                f"that node cannot run in RectiPy 0.12.2 either; qifsim resets v after each spike (reset=True)")
        if spike_center != 1.0:
            raise InvalidArgument(f"{call}: spike_center={spike_center!r} is not supported (a spike counts 1, also "
                                  f"when v equals the threshold exactly; RectiPy's default 1.0)")
        if train_params:
            raise InvalidArgument(f"{call}: train_params: qifsim does not train parameters")
        if dtype is not None and _precision(dtype) != self._precision:
            raise InvalidArgument(f"{call}: dtype {dtype!r} differs from the network's "
                                  f"({self._precision}); qifsim computes a network in one precision")
        if float_precision is not None and str(float_precision) != self._precision:
            warnings.warn(f"{call}: float_precision={float_precision!r} has no effect (in RectiPy 0.12.2 the "
                          f"node's dtype overrides it); this network computes in {self._precision}",
                          UserWarning, stacklevel=2)

        params = {}
        for key, value in (node_vars or {}).items():
            params[_templates.node_var_field(key, t, label)] = _vector(value, f"node_vars['{key}']")
        if t.spiking:
            params["v_threshold"] = _vector(spike_threshold, "spike_threshold")
            params["v_reset"] = _vector(spike_reset, "spike_reset")

        csr = _sparse(weights, f"{call}: weights")
        if weights is not None:
            J = None if csr is not None else _matrix(weights, f"{call}: weights")
            rows, cols = csr[:2] if csr is not None else J.shape
            n = rows
            if N is not None and _int(N, f"{call}: N", 1) != n:
                raise InvalidArgument(f"{call}: N = {N} but weights are {rows} x {cols}")
        else:
            J = np.zeros((0, 0))
            sizes = {len(v) for v in params.values() if len(v) > 1}
            if N is not None:
                n = _int(N, f"{call}: N", 1)
            elif len(sizes) == 1:
                n = sizes.pop()
            elif len(sizes) > 1:
                raise InvalidArgument(f"{call}: node_vars hold per-neuron arrays of different lengths {sorted(sizes)}")
            else:
                raise InvalidArgument(f"{call}: the number of neurons is not given: pass weights (an N x N "
                                      f"array), N, or per-neuron values in node_vars")
        pop = Node(self, label, "diff_eq", n, template=t, output_var=out, reset_var=reset_name or out)
        pop._spec = {"J": J, "csr": csr, "params": params}
        return self._add_node(pop)

    def add_noise(self, label: str, sigma, seed: int = 0) -> None:
        """Drive population ``label`` with Gaussian white noise on its membrane variable v,
        integrated with Euler-Maruyama: after each step's update ``v += sqrt(dt) * sigma * xi``,
        ``xi ~ N(0, 1)`` per neuron and step, except on neurons that spiked in the step (they stay
        at the reset). ``sigma``: a scalar or one value per neuron, >= 0 (0 removes the noise).

        The numbers are a function of (``seed``, the population's label, neuron, step) only
        (Philox4x32-10): the same for any thread count; steps count from ``compile()`` or
        ``reset()``, so a second ``run`` continues the noise and ``reset()`` repeats it. The CPU
        backend runs it (a GPU network refuses it for now). RectiPy has no noise; this is
        qifsim's own."""
        call = f"add_noise('{label}')"
        node = self._attrs(label, call)["node"]
        if node.template is None:
            raise InvalidArgument(f"{call}: '{label}' is a function node; noise drives populations")
        values = np.atleast_1d(np.asarray(sigma, dtype=np.float64)).ravel()
        seed = _int(seed, f"{call}: seed", 0)
        carry = self._state_now()
        self._core.add_noise(label, np.ascontiguousarray(values), seed)  # checks; nothing changes when it refuses
        self._carry = carry
        node._spec["noise"] = (values.copy(), seed)

    def add_poisson_input(self, label: str, rate: float, weight: float, sources: int = 1, shared: bool = False,
                          seed: int = 0) -> None:
        """Add Poisson spike input onto population ``label``'s v, the event form of Brian2's
        ``PoissonInput``: every step each neuron receives ``k ~ Poisson(sources * rate * dt)``
        input spikes and ``v += weight * k`` after the step's update (neurons that spiked stay
        at the reset). ``rate`` is per source in the unit of ``dt``'s reciprocal; ``shared=True``
        gives every neuron the same count (common input). Several inputs add up. Numbers as
        ``add_noise`` (keyed by ``seed``, the label, the input's position, neuron and step)."""
        call = f"add_poisson_input('{label}')"
        node = self._attrs(label, call)["node"]
        if node.template is None:
            raise InvalidArgument(f"{call}: '{label}' is a function node; Poisson input drives populations")
        args = (float(rate), float(weight), _int(sources, f"{call}: sources", 1), bool(shared),
                _int(seed, f"{call}: seed", 0))
        carry = self._state_now()
        self._core.add_poisson_input(label, *args)
        self._carry = carry
        node._spec.setdefault("poisson", []).append(args)

    def add_func_node(self, label: str, n: int, activation_function: str = "identity", **kwargs) -> Node:
        """Add a node of ``n`` units applying an activation to its summed input (``"identity"``,
        ``"tanh"``, ``"sigmoid"``, ``"softmax"``, ``"softmin"`` or ``"log_softmax"``) and return
        its node object. RectiPy passes ``kwargs`` to the torch activation; qifsim takes
        ``dim=0`` only (RectiPy's default for the softmax family: over the node's units)."""
        if any(k != "dim" or v != 0 for k, v in kwargs.items()):
            raise InvalidArgument(f"add_func_node('{label}'): {kwargs} not supported (the activation is applied "
                                  f"over the node's n units)")
        n = _int(n, f"add_func_node('{label}'): n", 1)
        return self._add_node(Node(self, label, "func_instant", n, activation=activation_function))

    def add_edge(self, source: str, target: str, weights=None, train: Optional[str] = None, dtype=None,
                 edge_attrs: Optional[dict] = None, **kwargs) -> Edge:
        """Project the n outputs of ``source`` onto the k inputs of ``target`` with ``weights``
        and return the edge object.

        ``weights``: k x n, or n x k, which is used transposed, decided as RectiPy 0.12.2 does:
        the n x k test comes first, so when source and target have the same width a square
        matrix is used transposed. A dense array or a ``scipy.sparse`` matrix or array
        (converted with ``.tocsr()``, never made dense). None: standard-normal weights
        (k x n) from NumPy's global generator, ``np.random.randn(k, n)``; RectiPy draws them
        with ``torch.randn``, so the values differ from RectiPy's, not their distribution.
        Adding an edge that exists replaces it, as in RectiPy (networkx). ``edge_attrs`` go
        into the edge's attribute dict (``net[source, target]``).

        RectiPy's other edges, chosen as RectiPy 0.12.2 chooses them: ``mask`` (LinearMasked:
        the weights times the mask; a mask of shape n x k is used transposed, so a square mask
        always is, as in RectiPy; ``delays`` and ``filter_weights`` are then ignored, as there);
        ``delays`` (LinearMemory: one whole number of steps per source output; a buffer of
        n x (max + 1) rolled by one column each step, the weights read column 0, and, as
        RectiPy 0.12.2 writes it, input j goes into column ``delays[j]`` of every row, so all
        outputs read one delayed value; the C++ API and configs write row j only);
        ``filter_weights`` (n x n: LinearFilter ``y <- F y + x``, or with ``delays``
        LinearMemoryFilter, F times the whole rolled buffer each step, O(n^2 (max + 1))).
        ``intrinsic_weights`` is accepted and unused, as in RectiPy. Edges with delays or a
        filter run on either backend (on the GPU their buffers stay in device memory) and their
        state is part of a checkpoint.
        """
        call = f"add_edge('{source}', '{target}')"
        if train is not None:
            return self._add_trained_edge(source, target, weights, train, dtype, edge_attrs, **kwargs)
        mask = kwargs.pop("mask", None)
        delays = kwargs.pop("delays", None)
        filter_weights = kwargs.pop("filter_weights", None)
        kwargs.pop("intrinsic_weights", None)  # RectiPy's LinearMemory takes and ignores it
        if kwargs:
            raise InvalidArgument(f"{call}: {', '.join(kwargs)}: not supported (RectiPy's edges take weights, "
                                  f"mask, delays, filter_weights)")
        if dtype is not None and _precision(dtype) != self._precision:
            raise InvalidArgument(f"{call}: dtype {dtype!r} differs from the network's ({self._precision})")
        n = self._attrs(source, call)["n_out"]
        k = self._attrs(target, call)["n_in"]
        if weights is None:
            weights = np.random.randn(k, n)
        w = _oriented(weights, n, k, f"{call}: weights")
        memory = None
        if mask is not None:  # RectiPy's LinearMasked, which ignores delays and filter_weights
            m = _matrix(mask, f"{call}: mask")
            if m.shape == (n, k):
                m = m.T
            elif m.shape != (k, n):
                raise InvalidArgument(f"{call}: mask is {m.shape}; expected ({k}, {n}) or ({n}, {k}) as the weights")
            w = w.multiply(m).tocsr() if _sparse_matrix(w) is not None else np.asarray(w) * m
        elif delays is not None or filter_weights is not None:
            memory = self._edge_memory(call, n, delays, filter_weights)
            if _sparse_matrix(w) is not None:
                w = w.toarray()
        edge = Edge(source, target, w, n, k)
        edge._memory = memory
        if _sparse_matrix(w) is not None:
            edge._csr = _csr_arrays(w, f"{call}: weights")
        attrs = {"edge": edge, "trainable": False, "n_in": n, "n_out": k, **(edge_attrs or {})}
        carry = self._state_now()
        if (source, target) in self._edges:
            self._rebuild(self._nodes, {**self._edges, (source, target): attrs}, carry)
        else:
            self._build_edge(self._core, edge)  # the core checks; nothing changes when it refuses
            self._carry = carry
            self._edges[(source, target)] = attrs
        return edge

    def pop_node(self, node: str) -> Node:
        """Remove a node and its edges, and return its node object (which keeps the values its
        variables had). The populations that stay keep their state and parameters (see the
        class's docstring); compile() before the next run."""
        attrs = self._attrs(node, "pop_node")
        carry = self._state_now()
        popped = attrs["node"]
        kept = {}
        names = list(popped.template.states) + list(popped.template.params) + ["v_threshold", "v_reset"] \
            if popped.template is not None else ["in", "out"]
        for var in names:
            try:
                kept[var] = self.get_var(node, var)
            except Error:
                pass  # not readable now (a function node before compile)
        self._rebuild({k: a for k, a in self._nodes.items() if k != node},
                      {st: a for st, a in self._edges.items() if node not in st}, carry)
        popped._popped, popped._net = kept, None
        return popped

    def pop_edge(self, source: str, target: str) -> Edge:
        """Remove the edge from ``source`` to ``target`` and return its edge object. The
        populations keep their state and parameters; compile() before the next run."""
        if (source, target) not in self._edges:
            raise InvalidArgument(f"pop_edge: no edge '{source}' -> '{target}' (edges: "
                                  f"{', '.join(f'{s} -> {t}' for s, t in self._edges) or 'none'})")
        carry = self._state_now()
        edge = self._edges[(source, target)]["edge"]
        self._rebuild(self._nodes, {st: a for st, a in self._edges.items() if st != (source, target)}, carry)
        return edge

    def get_node(self, node: str) -> Node:
        """The node object of ``node`` (``net[node]["node"]``)."""
        return self._attrs(node, "get_node")["node"]

    def get_edge(self, source: str, target: str) -> Edge:
        """The edge object of the edge from ``source`` to ``target`` (``net[source, target]["edge"]``)."""
        if (source, target) not in self._edges:
            raise InvalidArgument(f"get_edge: no edge '{source}' -> '{target}'")
        return self._edges[(source, target)]["edge"]

    def clear(self) -> None:
        """Remove every node and edge (RectiPy pops every node)."""
        self._state_now()  # BusyError while another thread runs the network
        self._rebuild({}, {}, {})

    def __getitem__(self, item):
        """``net[label]``: the node's attribute dict (``"node"``, ``"node_type"``, ``"n_in"``,
        ``"n_out"``); ``net[source, target]``: the edge's (``"edge"``, ``"trainable"``,
        ``"n_in"``, ``"n_out"`` and the ``edge_attrs`` given), as RectiPy's graph holds them."""
        if isinstance(item, tuple) and len(item) == 2:
            if item not in self._edges:
                raise InvalidArgument(f"no edge '{item[0]}' -> '{item[1]}'")
            return self._edges[item]
        return self._attrs(item, "Network[...]")

    def __iter__(self):
        """The node attribute dicts, in the order the nodes were added (as RectiPy)."""
        return iter(list(self._nodes.values()))

    def compile(self) -> None:
        """Find the input and output nodes and build the engine (once; again after a change to
        the graph). After a change, the populations that stay continue from the state they
        had (see the class's docstring). Errors name the offending nodes."""
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
            for label, values in self._carry.items():
                for var, val in values.items():
                    self._core.set_var(label, var, val)
            self._carry = {}
            if self._steps_carry:
                self._core.set_step_count(self._steps_carry)
            self._steps_carry = 0

    # ---- stepping and state ------------------------------------------------------------
    def _broadcast_width(self) -> int:
        """The input population's size when a one-wide input is to be broadcast onto it (as
        RectiPy adds it to every neuron's I_ext); 0 otherwise."""
        if not self._core.compiled:
            return 0
        attrs = self._nodes.get(self._core.input_node)
        width = self._core.input_width
        return width if attrs is not None and attrs["node_type"] == "diff_eq" and width > 1 else 0

    def forward(self, x) -> np.ndarray:
        """One step with input ``x`` (``n_in`` values); returns the output at the step's start.
        When the input node is a population, one value is fed to every neuron, as RectiPy
        broadcasts it onto I_ext."""
        x = _vector(x, "forward")
        if x.shape[0] == 1:
            width = self._broadcast_width()
            if width:
                x = np.full(width, x[0])
        return self._core.forward(x)

    __call__ = forward

    def _var(self, node: str, var: str) -> str:
        """The engine's name for RectiPy's ``var`` of ``node`` (``"qif_op/v"``, a population's
        ``"out"``, ``"reset_var"``, ``"in"``, ``"spike_var"``)."""
        attrs = self._nodes.get(node)
        return attrs["node"]._var(var) if attrs is not None else var_name(var)

    def _pending(self, node: str, var: str):
        """A population's state waiting to be set at compile() (after a change of the graph)."""
        values = self._carry.get(node, {}).get(var)
        return None if values is None else np.array(values, dtype=np.float64)

    def get_var(self, node: str, var: str) -> np.ndarray:
        """A copy of a variable's values: state ``v``, ``s``, ``x``, ``spike``, last step's
        ``s_in`` and ``I_ext``, parameters; ``in``/``out`` of function nodes; RectiPy's names
        ``"qif_op/v"``, a population's ``"out"`` (its output variable) and ``"reset_var"``.

        As in RectiPy, after ``forward(x_t)`` a population's state is the state at the start
        of step t, the instant of the output ``forward`` returned: a loop of ``forward`` and
        ``obs.record(t, out, 0.0, [net.get_var(...)])`` records what ``run`` records. Before
        any ``forward``, and after ``run``, ``reset`` or ``set_var`` of a state variable, it is
        the current state (``next_state``); after a change of the graph, the state kept."""
        name = self._var(node, var)
        pending = self._pending(node, name)
        return pending if pending is not None else self._core.get_var(node, name)

    def next_state(self, node: str, var: str) -> np.ndarray:
        """A copy of a variable's values now: a population's state is the state the next step
        starts from, whatever the last call was."""
        name = self._var(node, var)
        pending = self._pending(node, name)
        return pending if pending is not None else self._core.next_state(node, name)

    def set_var(self, node: str, var: str, val) -> None:
        """Set a state variable (``v``, ``s``, ``x``) or a parameter: a scalar or one value per
        unit. The next step starts from (or with) the new values. Before the first compile(),
        a state variable's value is its initial value (``reset()`` returns to it); a parameter
        set here stays when the graph changes."""
        name = self._var(node, var)
        values = _vector(val, f"set_var('{node}', '{var}')")
        attrs = self._nodes.get(node)
        pop = attrs["node"] if attrs is not None and attrs["node"].template is not None else None
        if self._pending(node, name) is not None:
            # Between a change of the graph and compile(): the state waits to be set.
            if values.shape[0] not in (1, pop.n_out) or not np.all(np.isfinite(values)):
                raise InvalidArgument(f"set_var: '{node}.{var}' takes 1 or {pop.n_out} finite values; got "
                                      f"{values.shape[0]}")
            self._carry[node][name] = np.broadcast_to(values, (pop.n_out,)).copy()
            return
        self._core.set_var(node, name, values)
        if pop is None:
            return
        if name not in pop.template.states:
            pop._spec["params"][pop.template.node_vars.get(name, name)] = values.copy()
        elif not self._core.compiled:
            pop._spec["params"][pop.template.node_vars[name]] = values.copy()

    def reset(self, state: Optional[dict] = None) -> None:
        """Reset the state as RectiPy 0.12.2 does: every state variable of every population
        becomes 0 (v = 0, s = 0, ...; not the template's initial v = -2), then the variables in
        ``state`` are set: RectiPy's ``{node: y}`` (y: the node's state vector, as ``net.state``
        gives it: v, s[, x] concatenated), ``{node: {var: values}}`` or ``{(node, var): values}``.
        The step count starts again from 0. (The C++ API's ``Network::reset()`` returns to the
        initial values instead.)"""
        self.compile()
        entries = [(label, v, np.zeros(1)) for label, attrs in self._nodes.items()
                   if attrs["node"].template is not None for v in attrs["node"].template.states]
        for key, value in (state or {}).items():
            if isinstance(key, tuple) and len(key) == 2:
                entries.append((key[0], var_name(key[1]), _vector(value, f"reset: {key}")))
            elif isinstance(key, str) and isinstance(value, dict):
                for var, values in value.items():
                    entries.append((key, var_name(var), _vector(values, f"reset: {key}.{var}")))
            elif isinstance(key, str) and key in self._nodes and self._nodes[key]["node"].template is not None:
                pop = self._nodes[key]["node"]
                y = _vector(value, f"reset: {key}")
                n, names = pop.n_out, pop.template.states
                if y.shape[0] != n * len(names):
                    raise InvalidArgument(f"reset: state of '{key}' has {y.shape[0]} values; its state vector has "
                                          f"{n * len(names)} ({' + '.join(names)}, {n} each)")
                entries.extend((key, v, y[i * n:(i + 1) * n]) for i, v in enumerate(names))
            else:
                raise InvalidArgument(f"reset: state entry {key!r}: use {{node: y}}, {{node: {{var: values}}}} or "
                                      f"{{(node, var): values}}")
        self._core.reset(entries)

    # ---- runs ----------------------------------------------------------------------------
    def _input_source(self, x: np.ndarray):
        """``(width, fetch)`` for a run's inputs: a one-column input to a population of N
        neurons is fed to every neuron (RectiPy broadcasts it onto I_ext), widened piece by
        piece as the run fetches it."""
        width = self._broadcast_width() if x.shape[1] == 1 else 0
        return (width, _fetcher(x, width)) if width else (x.shape[1], _fetcher(x))

    def _neuron_models(self) -> list:
        """The neuron models of the populations (qif, lif, ik, ...): a recording's unit of time."""
        return sorted({a["node"].template.model for a in self._nodes.values() if a["node"].template is not None})

    def run(self, inputs, sampling_steps: Optional[int] = None, cutoff: Optional[int] = None,
            record_output: bool = True, record_loss: bool = False, record_vars: Optional[list] = None,
            verbose: bool = True, enable_grad: bool = True, obs: Optional[Observer] = None,
            memory_budget: Optional[int] = None, batch_samples: Optional[int] = None, cuda_graphs: bool = True,
            resume: bool = False,
            divergence_check_steps: Optional[int] = None, event_coupling: int = 0,
            subnormals: str = "auto", coupling: str = "auto", resync: int = 0,
            reproducible: bool = False, record_spikes: Optional[list] = None, sweep: Optional[dict] = None,
            sweep_mode: str = "zip") -> Observer:
        """Run ``inputs.shape[0]`` steps (``inputs``: T x n_in) from the current state and return
        the recordings.

        ``sweep``: run an ensemble instead, one member per combination of swept values, all in one
        batched step (``{"qif.eta": [-6, -5, -4], "qif.v0": [...], "input.scale": [1, 2, 3]}``;
        keys ``"<population>.<parameter>"``, ``"<population>.<state>0"`` for an initial value,
        ``"<population>.sigma"``, ``"<population>.noise_seed"``, ``"<population>.poisson_seed"``,
        ``"input.scale"``; each value a number, an array with one value per neuron, or the name of
        a ``.npy`` file of such values). ``sweep_mode``: ``"zip"`` (member b takes value b of
        every key; lists of one length) or ``"grid"`` (every combination, the last key fastest).
        Every member starts from its initial state; the network itself is left as it was. Each
        recording gains a member axis after the sample axis (``obs["qif.v"]``: samples x members
        x N; a mean: samples x members), ``obs.members`` lists each member's values, and
        ``inputs`` may give each member its own columns (T x members * n_in). With
        ``reproducible=True`` member b equals the single run with its values bit for bit;
        otherwise a dense J is applied to all members as one matrix product (within rounding).
        ``obs.spikes(pop).members`` gives the member of each spike. CPU backend.

        A sample is taken at step t when ``t >= cutoff`` and ``t % sampling_steps == 0``: the
        output averaged over the steps since the previous sample, and ``record_vars``
        (``(node, var, mean)`` tuples) at step t. ``record_spikes`` (population names): every
        spike of those populations at every step from the cutoff on, whatever
        ``sampling_steps`` is, as ``obs.spikes(pop)`` (CPU backend). Samples reach the Observer in batches from the
        engine's ring buffer (``batch_samples`` per batch; automatic by default). ``obs``: an
        Observer to append to (its settings then decide what is recorded). ``memory_budget``:
        bytes the recording may take (default half the machine's memory; refused beforehand
        with MemoryBudgetError). ``verbose``: progress on stderr for long runs, and the
        backend and coupling lines (``verbose=False``: nothing on stderr).
        Ctrl-C stops the run at the next step with KeyboardInterrupt; the exception carries the
        samples so far as ``e.observer``, and ``run(inputs, obs=e.observer, resume=True)`` with
        the same inputs continues it bit for bit (``sampling_steps`` and ``cutoff`` default to
        the interrupted run's; otherwise to 1 and 0). A Ctrl-C anywhere in ``run``
        counts (one during set-up stops the run before its first step; one after its last step
        raises with the complete recording) and none reaches Python after ``run`` returns
        (Python's main thread with its default SIGINT handler; elsewhere Python's rules
        apply). A NaN/Inf in the state stops the run with DivergenceError (the state is
        checked every ``divergence_check_steps`` steps, 1000 by default, and every recorded
        value as it is recorded); it carries the samples
        recorded before it as ``e.observer`` too, as does any other qifsim error.
        ``coupling``: how each population's J s (and each edge's W x) is computed.
        ``"auto"`` (the default) picks the cheapest valid operator from static facts only (N, the
        synapse count, the weights' kind, one tau_s per population), so a network always gets the
        same choice: below N = 512 the weights are used as given (a dense J dense, bit for bit
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
        ``reproducible``: every product through qifsim's own fixed-order loops (a dense J in
        eight lanes at every size, not OpenBLAS or cuBLAS; sparse rows in ascending column
        order, not cuSPARSE), so that the recording does not depend on the thread count or on
        how the rows are split, and the CPU and GPU backends agree bit for bit where they store
        J alike; see the README's "Reproducible runs".
        ``enable_grad`` has no effect (qifsim computes no gradients).
        ``inputs`` are read piece by piece as the run consumes them (any numeric dtype, never a
        whole copy) and are read-only until the run returns. When the input node is a
        population, a one-column input (T x 1) is fed to every neuron, as RectiPy broadcasts
        it onto I_ext. A Network serves one thread at a
        time: a call from another thread during the run raises BusyError.
        """
        # Ctrl-C anywhere from here to the return (set-up included) stops the run or, after its
        # last step, raises as the block ends: the exception always carries the samples.
        try:
            with _qifsim.CtrlC(_AFTER_LAST_STEP), _qifsim.Notices(show=bool(verbose)):
                swept = _sweep_args(sweep, sweep_mode)
                if obs is None:
                    obs = Observer(self.dt, record_output=record_output, record_loss=record_loss,
                                   record_vars=record_vars, record_spikes=record_spikes,
                                   _members=len(_qifsim.sweep_members(swept)) if sweep else 1)
                self.compile()
                obs._models = self._neuron_models()
                # resume=True continues with the interrupted run's schedule unless told otherwise.
                ss, c = self._schedule if resume and self._core.interrupted else (1, 0)
                ss = _int(ss if sampling_steps is None else sampling_steps, "run: sampling_steps", 1)
                c = _int(c if cutoff is None else cutoff, "run: cutoff")
                self._schedule = (ss, c)
                x = _rows(inputs, "run: inputs")
                with _read_only(x):
                    self._core.run(x.shape[0], *self._input_source(x), obs._core, ss, c,
                                   "auto" if verbose else "off", _int(memory_budget or 0, "run: memory_budget"),
                                   _int(batch_samples or 0, "run: batch_samples"), bool(cuda_graphs), bool(resume),
                                   -1 if divergence_check_steps is None else
                                   _int(divergence_check_steps, "run: divergence_check_steps"),
                                   _int(event_coupling, "run: event_coupling"), str(subnormals),
                                   _mode(coupling, "run"), _int(resync, "run: resync"), bool(reproducible),
                                   swept)
                if sweep:
                    obs._sweep = _sweep_table(swept)
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
             coupling: str = "auto", resync: int = 0, reproducible: bool = False):
        """Run, then score the recorded outputs against ``targets`` under ``loss``, as RectiPy
        0.12.2's ``test``. Returns ``(observer, loss)``.

        The run is ``run(inputs, sampling_steps, cutoff, ...)``: a sample at every step t >= cutoff
        with t % sampling_steps == 0, its output the mean over the steps since the previous
        sample. The loss is ONE value of the loss function over the samples x n_out array of
        those outputs against ``targets``, which take one of two lengths: one row per sample
        (RectiPy's form, scored as given), or one row per step (T rows, as ``fit_ridge`` takes
        them), reduced over each sample's window exactly as the outputs are, to their mean over
        the steps since the previous sample. Per-step class indices (nll, ce) must hold one
        class over each window. With ``sampling_steps=1, cutoff=0`` the two are the same; any
        other number of rows is refused naming both. ``loss``: ``"mse"``, ``"l1"``, ``"nll"``, ``"ce"``, ``"kld"`` or
        ``"hinge"``, computed as torch's MSELoss, L1Loss, NLLLoss, CrossEntropyLoss, KLDivLoss
        and HingeEmbeddingLoss with ``loss_kwargs`` as their keyword arguments (``reduction``,
        ``weight``, ``ignore_index``, ``label_smoothing``, ``log_target``, ``margin``;
        qifsim.losses). nll and ce take class indices (integers, one per sample); mse and l1
        broadcast targets of another shape, with torch's warning. Shapes that cannot be scored
        are refused before the run.

        ``record_loss``: each sample's loss alone (the loss of its output row against its
        target row; their mean is the returned mse, l1, hinge or kld). RectiPy records 0.0 there.
        The other arguments are ``run``'s. Unlike RectiPy, ``reduction="none"`` is refused (test
        returns one number) and a run without samples is refused before it starts."""
        from .training import test

        run_kwargs = dict(memory_budget=memory_budget, batch_samples=batch_samples, cuda_graphs=cuda_graphs,
                          event_coupling=event_coupling, subnormals=subnormals, coupling=coupling, resync=resync,
                          reproducible=reproducible)
        return test(self, inputs, targets, loss, loss_kwargs, sampling_steps, verbose, cutoff, record_output,
                    record_loss, record_vars, run_kwargs)

    # ---- readout training (qifsim/training.py) -------------------------------------------------
    def fit_ridge(self, inputs, targets, sampling_steps: int = 100, alpha: float = 1e-4, verbose: bool = True,
                  add_readout_node: bool = True, cutoff: int = 0, record_output: bool = False,
                  record_loss: bool = False, record_vars: Optional[list] = None, obs: Optional[Observer] = None,
                  chunk_steps: Optional[int] = None, enable_grad: bool = True, memory_budget: Optional[int] = None,
                  batch_samples: Optional[int] = None, cuda_graphs: bool = True,
                  divergence_check_steps: Optional[int] = None, event_coupling: int = 0, subnormals: str = "auto",
                  coupling: str = "auto", resync: int = 0, reproducible: bool = False) -> Observer:
        """Fit readout weights to the network's output by ridge regression, as RectiPy 0.12.2.

        The network runs ``inputs`` (T x n_in) from its current state. X: the recorded outputs
        of the output node (samples x n, sampled as ``run`` samples them); Y: the ``targets``
        (T x k, one row per step, as RectiPy requires) averaged over the same windows.
        ``w_out = (X^T X + alpha I)^-1 X^T Y`` (n x k) is solved with LAPACK. The returned
        Observer holds the run's recordings, ``obs["w_out"]`` and ``obs["y"] = X w_out``.
        ``add_readout_node``: a function node ``"readout"`` (k units, identity) is added, fed
        by the output node through ``w_out`` (as a k x n edge): it becomes the output node.
        RectiPy's regression pairs X with Y row by row, so it only works for
        ``sampling_steps=1, cutoff=0``; qifsim gives the same there and averages the targets
        over each sample's window otherwise.

        Memory: RectiPy keeps every sampled output plus copies of them (8 n bytes per sample and
        more). By default (``record_output=False``, where RectiPy records the outputs) nothing
        grows with the number of samples but the ``record_vars``: the network runs in chunks of
        ``chunk_steps`` rows (by default about 64 MiB of per-step outputs), each chunk's windows
        are added to ``X^T X`` (n x n) and ``X^T Y`` (n x k) and dropped, so the memory is
        8 (n^2 + n k) bytes plus one chunk; there is no ``obs["out"]`` or ``obs["y"]`` then.
        With ``record_output=True`` (RectiPy's results) X is the recording itself (8 n bytes per
        sample, no copy), plus ``y = X w_out`` (8 k per sample).

        qifsim differs from RectiPy in: the readout edge applies ``w_out^T`` also when n == k
        (RectiPy passes ``w_out.T`` to its edge, which transposes a square matrix once more);
        after the readout is added the engine is built anew at the next run (see the class
        docstring: the populations keep their state and the step count).
        ``record_loss`` must be False (there is no loss); ``enable_grad`` has no effect; the
        other keyword arguments are ``run``'s.
        """
        from .training import fit_ridge

        if record_loss:
            raise InvalidArgument("fit_ridge: record_loss=True: there is no loss to record (RectiPy records 0.0)")
        run_kwargs = dict(memory_budget=memory_budget, batch_samples=batch_samples, cuda_graphs=cuda_graphs,
                          divergence_check_steps=divergence_check_steps, event_coupling=event_coupling,
                          subnormals=subnormals, coupling=coupling, resync=resync, reproducible=reproducible)
        return fit_ridge(self, inputs, targets, sampling_steps, alpha, verbose, add_readout_node, cutoff,
                         record_output, record_vars, obs, chunk_steps, run_kwargs)

    def fit_rls(self, inputs, targets, update_steps: int = 1, sampling_steps: int = 100, verbose: bool = True,
                record_output: bool = True, record_loss: bool = True,
                record_vars: Optional[list] = None) -> Observer:
        """Train the edge added with ``train="rls"`` by recursive least squares, as RectiPy 0.12.2.

        ``inputs``/``targets``: T x n_in and T x k arrays, or lists of them (epochs: the
        network returns to its state at the start, ``net.state``, after each epoch; the
        Observer saves ``"epoch_loss"``, the last update's loss of each epoch, and
        ``"epochs"``). At every step the network steps once (qifsim's engine); at steps
        ``t % update_steps == 0`` the edge is updated (qifsim.training.RLS: RectiPy's update)
        with the source's output, ``targets[t]`` and the target's output; at steps
        ``t % sampling_steps == 0`` the Observer records the network output (before the
        update), the loss (|target - output|^2 after the update's error) and ``record_vars``.
        Steps that are neither run in the engine in one go.

        The trained edge must end in the network's output node, a function node that takes no
        other input (RectiPy's readout): while the weights change, qifsim computes that node's
        output from them; when training ends the engine is built anew with the trained weights
        (``get_edge(source, target).weights``; the populations keep their state and the step
        count). RectiPy 0.12.2 saves an empty "epoch_loss" and prints progress;
        ``verbose`` here reports epochs on stderr.
        """
        from .training import fit_rls

        return fit_rls(self, self._rls_readout("fit_rls"), inputs, targets, update_steps, sampling_steps, verbose,
                       record_output, record_loss, record_vars)

    def fit_bptt(self, inputs, targets, *args, **kwargs):
        """RectiPy's training by backpropagation through time: not available (qifsim computes
        no gradients); refused with InvalidArgument. Use ``fit_ridge`` or ``fit_rls``."""
        from .training import no_gradients

        raise no_gradients("fit_bptt")

    def fit_eprop(self, inputs, targets, *args, **kwargs):
        """RectiPy's e-prop (not implemented in RectiPy 0.12.2 either): refused with
        InvalidArgument. Use ``fit_ridge`` or ``fit_rls``."""
        from .training import no_gradients

        raise no_gradients("fit_eprop")

    def _add_trained_edge(self, source: str, target: str, weights, train, dtype, edge_attrs, **kwargs) -> Edge:
        """``add_edge(..., train=...)``: ``"rls"`` adds the edge (weights default to zeros, as
        RectiPy's RLS edge) and its RLS state (``beta``, ``alpha`` from ``kwargs``) for
        ``fit_rls``; ``"gd"`` is refused."""
        from .training import RLS, no_gradients

        call = f"add_edge('{source}', '{target}')"
        if train == "gd":
            raise no_gradients(f"{call}: train='gd'")
        if train != "rls":
            raise InvalidArgument(f"{call}: train={train!r} is unknown (None, or 'rls' for fit_rls)")
        unknown = [k for k in kwargs if k not in ("beta", "alpha")]
        if unknown:
            raise InvalidArgument(f"{call}: {', '.join(unknown)}: not arguments of an RLS edge (beta, alpha)")
        n, k = self._attrs(source, call)["n_out"], self._attrs(target, call)["n_in"]
        rls = RLS(np.zeros((k, n)), **kwargs)  # checks beta and alpha before anything changes
        edge = self.add_edge(source, target, np.zeros((k, n)) if weights is None else weights, None, dtype, edge_attrs)
        w = edge.weights
        rls.weights = np.array(w.toarray() if _sparse_matrix(w) is not None else w, dtype=np.float64)
        attrs = self._edges[(source, target)]
        attrs["trainable"] = True
        attrs["rls"] = rls
        self._train_edge = (source, target)
        return edge

    def _rls_readout(self, call: str) -> tuple:
        """``(source, target, activation, rls)`` of the last edge added with ``train="rls"``,
        checked: it ends in the output node, a function node with no other input."""
        key = getattr(self, "_train_edge", None)
        if key is None or key not in self._edges or "rls" not in self._edges[key]:
            raise InvalidArgument(f"{call}: no edge is trained by RLS; add one with add_edge(source, target, "
                                  f"train='rls')")
        source, target = key
        self.compile()
        node = self._nodes[target]["node"]
        others = [s for s, t in self._edges if t == target and s != source]
        if target != self._core.output_node or node.template is not None or others:
            raise InvalidArgument(
                f"{call}: the RLS edge '{source}' -> '{target}' must end in the network's output node "
                f"('{self._core.output_node}'), a function node with no other input: qifsim computes that node's "
                f"output from the changing weights while it trains")
        return source, target, node.activation, self._edges[key]["rls"]

    def _set_edge_weights(self, source: str, target: str, weights) -> None:
        """New dense weights for an edge; the engine is built anew (the populations keep their state)."""
        edge = self._edges[(source, target)]["edge"]
        edge.weights = np.array(weights, dtype=np.float64)
        edge._csr = None
        self._rebuild(self._nodes, self._edges, self._state_now())

    # ---- properties ------------------------------------------------------------------------
    @property
    def dt(self) -> float:
        """The step size."""
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
        """The precision the network computes in (float64 or float32)."""
        return np.dtype(self._precision)

    @property
    def nodes(self) -> Mapping:
        """The nodes, as RectiPy's ``net.nodes`` (networkx's NodeView): iterating gives the
        labels in the order they were added, ``net.nodes[label]`` the node's attribute dict."""
        return _NodeView(self._nodes)

    @property
    def state(self) -> dict:
        """``{label: y}`` for every population, as RectiPy: y is the node's state vector, here
        its state variables concatenated in the template's order (v, s[, x]; RectiPy's order is
        PyRates'), each as ``get_var`` shows it. ``reset(net.state)`` restores it."""
        return {label: a["node"].y for label, a in self._nodes.items() if a["node"].template is not None}

    @property
    def n_in(self) -> int:
        """Width of the network input: the input node's n_in (after compile())."""
        return self._core.input_width

    @property
    def n_out(self) -> int:
        """Width of the network output: the output node's n_out (after compile())."""
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
        """Steps taken since the first compile() or the last reset() (an engine built again
        after a change to the graph continues the count)."""
        return self._core.step_count

    def __len__(self) -> int:
        return len(self._nodes)

    def __repr__(self) -> str:
        return (f"qifsim.Network(dt={self.dt}, device='{self._device}', dtype={self._precision}, "
                f"nodes={list(self._nodes)})")


def _sweep_args(sweep, mode) -> tuple:
    """A ``run(sweep=...)`` dict as the core takes it: (keys, values, labels, mode). A value is
    a number, an array of one value per neuron, or a ``.npy`` file name (its label)."""
    if not sweep:
        return ([], [], [], "zip")
    if not isinstance(sweep, dict):
        raise InvalidArgument(f"run: sweep must be a dict {{key: [values]}}, got {type(sweep).__name__}")
    keys, values, labels = [], [], []
    for key, items in sweep.items():
        scalar = isinstance(items, (str, bytes, os.PathLike)) or not hasattr(items, "__len__") or \
            (isinstance(items, np.ndarray) and items.ndim == 0)
        if scalar:
            raise InvalidArgument(f"run: sweep[{key!r}] must be a list with one value per member, got {items!r}")
        vs, ls = [], []
        for i, item in enumerate(items):
            label = ""
            if isinstance(item, (str, os.PathLike)):
                label = os.fspath(item)
                if not label.endswith(".npy"):
                    raise InvalidArgument(f"run: sweep[{key!r}][{i}] = {label!r} is neither a number nor a .npy file")
                item = np.load(label, allow_pickle=False)
            try:
                array = np.asarray(item, dtype=np.float64).reshape(-1)
            except (TypeError, ValueError):
                raise InvalidArgument(f"run: sweep[{key!r}][{i}] is not a number or an array of numbers") from None
            vs.append(array.tolist())
            ls.append(label)
        keys.append(str(key))
        values.append(vs)
        labels.append(ls)
    return (keys, values, labels, str(mode))


def _sweep_table(swept) -> list:
    """Each member's swept values: a list of {key: value}, a number, or a label ("<n> values")."""
    keys, values, labels, _ = swept
    table = []
    for at in _qifsim.sweep_members(swept):
        row = {}
        for k, i in enumerate(at):
            v = values[k][i]
            row[keys[k]] = labels[k][i] or (v[0] if len(v) == 1 else np.asarray(v))
        table.append(row)
    return table

