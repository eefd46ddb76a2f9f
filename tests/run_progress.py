"""How far a config run in another process has got, read from its output folder, so that a
test signals it at a point of the run (a number of samples on disk) and not after a guessed
time. Used by tests/check_files.py and python/tests/test_recordings.py.

The run's steps.npy grows as its batches are flushed (record.flush_seconds): its rows are the
samples written so far."""
import os
import time

import numpy as np


def samples_written(folder: str) -> int:
    """Rows of FOLDER/steps.npy on disk now (0 while it does not exist or its header is being
    written)."""
    try:
        with open(os.path.join(folder, "steps.npy"), "rb") as f:
            version = np.lib.format.read_magic(f)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                np.lib.format.read_array_header_2_0
            read_header(f)
            return (os.fstat(f.fileno()).st_size - f.tell()) // 8
    except (OSError, ValueError):
        return 0


def wait_until_written(proc, folder: str, samples: int, timeout: float = 300.0) -> None:
    """Return once the run of `proc` has written at least `samples` samples to `folder`.
    Fails if the process ends first (the run was too short for the point asked for: a test
    error, not luck)."""
    until = time.monotonic() + timeout
    while samples_written(folder) < samples:
        if proc.poll() is not None:
            raise AssertionError(f"the run ended (exit {proc.returncode}) before it had written {samples} samples "
                                 f"to {folder} ({samples_written(folder)} there)")
        if time.monotonic() > until:
            proc.kill()
            raise AssertionError(f"no {samples} samples in {folder} after {timeout} s")
        time.sleep(0.002)


def signal_when_written(proc, folder: str, samples: int, sig) -> None:
    """Send `sig` to `proc` as soon as its run has written `samples` samples to `folder`."""
    wait_until_written(proc, folder, samples)
    proc.send_signal(sig)
