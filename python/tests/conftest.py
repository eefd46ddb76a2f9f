"""pytest set-up for qifsim's Python tests: plots draw off-screen (Agg), the tests find the
NumPy reference (reference.py) beside them, SIGINT is Python's in every test and no test
leaves one for a later test. The package under test is the installed `qifsim`
(pip install .), not the sources in python/qifsim."""
import os
import signal
import sys

os.environ.setdefault("MPLBACKEND", "Agg")
sys.path.insert(0, os.path.dirname(__file__))
# tests/run_progress.py: how far a run in another process has got (shared with tests/check_files.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests"))

import pytest  # noqa: E402

from run_points import no_ctrl_c_reaches_python  # noqa: E402


@pytest.fixture(autouse=True)
def _python_ctrl_c():
    """Every test runs with Python's own SIGINT handling, as in a terminal, also where the
    suite was started with SIGINT ignored (a background job of a non-interactive shell).
    Afterwards: a SIGINT a test sent (or one a run should have answered) surfaces here as
    this test's failure, never as a KeyboardInterrupt in a later test."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    try:
        no_ctrl_c_reaches_python()
    finally:
        signal.signal(signal.SIGINT, before)
