"""pytest set-up for qifsim's Python tests: plots draw off-screen (Agg), and the tests find
the NumPy reference (reference.py) beside them. The package under test is the installed
`qifsim` (pip install .), not the sources in python/qifsim."""
import os
import sys

os.environ.setdefault("MPLBACKEND", "Agg")
sys.path.insert(0, os.path.dirname(__file__))
