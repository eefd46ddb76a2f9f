"""RectiPy's neuron templates as qifsim populations: names, variables and node_vars.

RectiPy builds a node from a PyRates YAML template; qifsim has its templates built in. This
module maps a template's name, its variable names and RectiPy's ``node_vars`` keys (``"eta"``,
``"qif_op/eta"``, ``"qif/qif_op/eta"``, ``"all/qif_op/eta"``) onto the fields of the C++
population, says which call of the C++ core builds the population, and rejects anything else
with a message naming it.
"""

import difflib
from dataclasses import dataclass, field
from typing import Dict, Tuple

from .errors import InvalidArgument


@dataclass(frozen=True)
class Template:
    """One RectiPy template: its operator, its variables, where each one goes and how the C++
    core builds it.

    ``core_call`` names the core method: ``"add_population"`` (qifsim's QIF population, with
    ``adaptation`` for qif_sfa; ``add_population_csr`` for sparse weights) or
    ``"add_model_population"`` (another neuron model, named ``model`` in the core).
    ``states`` are the state variables in the order ``Network.state`` concatenates them;
    ``params`` the parameters ``node_vars`` and ``set_var`` may set. The ``*_vars`` tuples are
    the names each add_diffeq_node argument may take (an empty ``spike_vars``: a rate model).
    """

    name: str
    op: str
    adaptation: bool
    # node_vars name -> population field (initial values of state variables end in 0)
    node_vars: Dict[str, str] = field(default_factory=dict)
    states: Tuple[str, ...] = ("v", "s")
    params: Tuple[str, ...] = ("eta", "tau", "k", "tau_s")
    inputs: Tuple[str, ...] = ("I_ext", "s_in", "spike")
    input_vars: Tuple[str, ...] = ("I_ext",)
    output_vars: Tuple[str, ...] = ("s", "v")
    source_vars: Tuple[str, ...] = ("s",)
    target_vars: Tuple[str, ...] = ("s_in",)
    spike_vars: Tuple[str, ...] = ("spike",)
    reset_vars: Tuple[str, ...] = ("v",)
    core_call: str = "add_population"
    model: str = "qif"
    ops: Tuple[str, ...] = ()  # further operators of the node template (a rate neuron's output operator)

    @property
    def spiking(self) -> bool:
        return bool(self.spike_vars)


QifTemplate = Template  # the name this class had when QIF was the only model

_QIF_VARS = {"eta": "eta", "tau": "tau", "k": "k", "tau_s": "tau_s", "v": "v0", "s": "s0"}
_SFA_VARS = dict(_QIF_VARS, alpha="alpha", tau_x="tau_x", x="x0")

QIF = Template("qif", "qif_op", False, _QIF_VARS)
QIF_SFA = Template("qif_sfa", "qif_sfa_op", True, _SFA_VARS, states=("v", "s", "x"),
                   params=("eta", "tau", "k", "tau_s", "alpha", "tau_x"))

# RectiPy's other templates (neuron_model_templates/spiking_neurons/lif.yaml, ik.yaml,
# rate_neurons/leaky_integrator.yaml), each a population of the C++ model of the same name.
_MODEL = dict(core_call="add_model_population")
LIF = Template("lif", "lif_op", False, {"tau": "tau", "k": "k", "eta": "eta", "tau_s": "tau_s", "v": "v0", "s": "s0"},
               params=("tau", "k", "eta", "tau_s"), inputs=("I_ext", "s_in", "spike", "s_ext"), model="lif", **_MODEL)
_IK_PARAMS = ("C", "k", "v_r", "v_theta", "eta", "g", "E_r", "b", "tau_u", "kappa")
_IK_VARS = dict({p: p for p in _IK_PARAMS + ("tau_s",)}, v="v0", u="u0", s="s0")
IK = Template("ik", "ik_op", False, _IK_VARS, states=("v", "u", "s"), params=_IK_PARAMS + ("tau_s",), model="ik",
              **_MODEL)
IKU = Template("iku", "iku_op", False, _IK_VARS, states=("v", "u", "s"), params=_IK_PARAMS + ("tau_s",),
               model="iku", **_MODEL)
IK_BIEXP = Template("ik_biexp", "ik_biexp_op", False,
                    dict({p: p for p in _IK_PARAMS + ("tau_r", "tau_d")}, v="v0", u="u0", x="x0", s="s0"),
                    states=("v", "u", "x", "s"), params=_IK_PARAMS + ("tau_r", "tau_d"), model="ik_biexp", **_MODEL)
_RATE = dict(inputs=("I_ext", "r_in"), output_vars=("v", "r"), source_vars=("r",), target_vars=("r_in",),
             spike_vars=(), reset_vars=(), states=("v",), **_MODEL)
TANH = Template("tanh", "li_op", False, {"tau": "tau", "k": "k", "eta": "eta", "v": "v_init"},
                params=("tau", "k", "eta"), model="tanh", ops=("tanh_op",), **_RATE)
