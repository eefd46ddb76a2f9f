"""``qifsim.Observer``: RectiPy's Observer over qifsim's C++ recordings.

Samples arrive from the engine batch by batch and are stored once, in blocks that the NumPy
arrays returned here view without copying (read-only; ``.copy()`` for a writable array).
"""

import contextlib
import warnings
from typing import NamedTuple, Optional

import numpy as np

from . import _qifsim
from .errors import InvalidArgument, IoError


def var_name(var: str) -> str:
    """``"v"`` from ``"v"``, ``"qif_op/v"`` or ``"qif/qif_op/v"`` (RectiPy's operator paths)."""
    return var.rsplit("/", 1)[-1] if isinstance(var, str) else var


def _record_vars(record_vars) -> list:
    """(node, var, mean, neurons) for each entry: (node, var), (node, var, mean) or (node, var,
    neurons), neurons a sequence of neuron indices recorded in that order."""
    out = []
    for entry in record_vars or []:
        if not isinstance(entry, (tuple, list)) or len(entry) not in (2, 3):
            raise InvalidArgument(f"Observer: record_vars entry {entry!r}: expected (node, var), (node, var, mean) "
                                  "or (node, var, [neurons])")
        node, var = entry[0], var_name(entry[1])
        third = entry[2] if len(entry) == 3 else False
        if isinstance(third, (bool, np.bool_, int, np.integer)):  # the mean flag (RectiPy's, also as 0/1)
            out.append((node, var, bool(third), []))
            continue
        neurons = np.asarray(third)
        if neurons.ndim != 1 or neurons.size == 0 or not np.issubdtype(neurons.dtype, np.integer):
            raise InvalidArgument(f"Observer: record_vars entry {entry!r}: the third item is the mean flag (True/False) "
                                  "or a non-empty list of neuron indices")
        out.append((node, var, False, [int(j) for j in neurons]))
    return out


def _record_spikes(record_spikes) -> list:
    if record_spikes is None:
        return []
    if isinstance(record_spikes, str):
        return [record_spikes]
    out = []
    for pop in record_spikes:
        if not isinstance(pop, str):
            raise InvalidArgument(f"Observer: record_spikes entry {pop!r}: expected a population name")
        out.append(pop)
    return out


class SpikeEvents(NamedTuple):
    """Every spike of a population: its step, the neuron that fired and its time (step * dt),
    in order of step, then ascending neuron (int64, int64, float64 arrays). A sweep's also give
    the member of each spike (``members``; events in order of step, then member, then neuron);
    None for a single network."""
    steps: np.ndarray
    neurons: np.ndarray
    times: np.ndarray
    members: Optional[np.ndarray] = None

    def __len__(self) -> int:
        return int(self.steps.shape[0])


