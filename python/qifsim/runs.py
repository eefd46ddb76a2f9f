"""Runs described by TOML config files, and the recordings they leave in their output folder.

    import qifsim
    run = qifsim.run_config("examples/mean_field.toml", set=["record.sampling_steps=10"])
    rec = qifsim.load_recording(run.out_dir)        # checks the folder's manifest
    rec["out"], rec.time, rec.status                 # NumPy arrays, "complete"

A run owns its output folder: ``manifest.json`` there says whether the run is still going,
complete, stopped (Ctrl-C) or killed, and how many samples every file holds. A stopped or
killed run continues with ``qifsim.run_config(resume=folder)``, appending to the same files.
"""

from __future__ import annotations

import json
import os
import stat
import warnings
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence

import numpy as np

from . import _qifsim
from .errors import IoError


class IncompleteRecordingWarning(UserWarning):
    """The recording in a folder is not complete (its run is going, stopped, failed or was killed)."""


@dataclass
class RunResult:
    """What a config run did: its folder and files, the samples in them, where it started and
    stopped (``next_step == steps`` when complete) and, for a resumed run allowed to differ
    from its checkpoint, what changed."""
    out_dir: str
    files: List[str]
    samples: int
    steps: int
    first_step: int
    next_step: int
    checkpoint: str = ""
    changes: List[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.next_step >= self.steps


def run_config(config: Optional[str] = None, *, set: Sequence[str] = (), out_dir: Optional[str] = None,
               formats: Optional[Iterable[str]] = None, resume: Optional[str] = None, allow_changes: bool = False,
               checkpoint_seconds: Optional[float] = None, flush_seconds: Optional[float] = None,
               progress: str = "auto") -> RunResult:
    """Run a TOML config file (``qifsim run`` from Python) into its output folder.

    ``set``: overrides ``"key=value"`` as ``--set``; ``out_dir``/``formats``: as ``-o``/``-f``.
    ``resume``: an output folder whose run was stopped or killed: it continues from the
    folder's checkpoint, appending to the same files (``config`` may name the config file,
    which is the run's own by default); a run that differs from the checkpoint is refused
    unless ``allow_changes``. ``checkpoint_seconds``/``flush_seconds`` override the config's
    ``record.checkpoint_seconds``/``record.flush_seconds``. Ctrl-C stops the run at a step
    boundary with its files complete and a checkpoint, and raises KeyboardInterrupt.
    """
    if not _qifsim.config_supported():
        raise RuntimeError("this qifsim build reads no TOML configs (it was built without toml++)")
    if config is None and resume is None:
        raise TypeError("run_config() needs a config file, or resume=<output folder>")
    if resume is not None and (out_dir is not None or formats is not None):
        raise TypeError("run_config(resume=...) continues the run in its own folder with its own formats; "
                        "out_dir and formats do not apply")
    r = _qifsim.run_config(os.fspath(config) if config is not None else "", [str(s) for s in set],
                           os.fspath(out_dir) if out_dir is not None else "",
                           [str(f) for f in formats] if formats is not None else [], formats is not None,
                           os.fspath(resume) if resume is not None else "", bool(allow_changes),
                           -1.0 if checkpoint_seconds is None else float(checkpoint_seconds),
                           -1.0 if flush_seconds is None else float(flush_seconds), str(progress))
    return RunResult(**r)


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _not_regular(path: str, mode: int, what: str) -> IoError:
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    return IoError(f"'{path}' is {kind}, not {what}")


def _require_regular(path: str, what: str) -> None:
    """A FIFO or a device at a recording's name would block a reader or never end: refused."""
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        raise _not_regular(path, mode, what)


def _read_regular(path: str, what: str) -> bytes:
    """The bytes of a regular file; anything else there is an IoError naming it (opened
    without waiting, so a FIFO cannot block)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as f:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise _not_regular(path, mode, what)
        os.set_blocking(fd, True)
        return f.read()


def read_manifest(folder: str) -> Optional[dict]:
    """The folder's manifest.json as a dict (None when there is none). Something else at that
    name (a FIFO, a device, a folder) is an IoError naming it."""
    path = os.path.join(folder, "manifest.json")
    try:
        return json.loads(_read_regular(path, "a run's manifest"))
    except FileNotFoundError:
        return None


def describe_status(manifest: Optional[dict]) -> str:
    """One line on the state of a run's recording, from its manifest ("" when complete)."""
    if manifest is None:
        return "no manifest.json: not a qifsim run folder, or written by an older qifsim"
    status = manifest.get("status")
    samples = manifest.get("samples", 0)
    steps = f"{manifest.get('steps_done', 0)} of {manifest.get('steps', 0)} steps"
    if status == "complete":
        return ""
    if status == "running":
        if _pid_alive(int(manifest.get("pid", 0))):
            return f"the run is still going (pid {manifest.get('pid')}): {samples} samples so far"
        resume = " (qifsim run --resume FOLDER continues it)" if manifest.get("checkpoint") else ""
        return f"the run was killed: its files hold at least {samples} samples; its last checkpoint covers {steps}{resume}"
    if status == "interrupted":
        return f"the run was stopped after {steps} with {samples} samples (qifsim run --resume FOLDER continues it)"
    if status == "failed":
        return f"the run failed after {samples} samples: {manifest.get('error')}"
    return f"unknown status {status!r}"


class Recording:
    """A run's recording as written in its folder (NPY files): ``rec[key]`` for each series
    ("out", "loss", "node.var"), ``rec.steps``, ``rec.time``, ``rec.spikes(pop)`` for the spike
    events of a population (record.spikes); ``rec.status`` and
    ``rec.manifest`` say how the run went. All series hold the same samples: those every file
    holds (a killed run's files may differ by the last batch)."""

    def __init__(self, folder: str, arrays: Dict[str, np.ndarray], manifest: Optional[dict],
                 spikes: Optional[Dict[str, np.ndarray]] = None, members: Optional[List[dict]] = None):
        self.folder = folder
        self.manifest = manifest
        self.status = manifest.get("status", "unknown") if manifest else "unknown"
        self._arrays = arrays
        self._spikes = spikes or {}
        #: A sweep's members.csv: one dict per member (its swept values as written, "status",
        #: "samples" and "reason"); None for a single network. Series then are samples x
        #: members x width, a stopped member's samples from its stop on NaN.
        self.members = members

    @property
    def spike_populations(self) -> List[str]:
        """The populations whose spike events the run recorded (record.spikes)."""
        return list(self._spikes)

    def spikes(self, population: str):
        """Every spike of ``population`` (``<population>.spikes.npy``): ``.steps``, ``.neurons``
        and ``.times`` (step * dt), in order of step, then ascending neuron."""
        from .observer import SpikeEvents
        if population not in self._spikes:
            raise KeyError(f"{population!r}: the recording holds the spikes of {self.spike_populations}")
        rows = self._spikes[population]
        dt = float(self.manifest.get("dt", 0.0)) if self.manifest else 0.0
        steps = np.ascontiguousarray(rows[:, 0])
        times = steps * dt if dt > 0 else steps * np.nan
        return SpikeEvents(steps, np.ascontiguousarray(rows[:, 1]), times)

    def keys(self) -> List[str]:
        return [k for k in self._arrays if k not in ("steps", "time")]

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self._arrays:
            raise KeyError(f"{key!r}: the recording holds {self.keys()}")
        return self._arrays[key]

    def __contains__(self, key: str) -> bool:
        return key in self._arrays

    @property
    def steps(self) -> np.ndarray:
        return self._arrays["steps"]

    @property
    def time(self) -> np.ndarray:
        return self._arrays["time"]

    @property
    def samples(self) -> int:
        return int(self.steps.shape[0])

    @property
    def complete(self) -> bool:
        return self.status == "complete"

    def __repr__(self) -> str:
        return f"Recording({self.folder!r}, {self.samples} samples, {self.keys()}, status {self.status!r})"


def load_recording(folder: str, *, strict: bool = False) -> Recording:
    """Read the NPY recording in a run's output folder, checking its manifest.

    A recording that is not complete (the run is going, was stopped, failed or was killed) is
    read up to the samples every file holds, with an IncompleteRecordingWarning saying so,
    or refused with a RuntimeError when ``strict``. Files the manifest names that are missing
    or hold fewer samples than it says are an error either way.
    """
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        if os.path.exists(folder):
            raise NotADirectoryError(f"{folder}: not a folder; give the output folder of a qifsim run")
        raise FileNotFoundError(f"{folder}: no such folder; give the output folder of a qifsim run")
    manifest = read_manifest(folder)
    problem = describe_status(manifest)
    if problem:
        if strict:
            raise RuntimeError(f"{folder}: {problem}")
        warnings.warn(f"{folder}: {problem}", IncompleteRecordingWarning, stacklevel=2)
    if manifest is not None:
        names = [f for f in manifest.get("files", []) if f.endswith(".npy")]
    else:
        names = sorted(f for f in os.listdir(folder) if f.endswith(".npy"))
    if not names:
        raise FileNotFoundError(f"{folder}: no .npy recording (record.formats must include \"npy\")")
    arrays, spikes = {}, {}
    for name in names:
        path = os.path.join(folder, name)
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path}: named in manifest.json but missing")
        _require_regular(path, "a recording (.npy)")
        if name.endswith(".spikes.npy"):  # spike events: (spikes, 2) rows (step, neuron), a length of their own
            spikes[name[:-len(".spikes.npy")]] = np.load(path, mmap_mode="r")
        else:
            arrays[name[:-4]] = np.load(path, mmap_mode="r")
    if not arrays:
        raise FileNotFoundError(f"{folder}: no .npy recording of samples (steps.npy is missing)")
    rows = min(a.shape[0] for a in arrays.values())
    claimed = int(manifest.get("samples", 0)) if manifest else 0
    if rows < claimed:
        short = [k for k, a in arrays.items() if a.shape[0] < claimed]
        raise RuntimeError(f"{folder}: manifest.json says {claimed} samples, but {short} hold {rows}: "
                           "the files were changed after the run wrote them")
    members = None
    members_path = os.path.join(folder, "members.csv")
    if os.path.exists(members_path):
        import csv

        _require_regular(members_path, "a sweep's members.csv")
        with open(members_path, newline="") as f:
            members = list(csv.DictReader(f))
        for m in members:
            m["samples"] = int(m["samples"])
    return Recording(folder, {k: np.asarray(a[:rows]) for k, a in arrays.items()}, manifest,
                     {k: np.asarray(a) for k, a in spikes.items()}, members)
