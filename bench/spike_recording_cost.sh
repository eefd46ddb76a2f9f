#!/usr/bin/env bash
# The cost of recording spike events (record.spikes) on bench/compare_cli_npz.py's network:
# the same config run with and without `record.spikes = ["qif"]`, alternately, in float64 and
# float32, `ROUNDS` times; prints the CLI's own "steps in ... s" (the run, not the set-up) and
# the spikes recorded.
#   bash bench/spike_recording_cost.sh BUILD NETWORK_DIR [ROUNDS]
# NETWORK_DIR: a folder bench/compare_cli_npz.py wrote (network.toml, J.npz, eta.npy).
set -euo pipefail
build="$(cd "${1:?build folder}" && pwd)"
net="$(cd "${2:?network folder}" && pwd)"
rounds="${3:-2}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$rounds"); do
  for precision in float64 float32; do
    for spikes in off on; do
      extra=()
      [ "$spikes" = on ] && extra=(-s 'record.spikes=["qif"]')
      line=$("$build/cli/qifsim" run "$net/network.toml" -o "$out/r" -s precision=$precision "${extra[@]}" 2>&1 |
             grep -o 'steps in [0-9.e+-]* s' || true)
      count=""
      [ "$spikes" = on ] && count=$(/usr/bin/python3 -c "import numpy as np; print(np.load('$out/r/qif.spikes.npy').shape[0], 'spikes')")
      echo "round $round $precision spikes $spikes: $line $count"
    done
  done
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
