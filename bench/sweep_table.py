#!/usr/bin/python3
"""bench/sweep_table.py RESULTS.jsonl [PEAKS.jsonl] - the table of bench/RESULTS.md section 19
from bench/sweep_table.sh's lines: per N, B, precision and operator, the aggregate member-steps
per second of B separate runs and of one batched run, their ratio, and for a dense J the
product's GFLOP/s beside OpenBLAS's GEMM and GEMV alone (qifsim_gemm_peak lines)."""
import json
import sys


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{")]
    peaks = {}
    if len(sys.argv) > 2:
        for line in open(sys.argv[2]):
            if line.startswith("{"):
                d = json.loads(line)
                peaks[(d["n"], d["precision"])] = d
    runs = {}
    for d in rows:
        name = d["requested"]
        if name == "dense" and d["reproducible"]:
            name = "dense, reproducible"
        runs[(d["n"], d["members"], d["precision"], name, d["mode"])] = d
        if name == "auto":
            d["auto_choice"] = d["coupling"]
    keys = sorted({k[:4] for k in runs}, key=lambda k: (k[0], k[2], k[3], k[1]))
    print("| N | precision | operator | B | separate (member-steps/s) | batched | batched / separate | dense: GFLOP/s separate, batched (GEMM, GEMV alone); auto: its choice |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for n, b, p, op in keys:
        s, e = runs.get((n, b, p, op, "separate")), runs.get((n, b, p, op, "batched"))
        if not s or not e:
            continue
        ratio = e["member_steps_per_s"] / s["member_steps_per_s"]
        flops = ""
        if op == "auto":
            flops = s["coupling"].replace("'qif': ", "")
        elif op.startswith("dense"):
            peak = peaks.get((n, p))
            alone = f" ({peak['gemm_gflops']:.0f}, {peak['gemv_gflops']:.0f})" if peak else ""
            flops = f"{s['gflops']:.1f}, {e['gflops']:.1f}{alone}"
        print(f"| {n} | {p} | {op} | {b} | {s['member_steps_per_s']:,.0f} | {e['member_steps_per_s']:,.0f} | "
              f"{ratio:.2f} | {flops} |")


if __name__ == "__main__":
    main()
