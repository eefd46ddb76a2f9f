"""Ctrl-C for the tests, delivered at a point a run reaches, never by a clock.

``press()`` sends SIGINT to the calling thread, which takes it before ``press`` returns. The
inputs below call it from inside a run (the run reads its inputs piece by piece as it goes)
or from its set-up, so where a run stops depends on its step count, not on how fast the
machine is. ``no_ctrl_c_reaches_python()`` lets Python act on any SIGINT it still holds and
fails the test if one turns up (instead of letting it abort the whole test session)."""
import signal

import numpy as np
import pytest


def press():
    signal.raise_signal(signal.SIGINT)


class CtrlCAtRow(np.ndarray):
    """An inputs array that presses Ctrl-C once: when the run first reads a piece that holds
    row ``at``. ``pressed_at``: the first row of that piece (None before)."""

    def __new__(cls, values, at: int):
        a = np.asarray(values, dtype=np.float64).view(cls)
        a.at = at
        a.pressed_at = None
        return a

    def __array_finalize__(self, obj):
        self.at = getattr(obj, "at", None)
        self.pressed_at = None

    def __getitem__(self, key):
        piece = np.asarray(super().__getitem__(key))
        if self.at is not None and self.pressed_at is None and isinstance(key, slice):
            first, stop, _ = key.indices(self.shape[0])
            if first <= self.at < stop:
                self.pressed_at = first
                press()
        return piece


class CtrlCWhenRead:
    """Inputs (anything np.asarray takes) that press Ctrl-C when a run converts them: in its
    set-up, before the first step."""

    def __init__(self, values):
        self.values = np.asarray(values, dtype=np.float64)

    def __array__(self, dtype=None, copy=None):
        press()
        return self.values if dtype is None else self.values.astype(dtype)


def _python_code():
    return sum(i for i in range(100))


def no_ctrl_c_reaches_python():
    """Run some Python bytecode (where Python acts on a pending SIGINT); fail if one surfaces."""
    try:
        for _ in range(100):
            _python_code()
    except KeyboardInterrupt as e:  # pragma: no cover - the failure this module guards against
        pytest.fail(f"a Ctrl-C reached Python after the call had returned: {e!r}")