SIGMOID = Template("sigmoid", "li_op", False,
                   {"tau": "tau", "k": "k", "eta": "eta", "v": "v_init", "r_max": "r_max", "s": "s", "v0": "v0"},
                   params=("tau", "k", "eta", "r_max", "s", "v0"), model="sigmoid", ops=("sigmoid_op",), **_RATE)

# RectiPy's template paths and short names.
TEMPLATES = {
    "neuron_model_templates.spiking_neurons.qif.qif": QIF,
    "neuron_model_templates.spiking_neurons.qif.qif_sfa": QIF_SFA,
    "neuron_model_templates.spiking_neurons.lif.lif": LIF,
    "neuron_model_templates.spiking_neurons.ik.ik": IK,
    "neuron_model_templates.spiking_neurons.ik.iku": IKU,
    "neuron_model_templates.spiking_neurons.ik.ik_biexp": IK_BIEXP,
    "neuron_model_templates.rate_neurons.leaky_integrator.tanh": TANH,
    "neuron_model_templates.rate_neurons.leaky_integrator.sigmoid": SIGMOID,
    "qif": QIF,
    "qif_sfa": QIF_SFA,
    "lif": LIF,
    "ik": IK,
    "iku": IKU,
    "ik_biexp": IK_BIEXP,
}

# The QIF template's input variables: RectiPy sets them from edges, the network input and spikes.
INPUTS = QIF.inputs


def lookup(node) -> Template:
    """The template for RectiPy's ``node`` argument; InvalidArgument for any other model."""
    if not isinstance(node, str):
        raise InvalidArgument(
            f"add_diffeq_node: node must be the name of a template (one of {', '.join(TEMPLATES)}); "
            f"qifsim does not take PyRates templates ({type(node).__name__})")
    key = node.replace("/", ".")
    if key not in TEMPLATES:
        close = suggest(key)
        raise InvalidArgument(
            f"add_diffeq_node: template '{node}' is not supported" + (f" (did you mean '{close}'?)" if close else "") +
            f"; qifsim simulates the templates {', '.join(TEMPLATES)}")
    return TEMPLATES[key]


def suggest(key: str):
    """The template name closest to a misspelt ``key`` (difflib, case ignored), or None. The
    last part of the path must be close too: ``...spiking_neurons.hh.hh`` shares most of its
    letters with ``...spiking_neurons.qif.qif`` but names another model, and gets none. A key
    whose last part is a template's (``"tanh"``) gets that template's path."""
    names = {name.lower(): name for name in TEMPLATES}
    last = key.lower().rsplit(".", 1)[-1]
    for match in difflib.get_close_matches(key.lower(), names, n=len(names), cutoff=0.6):
        if difflib.SequenceMatcher(None, last, match.rsplit(".", 1)[-1]).ratio() >= 0.6:
            return names[match]
    same_model = [name for lower, name in names.items() if lower.rsplit(".", 1)[-1] == last]
    return same_model[0] if same_model else None


def strip_op(value: str, template: Template, label: str, arg: str) -> str:
    """``"v"`` from ``"v"``, ``"qif_op/v"`` or ``"<node>/qif_op/v"``; the operator must be the template's."""
    parts = value.split("/")
    if len(parts) > 3 or (len(parts) >= 2 and parts[-2] not in (template.op,) + template.ops) or \
            (len(parts) == 3 and parts[0] not in ("all", label, template.name)):
        raise InvalidArgument(
            f"add_diffeq_node('{label}'): {arg} '{value}' does not name a variable of template "
            f"'{template.name}' (write 'var', '{template.op}/var' or '{label}/{template.op}/var')")
    return parts[-1]


def expect(arg: str, value, allowed: Tuple[str, ...], template: Template, label: str):
    """Check that a RectiPy variable argument names what qifsim's QIF model uses there."""
    if value is None:
        return None
    var = strip_op(value, template, label, arg)
    if var not in allowed:
        raise InvalidArgument(
            f"add_diffeq_node('{label}'): {arg}='{value}' is not supported by qifsim's '{template.name}' "
            f"template (supported: {', '.join(repr(a) for a in allowed)})")
    return var


def node_var_field(key: str, template: Template, label: str) -> str:
    """The QifPopulation field for a RectiPy ``node_vars`` key."""
    if not isinstance(key, str):
        raise InvalidArgument(f"add_diffeq_node('{label}'): node_vars key {key!r} is not a string")
    var = strip_op(key, template, label, "node_vars key")
    if var in template.inputs:
        raise InvalidArgument(
            f"add_diffeq_node('{label}'): node_vars key '{key}': '{var}' is an input of the template "
            f"(it is set by the network input, edges or spikes), not a parameter")
    if var not in template.node_vars:
        raise InvalidArgument(
            f"add_diffeq_node('{label}'): unknown node_vars key '{key}': template '{template.name}' has "
            f"no variable '{var}' (variables: {', '.join(template.node_vars)})")
    return template.node_vars[var]
