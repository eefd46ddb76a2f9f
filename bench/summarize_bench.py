#!/usr/bin/env python3
"""Markdown tables from a qifsim_bench JSON file (--benchmark_out=FILE --benchmark_out_format=json,
ideally with --benchmark_repetitions=3: the medians are used).

  python3 bench/summarize_bench.py bench/results/qifsim_bench_cpu.json
"""
import json
import sys
from collections import defaultdict

MODES = {0: "none", 4: "output", 1: "v per neuron", 2: "v mean", 3: "v per neuron /10"}


def si(x):
    for unit, f in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= f:
            return f"{x / f:.3g}{unit}"
    return f"{x:.3g}"


def us_per_step(b):
    """Microseconds per step of a benchmark row (NaN where there is none)."""
    return 1e6 / b["steps/s"] if b else float("nan")


def versus(title, base, other, table, others, bw_frac=False):
    """A table of us per step: the no-recording row of `table` against `others`, per N."""
    print(f"### {title}\n")
    print(f"| N | {base} us/step | {other} us/step | {other}/{base} |" + (f" {other} J_bw_frac |" if bw_frac else ""))
    print("|---:|---:|---:|---:|" + ("---:|" if bw_frac else ""))
    for n in sorted(others):
        bu, ou = us_per_step(table[n].get(0)), us_per_step(others[n])
        extra = f" {others[n].get('J_bw_frac', float('nan')):.2f} |" if bw_frac else ""
        print(f"| {n} | {bu:.2f} | {ou:.2f} | {ou / bu:.2f} |" + extra)
    print()


