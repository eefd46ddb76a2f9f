"""RectiPy's QIF neuron templates as qifsim populations: names, variables and node_vars.

RectiPy builds a node from a PyRates YAML template; qifsim has the two QIF templates built
in. This module maps a template's name, its variable names and RectiPy's ``node_vars`` keys
(``"eta"``, ``"qif_op/eta"``, ``"qif/qif_op/eta"``, ``"all/qif_op/eta"``) onto the fields of
the C++ ``QifPopulation``, and rejects anything else with a message naming it.
"""

from dataclasses import dataclass, field
from typing import Dict, Tuple

from .errors import InvalidArgument


@dataclass(frozen=True)
class QifTemplate:
    """One RectiPy template: its operator, its variables and where each one goes."""

    name: str
    op: str
    adaptation: bool
    # node_vars name -> QifPopulation field (initial values of state variables end in 0)
    node_vars: Dict[str, str] = field(default_factory=dict)


_QIF_VARS = {"eta": "eta", "tau": "tau", "k": "k", "tau_s": "tau_s", "v": "v0", "s": "s0"}
_SFA_VARS = dict(_QIF_VARS, alpha="alpha", tau_x="tau_x", x="x0")

QIF = QifTemplate("qif", "qif_op", False, _QIF_VARS)
QIF_SFA = QifTemplate("qif_sfa", "qif_sfa_op", True, _SFA_VARS)

# RectiPy's template paths (neuron_model_templates/spiking_neurons/qif.yaml) and short names.
TEMPLATES = {
    "neuron_model_templates.spiking_neurons.qif.qif": QIF,
    "neuron_model_templates.spiking_neurons.qif.qif_sfa": QIF_SFA,
    "qif": QIF,
    "qif_sfa": QIF_SFA,
}

# The template's input variables: RectiPy sets them from edges, the network input and spikes.
INPUTS = ("I_ext", "s_in", "spike")


def lookup(node) -> QifTemplate:
    """The template for RectiPy's ``node`` argument; InvalidArgument for any other model."""
    if not isinstance(node, str):
        raise InvalidArgument(
            f"add_diffeq_node: node must be the name of a QIF template (one of {', '.join(TEMPLATES)}); "
            f"qifsim does not take PyRates templates ({type(node).__name__})")
    key = node.replace("/", ".")
    if key not in TEMPLATES:
        raise InvalidArgument(
            f"add_diffeq_node: template '{node}' is not supported; qifsim simulates the QIF templates "
            f"{', '.join(TEMPLATES)}")
    return TEMPLATES[key]


def strip_op(value: str, template: QifTemplate, label: str, arg: str) -> str:
    """``"v"`` from ``"v"``, ``"qif_op/v"`` or ``"<node>/qif_op/v"``; the operator must be the template's."""
    parts = value.split("/")
    if len(parts) > 3 or (len(parts) >= 2 and parts[-2] != template.op) or \
            (len(parts) == 3 and parts[0] not in ("all", label, template.name)):
        raise InvalidArgument(
            f"add_diffeq_node('{label}'): {arg} '{value}' does not name a variable of template "
            f"'{template.name}' (write 'var', '{template.op}/var' or '{label}/{template.op}/var')")
    return parts[-1]


def expect(arg: str, value, allowed: Tuple[str, ...], template: QifTemplate, label: str):
    """Check that a RectiPy variable argument names what qifsim's QIF model uses there."""
    if value is None:
        return None
    var = strip_op(value, template, label, arg)
    if var not in allowed:
        raise InvalidArgument(
            f"add_diffeq_node('{label}'): {arg}='{value}' is not supported by qifsim's '{template.name}' "
            f"template (supported: {', '.join(repr(a) for a in allowed)})")
    return var


def node_var_field(key: str, template: QifTemplate, label: str) -> str:
    """The QifPopulation field for a RectiPy ``node_vars`` key."""
    if not isinstance(key, str):
        raise InvalidArgument(f"add_diffeq_node('{label}'): node_vars key {key!r} is not a string")
    var = strip_op(key, template, label, "node_vars key")
    if var in INPUTS:
        raise InvalidArgument(
            f"add_diffeq_node('{label}'): node_vars key '{key}': '{var}' is an input of the template "
            f"(it is set by the network input, edges or spikes), not a parameter")
    if var not in template.node_vars:
        raise InvalidArgument(
            f"add_diffeq_node('{label}'): unknown node_vars key '{key}': template '{template.name}' has "
            f"no variable '{var}' (variables: {', '.join(template.node_vars)})")
    return template.node_vars[var]
