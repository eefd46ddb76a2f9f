"""Points inside a run where a test acts, instead of a clock: inputs that press Ctrl-C as the
run reads a given row or as run() converts them, and inputs that hold the run at its first
input piece until the test lets it go.

``press()`` sends SIGINT to the calling thread, which takes it before ``press`` returns. The
run reads its inputs piece by piece as it goes (pieces of about 4 MiB), so where a run stops
depends on its step count, not on how fast the machine is. ``no_ctrl_c_reaches_python()``
lets Python act on any SIGINT it still holds and fails the test if one turns up (instead of
letting it abort the whole test session)."""
import signal
import threading

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


class HeldAtFirstRead(np.ndarray):
    """An inputs array that holds the run (in the thread that runs it) when the run first
    reads it, until ``release()``: between ``wait_held()`` and ``release()`` the run is
    certainly in progress, however fast or loaded the machine. The wait releases the GIL."""

    def __new__(cls, values):
        a = np.asarray(values, dtype=np.float64).view(cls)
        a._held, a._go = threading.Event(), threading.Event()
        return a

    def __array_finalize__(self, obj):
        self._held = getattr(obj, "_held", None)
        self._go = getattr(obj, "_go", None)

    def __getitem__(self, key):
        if isinstance(key, slice) and self._held is not None and not self._held.is_set():
            self._held.set()
            self._go.wait()
        return np.asarray(super().__getitem__(key))

    def wait_held(self, timeout=300.0):
        if not self._held.wait(timeout):
            pytest.fail("the run never read its inputs")

    def release(self):
        self._go.set()


def _python_code():
    return sum(i for i in range(100))


def no_ctrl_c_reaches_python():
    """Run some Python bytecode (where Python acts on a pending SIGINT); fail if one surfaces."""
    try:
        for _ in range(100):
            _python_code()
    except KeyboardInterrupt as e:  # pragma: no cover - the failure this module guards against
        pytest.fail(f"a Ctrl-C reached Python after the call had returned: {e!r}")
