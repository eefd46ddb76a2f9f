#!/usr/bin/env bash
# Fetch, on a machine with PyPI, the wheels that RectiPy needs on a GPU machine that has
# torch, numpy, scipy, sympy, pandas and matplotlib but no network (Python 3.12):
#
#   bash bench/fetch_gpu_wheels.sh [DIR]         (default: .whl, ignored by git)
#
# then, on the GPU machine, before bench/compare_peers.py --device cuda:
#
#   python3 -m pip install -q --no-index --no-deps --target /tmp/site DIR/*.whl
#   export PYTHONPATH=/tmp/site
#
# networkx is pinned to 3.5 (pyrates' own bound): networkx 3.6 reads the `backend=` keyword
# that pyrates passes as its dispatch backend and fails with "'torch' backend is not installed".
set -euo pipefail
dir="${1:-.whl}"
python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  -d "$dir" rectipy==0.12.2 pyrates==1.2.3 networkx==3.5 ruamel.yaml==0.19.1 ruamel.yaml.clib==0.2.15
ls "$dir"