class Observer:
    """Recordings of a run, or of a custom loop, as ``rectipy.Observer``.

    ``Observer(dt, record_output=True, record_loss=True, record_vars=[(node, var, mean)])``,
    RectiPy's defaults. ``Network.run`` refuses an Observer that records the loss (it has no
    targets; RectiPy records a loss of 0 there): pass ``record_loss=False`` for one given to
    ``run(obs=...)``.
    Retrieve by ``obs["out"]``, ``obs["loss"]``, ``obs[("qif", "v")]`` (also ``"qif.v"``):
    samples x width arrays, or 1-d arrays for the loss and neuron-averaged variables;
    ``obs.time`` and ``obs.steps`` give each sample's time and step. ``save(key, value)``
    keeps any other object, retrieved by ``obs[key]``. ``record_spikes=["qif"]`` records every
    spike of those populations, at every step from the cutoff on whatever ``sampling_steps`` is:
    ``obs.spikes("qif")`` (steps, neurons and times).
    """

    def __init__(self, dt: float, record_output: bool = True, record_loss: bool = True,
                 record_vars: Optional[list] = None, record_spikes: Optional[list] = None, _members: int = 1):
        self._core = _qifsim.Observer(float(dt), bool(record_output), bool(record_loss), _record_vars(record_vars),
                                      _record_spikes(record_spikes), int(_members))
        self._saved = {}
        self._models = None  # the neuron models of the network that recorded it (Network.run), for time units
        self._sweep = None  # a sweep's members: [{key: value}] (Network.run(sweep=...))

    @classmethod
    def _wrap(cls, core) -> "Observer":
        obs = cls.__new__(cls)
        obs._core = core
        obs._saved = {}
        obs._models = None
        obs._sweep = None
        return obs

    # ---- recording by hand ------------------------------------------------------------
    def record(self, step: int, output=None, loss: float = 0.0, record_vars: Optional[list] = None) -> None:
        """Store one sample as given: the output, the loss and one array per recorded variable
        (in ``recorded_state_variables`` order; averaged here for a ``mean`` variable)."""
        out = np.ascontiguousarray(output if output is not None else (), dtype=np.float64).reshape(-1)
        values = [np.ascontiguousarray(v, dtype=np.float64).reshape(-1) for v in (record_vars or [])]
        self._core.record(int(step), out, float(loss), values)

    # ---- what was recorded ------------------------------------------------------------
    @property
    def dt(self) -> float:
        return self._core.dt

    @property
    def record_spikes(self) -> list:
        """The populations whose spikes are recorded as events."""
        return list(self._core.record_spikes)

    def spikes(self, population: str) -> SpikeEvents:
        """Every spike of ``population`` (named in ``record_spikes``): ``.steps``, ``.neurons``
        and ``.times``, copies, in order of step, then ascending neuron."""
        steps, neurons = self._core.spike_events(str(population))
        members = self._core.spike_members(str(population)) if self._core.members > 1 else None
        return SpikeEvents(steps, neurons, steps * self._core.dt, members)

    @property
    def recorded_state_variables(self) -> list:
        """``(node, var)`` of every recorded variable, in order."""
        return [(node, var) for node, var, _ in self._core.recorded_state_variables()]

    @property
    def record_output(self) -> bool:
        return self._core.record_output

    @property
    def record_loss(self) -> bool:
        return self._core.record_loss

    @property
    def steps(self) -> np.ndarray:
        """Step index of every sample (int64, read-only view)."""
        return self._core.steps

    @property
    def time(self) -> np.ndarray:
        """Time of every sample: step * dt."""
        return self._core.steps * self._core.dt

    @property
    def batches(self) -> int:
        """Batches received from the engine's ring buffer (manual record(): one per sample)."""
        return self._core.batches

    @property
    def memory_budget(self) -> int:
        """Bytes the recordings may take; a run that would exceed it is refused beforehand."""
        return self._core.memory_budget

    @memory_budget.setter
    def memory_budget(self, value: int) -> None:
        self._core.memory_budget = int(value)

    @property
    def nbytes(self) -> int:
        """Bytes held by the recordings."""
        return self._core.bytes_held

    @property
    def recorded_variables(self) -> list:
        """What RectiPy lists as recorded: ``(node, var)`` of every recorded variable, then
        ``"loss"`` and ``"out"`` where recorded, then ``"steps"``."""
        return self.recorded_state_variables + [k for k in ("loss", "out") if k in self._core.keys()] + ["steps"]

    @property
    def recordings(self):
        """All recordings in one ``pandas.DataFrame`` indexed by time, as RectiPy: the recorded
        variables, then ``"out"``, then ``"loss"``, one column each, labelled by its key
        (``(node, var)``, ``"out"``, ``"loss"``). RectiPy handles only one value per sample;
        here a series with several units gets one column per unit, labelled ``(key, unit)``.
        The values are copies."""
        import pandas as pd

        if self._core.members > 1:
            raise InvalidArgument("Observer.recordings: a sweep's recordings have a member axis; use "
                                  "obs.to_dataframe(key) (columns (member, unit)) or obs[key]")
        labels, blocks = [], []
        for key in self.recorded_state_variables + [k for k in ("out", "loss") if k in self._core.keys()]:
            values = self.to_numpy(key).reshape(len(self), -1)
            labels += [key] if values.shape[1] == 1 else [(key, unit) for unit in self._units(key, values.shape[1])]
            blocks.append(values)
        data = np.hstack(blocks) if blocks else np.empty((len(self), 0))
        return pd.DataFrame(data, index=pd.Index(self.time, name="time"),
                            columns=pd.Index(labels, dtype=object, tupleize_cols=False))

    def save(self, key, val) -> None:
        """Keep ``val`` (any object) under ``key``, as RectiPy; ``obs[key]`` returns it as
        stored and ``obs.to_numpy(key)`` as ``np.asarray(val)``. A key that names a recording
        (``"out"``, ``"loss"``, ``(node, var)``, ``"steps"``, ``"time"``) is refused: RectiPy
        would store it but return the recording."""
        if self._is_recording(key):
            raise InvalidArgument(f"Observer.save: key {key!r} names a recording; choose another key")
        try:
            self._saved[key] = val
        except TypeError:
            raise InvalidArgument(f"Observer.save: key {key!r} is not hashable") from None

    def export(self, directory, formats=("npy",), allow_symlink: bool = False) -> list:
        """Write the recordings to files in ``directory`` (created if needed) and return their
        paths: one file per series named by its key (``out``, ``loss``, ``qif.v``) plus ``steps``
        and ``time``, as ``.npy`` (``formats`` holds ``"npy"``) and/or ``.csv`` (``"csv"``: one
        row per sample). Saved values (``save``) are not written. (RectiPy's Observer has no
        file export; its ``save`` keeps a value in memory, as qifsim's does.)

        Each file is written under a temporary name and renamed onto its own when complete: an
        interrupted or failed export (a full disk: IoError naming the file) leaves no partial
        file, and a link already at a file's name is replaced, never written through. A
        ``directory`` that is itself a symbolic link is refused, as ``qifsim run`` refuses one
        (the files would land wherever it points), unless ``allow_symlink``."""
        import os

        unknown = [f for f in formats if f not in ("npy", "csv")]
        if unknown or not formats:
            raise InvalidArgument(f"Observer.export: formats {list(formats)!r}: use 'npy' and/or 'csv'")
        if os.path.islink(directory) and not allow_symlink:
            raise IoError(f"Observer.export: '{os.fspath(directory)}' is a symbolic link (to "
                          f"'{os.readlink(directory)}'); the files would land wherever it points. Give the folder "
                          f"itself, or allow_symlink=True")
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError as e:  # a file at that name, no permission, a full disk
            raise IoError(f"Observer.export: cannot make the folder '{os.fspath(directory)}': {e}") from e
        series = {"steps": self.steps, "time": self.time}
        for key in self._core.keys():
            series[key] = self.to_numpy(key if key in ("out", "loss") else tuple(key.split(".", 1)))
        paths = []
        for name, values in series.items():
            for fmt in ("npy", "csv"):
                if fmt not in formats:
                    continue
                path = os.path.join(str(directory), f"{name}.{fmt}")
                temp = os.path.join(str(directory), f".{name}.{fmt}.{os.getpid()}.tmp")
                try:
                    with open(temp, "xb") as f:  # O_EXCL: never through an existing name
                        if fmt == "npy":
                            np.save(f, np.asarray(values))
                        else:
                            np.savetxt(f, np.asarray(values).reshape(len(self), -1), delimiter=",",
                                       fmt="%d" if name == "steps" else "%.17g")
                    os.replace(temp, path)
                except BaseException as e:
                    with contextlib.suppress(OSError):
                        os.remove(temp)
                    if isinstance(e, OSError):
                        raise IoError(f"Observer.export: writing '{path}' failed: {e}") from e
                    raise
                paths.append(path)
        return paths

    def keys(self) -> list:
        """``"out"``, ``"loss"`` and ``(node, var)`` of every recorded series, in order."""
        return [k if k in ("out", "loss") else tuple(k.split(".", 1)) for k in self._core.keys()]

    def __len__(self) -> int:
        return self._core.samples

    @property
    def members(self) -> Optional[list]:
        """A sweep's members (``Network.run(sweep=...)``): for each, ``{key: value}`` of its
        swept values (a number, a file name, or the array of per-neuron values); None for a
        single network."""
        return self._sweep

    def members_frame(self):
        """A sweep's members as a ``pandas.DataFrame``, one row per member (as members.csv): its
        swept values, its status (``"diverged"`` for a member that stopped, whose later samples
        hold NaN), its samples before any stop, and why it stopped."""
        import pandas as pd

        if self._sweep is None:
            raise InvalidArgument("Observer.members_frame: this recording is not a sweep's")
        frame = pd.DataFrame(self._sweep, index=pd.Index(range(len(self._sweep)), name="member"))
        stops = self._core.member_stops()
        frame["status"] = ["diverged" if step >= 0 else "complete" for step, _, _ in stops]
        frame["samples"] = [samples for _, _, samples in stops]
        frame["reason"] = [reason for _, reason, _ in stops]
        return frame

    # ---- retrieval ----------------------------------------------------------------------
    def _key(self, item) -> str:
        if isinstance(item, tuple) and len(item) == 2:
            return f"{item[0]}.{var_name(item[1])}"
        if isinstance(item, str):
            return item
        raise InvalidArgument(f"Observer: {item!r} is not a recording key ('out', 'loss' or (node, var))")

    def _squeezed(self, key: str) -> bool:
        """Loss and neuron-averaged variables are one number per sample: 1-d arrays."""
        if key == "loss":
            return True
        return any(f"{n}.{v}" == key and mean for n, v, mean in self._core.recorded_state_variables())

    def _is_recording(self, item) -> bool:
        if isinstance(item, str) and item in ("steps", "time"):
            return True
        if not (isinstance(item, str) or (isinstance(item, tuple) and len(item) == 2)):
            return False
        return self._key(item) in self._core.keys()

    def _saved_value(self, item):
        """``(True, value)`` for a key given to ``save`` (and not a recording), else ``(False, None)``."""
        if self._is_recording(item):
            return False, None
        try:
            return (True, self._saved[item]) if item in self._saved else (False, None)
        except TypeError:
            return False, None

    def to_numpy(self, item) -> np.ndarray:
        """A recording as one array (samples x width, or samples for loss and means); a
        read-only view of the stored values, no copy. A saved value: ``np.asarray(value)``."""
        saved, value = self._saved_value(item)
        if saved:
            return np.asarray(value)
        if item in ("steps", "time"):
            return getattr(self, item)
        key = self._key(item)
        values = self._core.series(key)
        members = self._core.members
        if members > 1:  # samples x members x width (samples x members for one value)
            values = values.reshape(values.shape[0], members, -1)
            return values[:, :, 0] if self._squeezed(key) else values
        return values[:, 0] if self._squeezed(key) else values

    def __getitem__(self, item):
        """A recording as ``to_numpy`` gives it, or a saved value as it was stored."""
        saved, value = self._saved_value(item)
        return value if saved else self.to_numpy(item)

    def _units(self, item, width: int) -> list:
        """The labels of a recording's columns: the neurons recorded where they were chosen
        (``record_vars=[("qif", "v", [4, 0])]`` gives 4, 0), else 0 .. width - 1."""
        if isinstance(item, tuple) and len(item) == 2 and self._is_recording(item):
            chosen = list(self._core.chosen_neurons(str(item[0]), var_name(str(item[1]))))
            if len(chosen) == width:
                return chosen
        return list(range(width))

    def to_dataframe(self, item, copy: bool = True):
        """A recording as a ``pandas.DataFrame`` indexed by time (one column per unit).
        ``copy=False`` shares the stored values (read-only). A saved value that makes a 1-d or
        2-d array becomes a DataFrame with a plain 0, 1, ... index; any other saved value is
        returned as stored (RectiPy's fallback)."""
        import pandas as pd

        saved, value = self._saved_value(item)
        if saved:
            array = np.asarray(value)
            return pd.DataFrame(array.copy() if copy else array) if array.ndim in (1, 2) else value
        values = self.to_numpy(item)
        if self._core.members > 1:  # a sweep: columns (member, unit), or member for one value
            members = range(self._core.members)
            columns = (pd.Index(members, name="member") if values.ndim == 2 else
                       pd.MultiIndex.from_product([members, self._units(item, values.shape[2])], names=["member", "unit"]))
            data = values.reshape(len(values), -1)
            return pd.DataFrame(data.copy() if copy else data, index=pd.Index(self.time, name="time"), columns=columns)
        columns = [_label(item)] if values.ndim == 1 else self._units(item, values.shape[1])
        data = values.reshape(len(values), -1)
        return pd.DataFrame(data.copy() if copy else data, index=pd.Index(self.time, name="time"), columns=columns)

    # ---- plots --------------------------------------------------------------------------
    def _name(self, item) -> str:
        """How a plot names a recording: ``"mean qif.v"`` for a neuron-averaged variable."""
        label = _label(item)
        if self._is_recording(item) and item not in ("steps", "time", "loss") and self._squeezed(self._key(item)):
            return f"mean {label}"
        return label

    def _time_label(self) -> str:
        """The time axis in the model's unit: ms where every population is an Izhikevich model
        (ik, iku, ik_biexp), plain "time" for RectiPy's dimensionless models, and "model units"
        where that cannot be told (a manual recording, or both kinds in one network)."""
        models = self._models
        if models is None:
            return "time (model units)"
        models = set(models)
        if models and models <= _IK_MODELS:
            return "time (ms)"
        return "time" if not models & _IK_MODELS else "time (model units)"

    def plot(self, y, x=None, ax=None, **kwargs):
        """Plot ``y`` against time, or against the recording ``x``; returns the matplotlib Axes.
        Other keyword arguments go to ``ax.plot`` (``figsize`` to the new figure). The lines are
        labelled (``qif.v[i]`` per neuron, ``mean qif.v`` for a neuron-averaged variable) unless
        ``label`` is given; the y label and title name the series, and a legend inside the axes
        tells the lines apart when there are 2 to 10. A sweep's recording draws one line per member
        against time (the mean over the units), labelled by the member's swept values."""
        members = self._core.members
        if members > 1 and x is not None:
            raise InvalidArgument("Observer.plot: a sweep's recording is drawn against time (one line per member); "
                                  "plot obs[key][:, b] against obs[x][:, b] for member b")
        ax = _axes(ax, kwargs)
        y_sig = self.to_numpy(y)
        if members > 1:
            name = f"mean {_label(y)}" if y_sig.ndim == 3 else self._name(y)
            if y_sig.ndim == 3:  # units averaged; a stopped member's NaN stays NaN
                with np.errstate(invalid="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    y_sig = np.nanmean(y_sig, axis=2)
            lines = ax.plot(self.time, y_sig, **kwargs)
            if "label" not in kwargs:
                for b, line in enumerate(lines):
                    values = self._sweep[b] if self._sweep else {}
                    line.set_label(", ".join(f"{k} {v if np.ndim(v) == 0 else 'per neuron'}" for k, v in values.items())
                                   or f"member {b}")
            ax.set_xlabel(self._time_label())
            ax.set_ylabel(name)
            ax.set_title(f"{name} against time, {members} members")
            if members <= _MAX_LEGEND:
                ax.legend(loc="best", fontsize="small")
            return ax
        x_sig = self.time if x is None else self.to_numpy(x)
        name = self._name(y)
        xlabel = self._time_label() if x is None else self._name(x)
        lines = ax.plot(x_sig, y_sig, **kwargs)
        if "label" not in kwargs:
            units = self._units(y, len(lines))
            for i, line in enumerate(lines):
                line.set_label(f"{name}[{units[i]}]" if len(lines) > 1 else name)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(name)
        # The title names what obs.plot drew on these axes; a title set otherwise stays.
        drawn = getattr(ax, "_qifsim_drawn", [])
        if ax.get_title() in ("", getattr(ax, "_qifsim_title", None)):
            drawn = drawn + [(name, xlabel)] if (name, xlabel) not in drawn else drawn
            against = {x for _, x in drawn}
            title = (f"{', '.join(n for n, _ in drawn)} against {xlabel}" if len(against) == 1 else
                     "; ".join(f"{n} against {x}" for n, x in drawn))
            ax.set_title(title)
            ax._qifsim_drawn, ax._qifsim_title = drawn, title
        labelled = [h for h, lab in zip(*ax.get_legend_handles_labels()) if lab]
        if 2 <= len(labelled) <= _MAX_LEGEND:
            ax.legend(loc="best", fontsize="small")
        return ax

    def matshow(self, v, ax=None, **kwargs):
        """A heat map of a per-unit recording (units x time); returns the matplotlib Axes.
        Other keyword arguments go to ``ax.imshow``. The colour scale spans the 1st to 99th
        percentile of the values, as ``qifsim plot`` draws heat maps: the few samples at a
        spike's peak and reset would otherwise take the whole scale and hide the subthreshold
        range (``vmin``, ``vmax`` or ``norm`` choose another)."""
        import matplotlib.pyplot as plt

        ax = _axes(ax, kwargs)
        values = self.to_numpy(v).reshape(len(self), -1)
        t = self.time
        extent = (t[0], t[-1], -0.5, values.shape[1] - 0.5) if len(t) else None
        kwargs.setdefault("aspect", "auto")
        kwargs.setdefault("interpolation", "none")
        kwargs.setdefault("origin", "lower")
        name = self._name(v)
        clip = None
        if not {"vmin", "vmax", "norm"} & set(kwargs):
            clip = percentile_range(values)
            if clip is not None:
                kwargs["vmin"], kwargs["vmax"] = clip
        im = ax.imshow(values.T, extent=extent, **kwargs)
        extend = "neither"
        if clip is not None:
            finite = values[np.isfinite(values)]
            below, above = bool(np.any(finite < clip[0])), bool(np.any(finite > clip[1]))
            extend = "both" if below and above else "min" if below else "max" if above else "neither"
        cbar = plt.colorbar(im, ax=ax, shrink=0.8, extend=extend)
        cbar.set_label(f"{name} (1st-99th percentile)" if clip is not None else name)
        ax.set_xlabel(self._time_label())
        ax.set_ylabel(f"{_label(v)} (unit)")
        if not ax.get_title():
            ax.set_title(f"{name} per unit" if values.shape[1] > 1 else name)
        return ax

    def __repr__(self) -> str:
        return f"qifsim.Observer(dt={self.dt}, samples={len(self)}, keys={self.keys()})"


_IK_MODELS = frozenset(("ik", "iku", "ik_biexp"))  # time in ms; RectiPy's other models are dimensionless
_MAX_LEGEND = 10  # lines a legend names; more are told apart by neither


def percentile_range(values):
    """``(lo, hi)``: the 1st and 99th percentile of the finite values (``hi > lo``), the colour
    scale of ``qifsim plot``'s heat maps; None when there are none."""
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if not finite.size:
        return None
    lo, hi = (float(b) for b in np.percentile(finite, [1, 99]))
    return lo, hi if hi > lo else lo + 1.0


def _label(item) -> str:
    return ".".join(item) if isinstance(item, tuple) else str(item)


def _axes(ax, kwargs):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    figsize = kwargs.pop("figsize", None)
    _, ax = plt.subplots(**({"figsize": figsize} if figsize is not None else {}))
    return ax
