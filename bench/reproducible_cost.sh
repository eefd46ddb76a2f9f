#!/usr/bin/env bash
# RunOptions::reproducible against the default, CPU, dense J (bench/compare_peers.py's network:
# J normal, scaled by 2/sqrt(N); eta and inputs as there), N = 1000, 4096 and 16384, float64
# and float32, the output recorded every step, 5 repeats each, the two modes one after the
# other on the same files. Prints ms per step (best and median of the repeats).
#   bash bench/reproducible_cost.sh [BUILD_DIR] [WORK_DIR]
set -euo pipefail
build="$(cd "${1:-build}" && pwd)"
work="${2:-$(mktemp -d)}"
cd "$(dirname "$0")/.."
/usr/bin/python3 - "$work" <<'PY'
import sys
from pathlib import Path
sys.path.insert(0, "bench")
from compare_peers import make_network, write_network
for n, steps in ((1000, 2000), (4096, 400), (16384, 40)):
    d = Path(sys.argv[1]) / f"net{n}"
    if not (d / "J.npy").exists():
        J, eta, inputs = make_network(n, steps, seed=7, j_scale=2.0)
        write_network(d, J, eta, inputs)
PY
for n in 1000 4096 16384; do
  d="$work/net$n"
  for prec in float64 float32; do
    for mode in default reproducible; do
      extra=()
      [ "$mode" = reproducible ] && extra=(--reproducible)
      r=$("$build/bench/qifsim_run_npy" --weights "$d/J.npy" --inputs "$d/inputs.npy" --eta "$d/eta.npy" \
            --record out --precision "$prec" --repeats 5 "${extra[@]}" | tail -1)
      /usr/bin/python3 -c 'import json, sys
r = json.loads(sys.argv[1])
per = 1e3 / r["steps"]
n, prec, mode = r["n"], r["precision"], sys.argv[2]
best, median = r["best_run_s"] * per, r["median_run_s"] * per
print(f"N = {n:5d}  {prec}  {mode:12s}  best {best:8.4f}  median {median:8.4f} ms/step")' "$r" "$mode"
    done
  done
done
