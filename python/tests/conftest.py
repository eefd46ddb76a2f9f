"""pytest set-up for qifsim's Python tests: plots draw off-screen (Agg), the tests find the
NumPy reference (reference.py) beside them, and no test leaves a Ctrl-C for a later one. The package under test is the installed
`qifsim` (pip install .), not the sources in python/qifsim."""
import os
import sys

os.environ.setdefault("MPLBACKEND", "Agg")
sys.path.insert(0, os.path.dirname(__file__))
# tests/run_progress.py: how far a run in another process has got (shared with tests/check_files.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests"))

import pytest  # noqa: E402

from ctrl_c import no_ctrl_c_reaches_python  # noqa: E402


@pytest.fixture(autouse=True)
def _no_ctrl_c_left_behind():
    """After every test: a SIGINT a test sent (or one a run should have answered) surfaces
    here as this test's failure, never as a KeyboardInterrupt in a later test."""
    yield
    no_ctrl_c_reaches_python()
