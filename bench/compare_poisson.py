#!/usr/bin/env python3
"""Poisson- or noise-driven QIF neurons: qifsim against Brian2 (PoissonInput, or xi), side by side.

The network: N uncoupled QIF neurons, v' = (v^2 + eta) / tau with eta = -1 (at rest without
input), tau = 1, dt = 1e-3, v0 = -2, threshold 100 and reset -100; each neuron receives
`sources` = 100 independent Poisson trains of 20 per unit time, every input spike moving v by
0.1 (lambda = 2 input spikes per neuron and step). Spikes are recorded as events by both.

  qifsim   the command line on a config (qifsim run; [[population.poisson]], record.spikes,
           nothing else recorded), float64 and float32, OMP_NUM_THREADS threads. Time per
           step = (wall(steps) - wall(10 steps)) / (steps - 10): setup and writing excluded.
  brian2   Brian 2 cpp_standalone, PoissonInput(G, 'v', N=100, rate=20 Hz, weight=0.1) (its
           event form: a binomial count per neuron and step), SpikeMonitor; openmp_threads as
           qifsim's; the binary's own loop time (device._last_run_time).

With --drive noise the input is Gaussian white noise instead, sigma = 3 (v += sqrt(dt) * 3 * xi
each step; qifsim `sigma = 3.0`, Brian2 `+ sigma * xi` with method 'euler', i.e. Euler-Maruyama),
and eta = 1 (the neurons fire without it).

Peak RSS of the process that steps (qifsim; Brian2's standalone binary), by /usr/bin/time.

  /work/bench-venv/bin/python bench/compare_poisson.py --n 1e5,1e6 --steps 1000 [--drive noise]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SOURCES, RATE, WEIGHT, ETA, DT = 100, 20.0, 0.1, -1.0, 1e-3
SIGMA, NOISE_ETA = 3.0, 1.0


def timed(cmd, env=None):
    """(wall seconds, peak RSS MiB) of a command under /usr/bin/time."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        t0 = time.perf_counter()
        subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss.name] + cmd, check=True, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        return wall, float(Path(rss.name).read_text().strip().splitlines()[-1]) / 1024.0


def run_qifsim(cli, n, steps, precision, threads, work, drive):
    def config(s, out):
        inputs = (f"sigma = {SIGMA}\nnoise_seed = 1\n" if drive == "noise" else
                  f"[[population.poisson]]\nrate = {RATE}\nweight = {WEIGHT}\nsources = {SOURCES}\nseed = 1\n")
        text = f"""dt = {DT}
steps = {s}
precision = "{precision}"
backend = "cpu"
[[population]]
name = "qif"
n = {n}
eta = {NOISE_ETA if drive == "noise" else ETA}
{inputs}[record]
output = false
spikes = ["qif"]
formats = ["npy"]
out_dir = "{out}"
"""
        path = work / f"poisson_{precision}_{s}.toml"
        path.write_text(text)
        return path
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    short, rss_short = timed([cli, "run", "-q", str(config(10, work / "q10"))], env)
    walls, rss = [], rss_short
    for _ in range(2):
        w, r = timed([cli, "run", "-q", str(config(steps, work / "qrun"))], env)
        walls.append(w)
        rss = max(rss, r)
    spikes = np.load(work / "qrun" / "qif.spikes.npy", mmap_mode="r").shape[0]
    per_step = (min(walls) - short) / (steps - 10)
    return dict(us_per_step=1e6 * per_step, steps_per_s=1.0 / per_step, peak_rss_mb=rss, spikes=int(spikes))