def main(path):
    data = json.load(open(path))
    rows = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name") not in (None, "median") or b.get("error_occurred"):
            continue
        name = b.get("run_name", b["name"]).replace("/manual_time", "")
        rows[name] = b
    ctx = data["context"]
    print(f"Machine: {ctx.get('num_cpus')} CPUs at {ctx.get('mhz_per_cpu')} MHz, caches "
          + ", ".join(f"L{c['level']} {c['size'] // 1024} KiB" for c in ctx.get("caches", []) if c["type"] != "Instruction")
          + f"; date {ctx.get('date')}; qifsim {ctx.get('qifsim', '?')}")
    bw = rows.get("BM_CpuBandwidth/iterations:1") or next((v for k, v in rows.items() if k.startswith("BM_CpuBandwidth")), None)
    if bw:
        print(f"Measured: copy {bw['copy_bytes/s'] / 1e9:.1f} GB/s (read + write counted), "
              f"read {bw['read_bytes/s'] / 1e9:.1f} GB/s, {int(bw['threads'])} threads, {int(bw['buffer_MiB'])} MiB buffers\n")
    gbw = next((v for k, v in rows.items() if k.startswith("BM_GpuBandwidth")), None)
    if gbw:
        print(f"Measured on the GPU: device-to-device copy {gbw['copy_bytes/s'] / 1e9:.0f} GB/s (read + write counted)\n")
    for backend in ("Cpu", "Gpu"):
        for prec in ("Float64", "Float32"):
            table = defaultdict(dict)
            plain, rows_kernel, events, fused = {}, {}, defaultdict(dict), defaultdict(dict)
            for name, b in rows.items():
                if name.startswith(f"BM_{backend}Step{prec}/"):
                    _, n, mode, graphs = name.split("/")[:4]
                    if backend == "Gpu" and graphs == "0":
                        plain[int(n)] = b
                    elif backend == "Gpu" and graphs == "2":
                        rows_kernel[int(n)] = b
                    elif backend == "Gpu" and graphs == "4":
                        fused[int(n)][int(mode)] = b
                    elif backend == "Cpu" and graphs == "3":
                        events[int(n)][int(mode)] = b
                    else:
                        table[int(n)][int(mode)] = b
            if not table:
                continue
            where = "CPU" if backend == "Cpu" else "GPU, CUDA Graphs"
            print(f"### Network::run ({where}), {prec.lower()}: steps/s by recording mode (neuron-steps/s; "
                  "J bytes/s as a fraction of copy / read bandwidth)\n")
            print("| N | " + " | ".join(MODES[m] for m in MODES) + " | J_bw_frac | J_read_frac |")
            print("|---:|" + "---:|" * (len(MODES) + 2))
            for n in sorted(table):
                cells = []
                for m in MODES:
                    b = table[n].get(m)
                    cells.append(f"{si(b['steps/s'])} ({si(b['neuron_steps/s'])})" if b else "")
                b0 = table[n].get(0) or {}
                cells.append(f"{b0['J_bw_frac']:.2f}" if "J_bw_frac" in b0 else "")
                cells.append(f"{b0['J_read_frac']:.2f}" if "J_read_frac" in b0 else "")
                print(f"| {n} | " + " | ".join(cells) + " |")
            print()
            if plain:
                versus(f"GPU, {prec.lower()}, no recording: us per step with CUDA Graphs and with plain launches",
                       "graphs", "plain", table, plain)
            if events:
                print(f"### CPU, {prec.lower()}: dense coupling against event-driven coupling (event_coupling = 1000), "
                      "us per step\n")
                print("| N | dense, no recording | events, no recording | speedup | dense, output | events, output | speedup |")
                print("|---:|---:|---:|---:|---:|---:|---:|")
                for n in sorted(events):
                    cells = []
                    for m in (0, 4):
                        du, eu = us_per_step(table[n].get(m)), us_per_step(events[n].get(m))
                        cells += [f"{du:.2f}", f"{eu:.2f}", f"{du / eu:.1f}x"]
                    print(f"| {n} | " + " | ".join(cells) + " |")
                print()
            if rows_kernel:
                versus(f"GPU, {prec.lower()}, no recording, CUDA Graphs: us per step with cuBLAS's gemv and "
                       "with the row-block coupling kernel", "cuBLAS", "row-block", table, rows_kernel, bw_frac=True)
            if fused:
                print(f"### GPU, {prec.lower()}, CUDA Graphs: us per step, cuBLAS + population kernel (3 launches "
                      "per step) against the fused step (1 launch)\n")
                print("| N | recording | cuBLAS us/step | fused us/step | fused/cuBLAS | fused J_bw_frac |")
                print("|---:|---|---:|---:|---:|---:|")
                for n in sorted(fused):
                    for m in sorted(fused[n]):
                        bu, fu = us_per_step(table[n].get(m)), us_per_step(fused[n][m])
                        print(f"| {n} | {MODES[m]} | {bu:.2f} | {fu:.2f} | {fu / bu:.2f} | "
                              f"{fused[n][m].get('J_bw_frac', float('nan')):.2f} |")
                print()
    gemv = {int(k.split("/")[1]): v for k, v in rows.items() if k.startswith("BM_CpuGemvFloat64/")}
    gemv32 = {int(k.split("/")[1]): v for k, v in rows.items() if k.startswith("BM_CpuGemvFloat32/")}
    if gemv:
        print("### The floor: the BLAS gemv J s alone (OpenBLAS, same sizes) against a full step (no recording)\n")
        print("| N | gemv f64 us | step f64 us | step/gemv | J f64 GB/s | gemv f32 us | step f32 us | J f32 GB/s |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|")
        for n in sorted(gemv):
            g = 1e6 / gemv[n]["steps/s"]
            st = rows.get(f"BM_CpuStepFloat64/{n}/0/0")
            s_us = 1e6 / st["steps/s"] if st else float("nan")
            g32 = 1e6 / gemv32[n]["steps/s"] if n in gemv32 else float("nan")
            st32 = rows.get(f"BM_CpuStepFloat32/{n}/0/0")
            s32 = 1e6 / st32["steps/s"] if st32 else float("nan")
            print(f"| {n} | {g:.2f} | {s_us:.2f} | {s_us / g:.2f} | {gemv[n]['J_bytes/s'] / 1e9:.1f} | {g32:.2f} | {s32:.2f} | "
                  f"{gemv32[n]['J_bytes/s'] / 1e9 if n in gemv32 else float('nan'):.1f} |")
        print()
    fixed = {k: v for k, v in rows.items() if k.startswith("BM_CpuStepUncoupled")}
    if fixed:
        print("### Per-step fixed cost: run() of an uncoupled population (float64, no recording)\n")
        print("| N | ns/step |")
        print("|---:|---:|")
        for k in sorted(fixed, key=lambda k: int(k.split("/")[1])):
            print(f"| {k.split('/')[1]} | {fixed[k]['ns/step']:.0f} |")
        print()
    loop = {k: v for k, v in rows.items() if k.startswith("BM_CpuForwardLoop")}
    if loop:
        print("### Hand-written loop: forward() + Observer::record() (output and v per neuron), float64\n")
        print("| N | steps/s | us/step |")
        print("|---:|---:|---:|")
        for k in sorted(loop, key=lambda k: int(k.split("/")[1])):
            print(f"| {k.split('/')[1]} | {si(loop[k]['steps/s'])} | {1e6 / loop[k]['steps/s']:.2f} |")
        print()
    flush = {k: v for k, v in rows.items() if k.startswith("BM_ObserverFlush")}
    if flush:
        print("### Observer flush: append_batch of 1024 samples of W values into fresh storage\n")
        print("| ring type | W | us per flush | ns/sample | ns/value | GB/s stored |")
        print("|---|---:|---:|---:|---:|---:|")
        for k in sorted(flush, key=lambda k: (k.split("/")[0], int(k.split("/")[1]))):
            b = flush[k]
            t = "float64" if "Float64" in k else "float32"
            us = b["real_time"] if b.get("time_unit") == "us" else b["real_time"] / 1e3
            print(f"| {t} | {k.split('/')[1]} | {us:.1f} | {b['ns/sample']:.1f} | {b['ns/value']:.2f} | {b['bytes/s'] / 1e9:.2f} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bench/results/qifsim_bench_cpu.json")
