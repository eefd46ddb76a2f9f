"""The node and edge objects a qifsim Network shows, as RectiPy's node objects and ``Linear``
edges show themselves to a user, and how edge weights are oriented."""

from collections.abc import Mapping
from typing import Optional

import numpy as np

from ._convert import _matrix, _sparse_matrix
from .errors import InvalidArgument
from .observer import var_name


# RectiPy's names for a differential-equation node's mapped variables (rectipy/nodes.py).
_ALIASES = {"in": "I_ext", "spike_var": "spike"}


class Node:
    """A node of a Network, as RectiPy's node objects (``RateNet``, ``SpikeResetNet``,
    ``InstantNode``) show it to a user: ``net.get_node(label)``, ``net[label]["node"]``.

    ``n_in`` and ``n_out`` (a population: its N neurons; a function node: its n units),
    ``parameter_names`` and ``variable_names`` (RectiPy's ``"<op>/<var>"`` names, with its
    ``"out"``, ``"reset_var"``, ``"in"`` and ``"spike_var"``; RectiPy's lists also hold PyRates'
    internal arguments, qifsim's only the template's variables), ``node[name]``: a copy of a
    variable's values as ``Network.get_var`` returns them, and ``y`` (a population's state
    variables, concatenated in the template's order: v, s and, for qif_sfa, x). A node taken
    out with ``pop_node`` keeps the values it had then, as RectiPy's node object keeps its
    tensors.
    """

    def __init__(self, net, label: str, node_type: str, n: int, template=None, output_var: str = "out",
                 reset_var: str = "v", activation: Optional[str] = None):
        self._net = net
        self.label = label
        self.node_type = node_type  # "diff_eq" or "func_instant", RectiPy's graph attribute
        self.n_in = self.n_out = n
        self.template = template
        self.activation = activation
        self._output_var, self._reset_var = output_var, reset_var
        self._popped = None  # {var: values} once taken out of its network
        self._spec = None  # what the core call that builds it takes (set by Network)

    @property
    def parameter_names(self) -> list:
        """The names ``node[name]`` takes for parameters and inputs (``"qif_op/eta"``, ...)."""
        if self.template is None:
            return []
        op = self.template.op
        return [f"{op}/{p}" for p in self.template.params] + \
            [f"{op}/{v}" for v in ("I_ext", "spike")] + list(_ALIASES)

    @property
    def variable_names(self) -> list:
        """The names ``node[name]`` takes for state variables (``"qif_op/v"``, ``"out"``, ...)."""
        if self.template is None:
            return ["in", "out"]
        return [f"{self.template.op}/{v}" for v in self.template.states] + ["out", "reset_var"]

    def _var(self, name: str) -> str:
        if self.template is not None:
            if name == "out":
                return self._output_var
            if name == "reset_var":
                return self._reset_var
            if name in _ALIASES:
                return _ALIASES[name]
        return var_name(name)

    def __getitem__(self, name: str) -> np.ndarray:
        """A copy of the values of variable or parameter ``name`` (as ``Network.get_var``)."""
        var = self._var(name)
        if self._popped is not None:
            if var not in self._popped:
                raise InvalidArgument(f"node '{self.label}' (popped): no variable '{name}' was kept "
                                      f"(kept: {', '.join(self._popped)})")
            return self._popped[var].copy()
        return self._net.get_var(self.label, var)

    @property
    def y(self) -> np.ndarray:
        """A population's state variables, concatenated in the template's order (v, s[, x])."""
        if self.template is None:
            raise InvalidArgument(f"node '{self.label}' is a function node; it has no state vector y")
        return np.concatenate([self[v] for v in self.template.states])

    def __repr__(self) -> str:
        what = self.template.name if self.template is not None else self.activation
        return f"qifsim.Node('{self.label}', {self.node_type}, {what}, n={self.n_out})"


class Edge:
    """An edge of a Network, as RectiPy's ``Linear`` shows it: ``weights``, the
    ``n_out x n_in`` matrix it applies (target inputs x source outputs; a dense array or the
    SciPy CSR matrix given, oriented so), ``n_in`` (the source's outputs) and ``n_out`` (the
    target's inputs)."""

    def __init__(self, source: str, target: str, weights, n_in: int, n_out: int):
        self.source, self.target = source, target
        self.weights = weights
        self.n_in, self.n_out = n_in, n_out
        self._csr = None  # the core's CSR arrays for sparse weights
        self._memory = None  # (delays, filter) of RectiPy's LinearMemory/LinearFilter edges

    def __repr__(self) -> str:
        return f"qifsim.Edge('{self.source}' -> '{self.target}', {self.n_out} x {self.n_in})"


class _NodeView(Mapping):
    """The network's nodes as networkx's NodeView (RectiPy's ``net.nodes``): iterates over the
    labels in the order they were added; ``nodes[label]`` is the node's attribute dict."""

    def __init__(self, nodes: dict):
        self._nodes = nodes

    def __getitem__(self, label):
        return self._nodes[label]

    def __iter__(self):
        return iter(self._nodes)

    def __len__(self) -> int:
        return len(self._nodes)

    def __repr__(self) -> str:
        return f"NodeView({tuple(self._nodes)})"


def _oriented(weights, n_source: int, n_target: int, what: str):
    """Edge weights as the ``n_target x n_source`` matrix the core applies, decided as RectiPy
    0.12.2 does: weights of shape ``n_source x n_target`` are transposed, checked first, so a
    square matrix between a source and a target of the same width is transposed too; any other
    shape than ``n_target x n_source`` is an error. A SciPy sparse matrix stays sparse (CSR)."""
    m = _sparse_matrix(weights)
    if m is None:
        m = _matrix(weights, what)
    shape = tuple(int(d) for d in m.shape)
    if shape == (n_source, n_target):
        m = m.T.tocsr() if _sparse_matrix(m) is not None else np.ascontiguousarray(m.T)
    elif shape != (n_target, n_source):
        raise InvalidArgument(f"{what} are {shape[0]} x {shape[1]}; expected {n_target} x {n_source} "
                              f"(target inputs x source outputs) or {n_source} x {n_target}")
    return m
