#!/usr/bin/env python3
"""The sparse benchmark network given to the command line as a user would, against Brian 2.

bench/compare_sparse.py's network (N QIF neurons, K = 100 presynaptic partners each, weights
15/K, eta = Lorentzian quantiles, I = 3, dt = 1e-3), written the way a user hands it to
`qifsim run`: J as a SciPy `.npz` (csr_matrix((w, (post, pre)))), eta as `.npy`, the input
through a one-unit function node and an all-to-all edge (`[input] value = 3.0`), the
neuron-averaged spike recorded at every step (`record.vars = [["qif", "spike", true]]`,
NPY), --steps steps (default 2000). Timed: the CLI end to end (reading the files, building,
the run, writing), its own "steps in ... s" run time, and its peak RSS (/usr/bin/time).
Brian 2 (cpp_standalone, on_pre event form with a SpikeMonitor: bench/compare_sparse.py's
worker, the same synapse files) runs the same network where it is installed; its end to end
time is its load + model + code generation and compilation + binary.

  python bench/compare_cli_npz.py --n 1e6 --steps 2000 [--bin build] [--work DIR]

Both sides' spike counts are compared (population rate within 1 %).
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def write_network(build: Path, n: int, steps: int, d: Path) -> None:
    """pre/post/w/eta as qifsim_sparse_bench writes them, then J.npz (SciPy) and the config."""
    import scipy.sparse as sp
    d.mkdir(parents=True, exist_ok=True)
    if not (d / "J.npz").exists():
        subprocess.run([str(build / "bench" / "qifsim_sparse_bench"), "--n", str(n), "--k", "100", "--steps", "1",
                        "--save-synapses", str(d)], check=True, capture_output=True)
        pre, post, w = (np.load(d / f) for f in ("pre.npy", "post.npy", "w.npy"))
        J = sp.csr_matrix((w, (post, pre)), shape=(n, n))
        sp.save_npz(d / "J.npz", J, compressed=False)
    (d / "network.toml").write_text(f"""# bench/compare_cli_npz.py: the sparse benchmark network as a user writes it
dt = 1e-3
steps = {steps}

[[function]]
name = "inp"
size = 1

[[population]]
name = "qif"
n = {n}
eta = "eta.npy"
weights = "J.npz"

[[edge]]
source = "inp"
target = "qif"
weights = {{ kind = "all_to_all", value = 1.0 }}

[input]
value = 3.0

[record]
output = false
vars = [["qif", "spike", true]]
formats = ["npy"]
""")


def run_qifsim(build: Path, d: Path, steps: int, precision: str, out: Path) -> dict:
    config = d / "network.toml"
    rss_file = out.with_suffix(".rss")
    cmd = ["/usr/bin/time", "-f", "%M", "-o", str(rss_file), str(build / "cli" / "qifsim"), "run", str(config),
           "-o", str(out), "-s", f"precision={precision}", "-s", "backend=cpu", "-s", f"steps={steps}"]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"qifsim run failed ({p.returncode}):\n{p.stderr[-2000:]}")
    m = re.search(r"(\d+) steps in ([0-9.e+-]+) s", p.stderr + p.stdout)
    run_s = float(m.group(2)) if m else float("nan")
    rate = np.load(out / "qif.spike.npy")[:, 0]  # spike / dt averaged over the neurons
    n = int(re.search(r"n = (\d+)", config.read_text()).group(1))
    spikes = float(np.sum(rate) * 1e-3 * n)
    return dict(end_to_end_s=wall, run_s=run_s, us_per_step=1e6 * run_s / steps,
                peak_rss_mb=float(rss_file.read_text().split()[-1]) / 1024.0, spikes=spikes)


def run_brian2(d: Path, steps: int, out: Path) -> dict | None:
    try:
        import brian2  # noqa: F401
    except ImportError:
        return None
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, str(HERE / "compare_sparse.py"), "--worker", "brian2_event", str(d), str(steps),
                        str(out)], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"Brian2 failed:\n{p.stderr[-2000:]}")
    r = json.loads(out.with_suffix(".json").read_text())
    ev = np.load(out.with_suffix(".npz"))
    r["spikes"] = float(len(ev["step"]))
    r["end_to_end_s"] = wall
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=float, default=1e6)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--bin", default=str(ROOT / "build"), help="the build folder (cli/qifsim, bench/...)")
    ap.add_argument("--work", default=None, help="folder for the network files (default: a temp folder)")
    a = ap.parse_args()
    n = int(a.n)
    build = Path(a.bin).resolve()
    work = Path(a.work or tempfile.mkdtemp(prefix="qifsim_cli_npz_"))
    d = work / f"n{n}"
    write_network(build, n, a.steps, d)
    rows = []
    for precision in ("float64", "float32"):
        r = run_qifsim(build, d, a.steps, precision, work / f"qifsim_{precision}")
        rows.append((f"qifsim CLI {precision}", r))
        print(f"qifsim {precision}: {json.dumps(r)}", flush=True)
    b = run_brian2(d, a.steps, work / "brian2_event")
    if b is not None:
        rows.append(("Brian2 event form", b))
        print(f"brian2: {json.dumps({k: b[k] for k in ('end_to_end_s', 'run_s', 'us_per_step', 'peak_rss_mb', 'spikes')})}")
    print(f"\n| tool | end to end | ms per step | peak RSS | spikes per step |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, r in rows:
        print(f"| {name} | {r['end_to_end_s']:.1f} s | {r['us_per_step'] / 1e3:.2f} | {r['peak_rss_mb'] / 1024:.2f} GiB | "
              f"{r['spikes'] / a.steps:.0f} |")


if __name__ == "__main__":
    main()
