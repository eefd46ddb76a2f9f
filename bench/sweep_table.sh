#!/usr/bin/env bash
# bench/sweep_table.sh BUILD [OUT.jsonl] - bench/RESULTS.md section 19: ensembles against
# separate runs, N = 256, 1000, 4096, B = 1, 8, 64, float32 and float64, for each coupling
# operator (dense in both modes; auto on the dense J), with qifsim_sweep_bench. Steps scale so that each
# measurement takes about half a second. One JSON line per run; bench/sweep_table.py makes the
# table. Run on a quiet machine (no build beside it). SWEEP_TABLE_N and SWEEP_TABLE_OPS
# ("auto|sparse") choose a part of the table.
set -euo pipefail
build="${1:?usage: bench/sweep_table.sh BUILD [OUT.jsonl]}"
out="${2:-/dev/stdout}"
bin="$build/bench/qifsim_sweep_bench"
[ -x "$bin" ] || { echo "no $bin (build the bench target)" >&2; exit 1; }
: > "$out.tmp" 2>/dev/null || true
ns="${SWEEP_TABLE_N:-256 1000 4096}"
ops="${SWEEP_TABLE_OPS:-auto|dense|dense --reproducible|sparse|procedural|events}"
IFS='|' read -r -a op_list <<< "$ops"
for n in $ns; do
  for b in 1 8 64; do
    for p in float64 float32; do
      for op in "${op_list[@]}"; do
        case "$op" in  # about half a second of steps: a dense step costs ~N^2, the others ~N
          dense*) steps=$(( 19000000000 / (b * n * n) )); lo=20; hi=2000 ;;
          *) steps=$(( 300000000 / (b * n) )); lo=200; hi=20000 ;;
        esac
        [ "$steps" -gt "$hi" ] && steps=$hi
        [ "$steps" -lt "$lo" ] && steps=$lo
        for mode in separate batched; do
          # shellcheck disable=SC2086
          "$bin" --n "$n" --members "$b" --steps "$steps" --precision "$p" --coupling $op --mode "$mode" 2>/dev/null
        done
      done
    done
  done
done > "$out"