def run_brian2(n, steps, threads, work, drive):
    import brian2 as b2
    build = Path(tempfile.mkdtemp(prefix="brian2_poisson_", dir=work))
    rss_file = build / "rss.txt"
    b2.set_device("cpp_standalone", directory=str(build), build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = threads
    b2.prefs.codegen.cpp.extra_compile_args_gcc = ["-w", "-O3", "-march=native", "-std=c++11"]
    b2.prefs.devices.cpp_standalone.run_cmd_unix = ["/usr/bin/time", "-f", "%M", "-o", str(rss_file), "./main"]
    b2.defaultclock.dt = DT * b2.second
    if drive == "noise":
        G = b2.NeuronGroup(n, "dv/dt = (v**2 + eta) / tau + sigma * xi : 1", threshold="v >= 100", reset="v = -100",
                           method="euler", namespace=dict(eta=NOISE_ETA, tau=1.0 * b2.second,
                                                          sigma=SIGMA * b2.second ** -0.5), name="qif")
        parts = [G]
    else:
        G = b2.NeuronGroup(n, "dv/dt = (v**2 + eta) / tau : 1", threshold="v >= 100", reset="v = -100",
                           method="euler", namespace=dict(eta=ETA, tau=1.0 * b2.second), name="qif")
        parts = [G, b2.PoissonInput(G, "v", N=SOURCES, rate=RATE * b2.Hz, weight=WEIGHT)]
    G.v = -2.0
    mon = b2.SpikeMonitor(G)
    net = b2.Network(*parts, mon)
    net.run(steps * DT * b2.second)
    b2.device.build(directory=str(build), compile=True, run=False)
    runs, rss = [], 0.0
    for _ in range(2):
        b2.device.run(directory=str(build), with_output=False)
        runs.append(float(b2.device._last_run_time))
        rss = max(rss, float(rss_file.read_text().strip().splitlines()[-1]) / 1024.0)
    run = min(runs)
    return dict(us_per_step=1e6 * run / steps, steps_per_s=steps / run, peak_rss_mb=rss, spikes=int(len(mon.i)),
                version=b2.__version__)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", default="1e5,1e6")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cli", default=str(ROOT / "build" / "cli" / "qifsim"))
    ap.add_argument("--drive", choices=["poisson", "noise"], default="poisson")
    ap.add_argument("--tool", choices=["qifsim", "brian2"], help=argparse.SUPPRESS)
    ap.add_argument("--one-n", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    args.json = args.json or str(ROOT / "bench" / "results" / f"{args.drive}_compare.json")
    if args.tool == "brian2":  # a worker: one Brian2 run in its own process
        with tempfile.TemporaryDirectory() as work:
            print(json.dumps(run_brian2(args.one_n, args.steps, args.threads, Path(work), args.drive)))
        return
    rows = []
    with tempfile.TemporaryDirectory(dir="/tmp") as work:
        work = Path(work)
        for n in [int(float(x)) for x in args.n.split(",")]:
            for precision in ("float64", "float32"):
                r = run_qifsim(args.cli, n, args.steps, precision, args.threads, work, args.drive)
                rows.append(dict(tool=f"qifsim {precision}", n=n, **r))
                print(rows[-1], flush=True)
            out = subprocess.run([sys.executable, __file__, "--tool", "brian2", "--one-n", str(n), "--steps",
                                  str(args.steps), "--threads", str(args.threads), "--drive", args.drive], check=True,
                                 capture_output=True, text=True).stdout
            rows.append(dict(tool="brian2 cpp_standalone", n=n, **json.loads(out.strip().splitlines()[-1])))
            print(rows[-1], flush=True)
    meta = dict(date=time.strftime("%Y-%m-%d"), load1=os.getloadavg()[0], steps=args.steps, threads=args.threads,
                drive=args.drive,
                cpu=subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo"], capture_output=True,
                                   text=True).stdout.strip())
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(dict(meta=meta, rows=rows), indent=1))
    print(f"\n| N | tool | us/step | steps/s | peak RSS MiB | spikes |\n|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['n']:.0e} | {r['tool']} | {r['us_per_step']:.0f} | {r['steps_per_s']:.0f} | "
              f"{r['peak_rss_mb']:.0f} | {r['spikes']} |")
    print(f"\n{meta}")


if __name__ == "__main__":
    main()
