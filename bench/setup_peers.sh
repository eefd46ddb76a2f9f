#!/usr/bin/env bash
# Create the virtual environment of bench/compare_peers.py (never used by CI):
#   bash bench/setup_peers.sh [VENV_DIR]      (default: ~/qifsim-bench-venv)
# then build the qifsim driver and run the comparison, e.g.
#   cmake -S . -B build-bench -DQIFSIM_CUDA=OFF && cmake --build build-bench -j --target qifsim_run_npy
#   ~/qifsim-bench-venv/bin/python bench/compare_peers.py --n 100,1000,4000 --out bench/results/cpu
set -euo pipefail
venv="${1:-$HOME/qifsim-bench-venv}"
python3 -m venv "$venv"
"$venv/bin/pip" install -q -r "$(dirname "$0")/requirements-peers.txt"
"$venv/bin/python" -c "import torch, rectipy, brian2, jax, numpy; print('peers ready:', torch.__version__, brian2.__version__, jax.__version__, numpy.__version__)"
