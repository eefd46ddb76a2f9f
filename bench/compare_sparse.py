#!/usr/bin/env python3
"""The peers of the sparse benchmark network (bench/qifsim_sparse_bench.cpp), side by side.

The network is exactly what `qifsim_sparse_bench` builds: N QIF neurons, each receiving
k = 100 distinct presynaptic partners (no autapses), every weight 15/k, eta = Lorentzian
quantiles (center -5, width 1), input I = 3 to every neuron, dt = 1e-3, v0 = -2, s0 = 0,
tau = tau_s = k(gain) = 1, threshold 100 (on the state at the step's start), reset -100.
One step (the spec, shared/spec/semantics.md):

    spike = v >= 100;  s_in = J s;  v += dt*((v^2 + eta + I)/tau + s_in);
    s += dt*(-s/tau_s) + spike;  v = -100 where spike

The synapses are written once per N by `qifsim_sparse_bench --save-synapses` (pre.npy,
post.npy, w.npy, eta.npy) and every peer reads those files. Each tool runs in its own process
(peak RSS per process, no shared threads or caches):

  qifsim          build/bench/qifsim_sparse_bench, float64 and float32 (its own JSON: setup_s,
                  us_per_step, peak_rss_mb; the timed run records nothing)
  numpy           NumPy/SciPy loop: csr_matrix((w, (post, pre)), shape=(N, N)), s_in = J @ s,
                  float64, in-place element-wise updates; spike events recorded (flatnonzero)
  brian2_event    Brian 2 cpp_standalone, on_pre form: per-neuron g = J s kept as a decaying
                  variable (g += dt*(-g/tau_s), then g_post += w for each spike of the step)
  brian2_summed   Brian 2 cpp_standalone, summed-variable form: s_in_post = w*s_pre (summed)

Parity: at N <= --spikes-max-n (default 1e5) qifsim's run with --spikes gives spike.npy; at
N = 1e4 every tool's spike steps must be identical to qifsim's (float64); above, spike counts
per neuron within 1 and the population rate within 1 %. Above --spikes-max-n qifsim's --rate
run gives the total spike count only (population rate compared within 1 %).

  ~/qifsim-bench-venv/bin/python bench/compare_sparse.py --n 1e4,1e5
  ~/qifsim-bench-venv/bin/python bench/compare_sparse.py --n 1e6 --out bench/results/sparse/n1e6
      (N >= --large-n runs --large-steps = 100 steps in every tool)

Environment: ~/qifsim-bench-venv (python3 -m venv from pyenv's python3; numpy 2.2.6,
scipy 1.17.1, Brian2 2.9.0: bench/requirements-peers.txt).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_BIN = ROOT / "build" / "bench" / "qifsim_sparse_bench"
SPEC = dict(dt=1e-3, tau=1.0, tau_s=1.0, k=1.0, I=3.0, v0=-2.0, s0=0.0, v_th=100.0, v_reset=-100.0)
REPEATS = 3           # timed runs per tool (the best counts); --repeats
REPEAT_BUDGET_S = 60  # no further repeat once a tool's timed runs took this long; --repeat-budget
ALL_TOOLS = ["qifsim", "qifsim_f32", "numpy", "brian2_event", "brian2_summed"]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def load_str():
    l1, l5, l15 = os.getloadavg()
    return dict(load1=round(l1, 2), load5=round(l5, 2), load15=round(l15, 2),
                uptime=subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


def self_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ---------------------------------------------------------------------------------------
# Workers (each in its own process: python compare_sparse.py --worker TOOL DIR STEPS OUT)
# ---------------------------------------------------------------------------------------

def load_synapses(d: Path):
    return (np.load(d / "pre.npy"), np.load(d / "post.npy"), np.load(d / "w.npy"), np.load(d / "eta.npy"))


def worker_numpy(d: Path, steps: int, out: Path):
    import scipy
    import scipy.sparse as sp
    m = SPEC
    t0 = time.perf_counter()
    pre, post, w, eta = load_synapses(d)
    t_load = time.perf_counter() - t0
    n = eta.shape[0]
    t1 = time.perf_counter()
    J = sp.csr_matrix((w, (post, pre)), shape=(n, n))  # J[post, pre] = w
    del pre, post, w
    setup = time.perf_counter() - t1
    dt, tau, tau_s, k, I = m["dt"], m["tau"], m["tau_s"], m["k"], m["I"]
    tmp = np.empty(n)
    tmp2 = np.empty(n)
    spike = np.empty(n, dtype=bool)
    runs, first_events, t_all = [], None, time.perf_counter()
    while True:
        v = np.full(n, m["v0"])
        s = np.full(n, m["s0"])
        ev_step, ev_neuron = [], []
        t2 = time.perf_counter()
        for t in range(steps):
            np.greater_equal(v, m["v_th"], out=spike)          # 1. on the state at the step's start
            s_in = J @ s                                        # 2. s at the step's start
            np.multiply(v, v, out=tmp)                          # 3. v += dt*((v^2+eta+I)/tau + k s_in)
            tmp += eta
            tmp += I
            tmp /= tau
            if k != 1.0:
                s_in *= k
            tmp += s_in
            tmp *= dt
            v += tmp
            np.divide(s, -tau_s, out=tmp2)                      # 4. s += dt*(-s/tau_s) + spike
            tmp2 *= dt
            tmp2 += spike
            s += tmp2
            idx = np.flatnonzero(spike)                         # 5. reset, and the spike events
            v[idx] = m["v_reset"]
            if idx.size:
                ev_step.append(np.full(idx.size, t, dtype=np.int32))
                ev_neuron.append(idx.astype(np.int32))
        runs.append(time.perf_counter() - t2)
        if first_events is None:
            first_events = (ev_step, ev_neuron)
        if len(runs) >= REPEATS or time.perf_counter() - t_all > REPEAT_BUDGET_S:
            break
    run = min(runs)
    ev_step, ev_neuron = first_events
    save_events(out.with_suffix(".npz"), ev_step, ev_neuron)
    return dict(setup_s=setup, load_s=t_load, run_s=run, run_s_all=runs, steps=steps, us_per_step=1e6 * run / steps,
                steps_per_s=steps / run, peak_rss_mb=self_rss_mb(),
                versions=dict(numpy=np.__version__, scipy=scipy.__version__),
                config="scipy.sparse.csr_matrix((w,(post,pre))) @ s, float64, in-place element-wise "
                       "updates, spike events recorded with np.flatnonzero; single thread (SciPy's "
                       "CSR matvec is serial)")


def save_events(path: Path, ev_step, ev_neuron):
    st = np.concatenate(ev_step) if ev_step else np.zeros(0, np.int32)
    ne = np.concatenate(ev_neuron) if ev_neuron else np.zeros(0, np.int32)
    np.savez(path, step=st, neuron=ne)


def worker_brian2(d: Path, steps: int, out: Path, form: str, threads: int):
    import brian2 as b2
    m = SPEC
    build_dir = Path(tempfile.mkdtemp(prefix=f"brian2_{form}_", dir=d))
    rss_file = build_dir / "main_rss_kb.txt"
    t0 = time.perf_counter()
    pre, post, w, eta = load_synapses(d)
    t_load = time.perf_counter() - t0
    n = eta.shape[0]
    t1 = time.perf_counter()
    b2.set_device("cpp_standalone", directory=str(build_dir), build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = threads
    # Brian's default adds -ffast-math; dropped so that the arithmetic is IEEE like the others'.
    b2.prefs.codegen.cpp.extra_compile_args_gcc = ["-w", "-O3", "-march=native", "-std=c++11"]
    # The simulation binary runs under /usr/bin/time to read its peak RSS.
    b2.prefs.devices.cpp_standalone.run_cmd_unix = ["/usr/bin/time", "-f", "%M", "-o", str(rss_file), "./main"]
    b2.defaultclock.dt = m["dt"] * b2.second
    # The model is dimensionless; time is in seconds with tau = tau_s = 1 s, dt = 1e-3 s, so
    # dt*(...)/tau has the spec's numbers. unit_time turns the coupling into a rate.
    ns = dict(tau=m["tau"] * b2.second, tau_s=m["tau_s"] * b2.second, k=m["k"], I_ext=m["I"],
              v_th=m["v_th"], v_reset=m["v_reset"], unit_time=1.0 * b2.second)
    if form == "summed":
        eqs = """
        dv/dt = (v**2 + eta + I_ext) / tau + k * s_in / unit_time : 1
        ds/dt = -s / tau_s : 1
        eta : 1 (constant)
        s_in : 1
        """
        G = b2.NeuronGroup(n, eqs, threshold="v >= v_th", reset="v = v_reset\ns += 1",
                           method="euler", namespace=ns, name="qif")
        S = b2.Synapses(G, G, "w : 1\ns_in_post = w * s_pre : 1 (summed)", namespace=ns, name="syn")
    else:
        # g = J s, kept per neuron: g(t+1) = g(t) + dt*(-g(t)/tau_s) + sum_{pre spiking at t} w,
        # which is J s(t+1) for s(t+1) = s(t) + dt*(-s(t)/tau_s) + spike(t).
        eqs = """
        dv/dt = (v**2 + eta + I_ext) / tau + k * g / unit_time : 1
        dg/dt = -g / tau_s : 1
        eta : 1 (constant)
        """
        G = b2.NeuronGroup(n, eqs, threshold="v >= v_th", reset="v = v_reset",
                           method="euler", namespace=ns, name="qif")
        S = b2.Synapses(G, G, "w : 1", on_pre="g_post += w", namespace=ns, name="syn")
    G.v = m["v0"]
    if form == "summed":
        G.s = m["s0"]
    else:
        G.g = 0.0  # J s0 with s0 = 0
    G.eta = eta
    S.connect(i=pre.astype(np.int32), j=post.astype(np.int32))
    S.w = w
    del pre, post, w
    mon = b2.SpikeMonitor(G, name="spikes")
    net = b2.Network(G, S, mon)
    # Spec order inside one step (Brian's default is start, groups, thresholds, synapses,
    # resets, end): the threshold sees the state at the step's start; then the groups slot
    # (summed form: s_in = J s, computed by the summed-variable updater, which Brian places in
    # 'groups' just before G's state updater; then Euler for v and s / g); then the synapses
    # slot (event form: g_post += w for the spikes of this step); then the reset (v = -100,
    # summed form also s += 1, after the decay: s(t+1) = s + dt*(-s) + 1).
    net.schedule = ["start", "thresholds", "groups", "synapses", "resets", "end"]
    net.run(steps * m["dt"] * b2.second)
    t_model = time.perf_counter() - t1
    t2 = time.perf_counter()
    b2.device.build(directory=str(build_dir), compile=True, run=False)   # code generation + g++
    t_build = time.perf_counter() - t2
    runs, walls, rss, t_all = [], [], [], time.perf_counter()
    while True:
        t3 = time.perf_counter()
        b2.device.run(directory=str(build_dir), with_output=False)
        walls.append(time.perf_counter() - t3)
        runs.append(float(b2.device._last_run_time))  # the network loop, as the binary measures it
        rss.append(float(rss_file.read_text().strip().splitlines()[-1]) / 1024.0)
        if len(runs) >= REPEATS or time.perf_counter() - t_all > REPEAT_BUDGET_S:
            break
    best = int(np.argmin(runs))
    run, wall = runs[best], walls[best]
    st = np.round(np.asarray(mon.t / b2.second) / m["dt"]).astype(np.int32)
    ne = np.asarray(mon.i).astype(np.int32)
    save_events(out.with_suffix(".npz"), [st], [ne])
    main_rss = max(rss)
    py_rss = self_rss_mb()
    shutil.rmtree(build_dir, ignore_errors=True)
    gpp = subprocess.run(["g++", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    return dict(setup_s=t_model + t_build + (wall - run), load_s=t_load,
                setup_parts=dict(model_s=t_model, codegen_compile_s=t_build, binary_outside_loop_s=wall - run),
                run_s=run, run_s_all=runs, binary_wall_s=wall, binary_wall_s_all=walls, steps=steps, us_per_step=1e6 * run / steps,
                steps_per_s=steps / run, peak_rss_mb=main_rss, python_rss_mb=py_rss,
                versions=dict(brian2=b2.__version__, numpy=np.__version__, gpp=gpp),
                config=f"Brian2 cpp_standalone, build_on_run=False then device.build(compile=True, run=False) "
                       f"and device.run, openmp_threads={threads}, extra_compile_args_gcc="
                       f"{b2.prefs.codegen.cpp.extra_compile_args_gcc}, method='euler', "
                       f"schedule={net.schedule}, form={form}, SpikeMonitor on the group")


def worker_main(tool, d, steps, out, threads):
    d, out = Path(d), Path(out)
    if tool == "numpy":
        res = worker_numpy(d, steps, out)
    elif tool in ("brian2_event", "brian2_summed"):
        res = worker_brian2(d, steps, out, tool.split("_")[1], threads)
    else:
        raise SystemExit(f"unknown worker {tool}")
    out.with_suffix(".json").write_text(json.dumps(res))


# ---------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------

def run_qifsim(binary, n, steps, precision, extra, timeout):
    cmd = [str(binary), "--n", str(n), "--k", "100", "--steps", str(steps), "--precision", precision] + extra
    log("  $", " ".join(cmd))
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"qifsim_sparse_bench failed: {p.stderr.strip()}")
    res = json.loads(p.stdout.strip().splitlines()[-1])
    res["wall_s"] = time.perf_counter() - t0
    res["command"] = " ".join(cmd)
    return res


def run_qifsim_best(binary, n, steps, precision, timeout):
    """Timed qifsim runs (nothing recorded): up to REPEATS processes, the best us/step counts."""
    runs, t_all = [], time.perf_counter()
    while True:
        runs.append(run_qifsim(binary, n, steps, precision, [], timeout))
        if len(runs) >= REPEATS or time.perf_counter() - t_all > REPEAT_BUDGET_S:
            break
    best = dict(min(runs, key=lambda r: r["us_per_step"]))
    best["setup_s"] = min(r["setup_s"] for r in runs)
    best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    best["run_s_all"] = [r["run_s"] for r in runs]
    best["setup_s_all"] = [r["setup_s"] for r in runs]
    return best


def run_worker(tool, d, steps, out, threads, timeout):
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", tool, str(d), str(steps), str(out),
           "--brian-threads", str(threads), "--repeats", str(REPEATS), "--repeat-budget", str(REPEAT_BUDGET_S)]
    log("  $", " ".join(cmd))
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"{tool} worker failed:\n{p.stderr[-3000:]}")
    res = json.loads(Path(out).with_suffix(".json").read_text())
    res["wall_s"] = time.perf_counter() - t0
    return res


def events_from_qifsim(path: Path, steps: int):
    sp = np.load(path, mmap_mode="r")
    st, ne = [], []
    for t0 in range(0, min(steps, sp.shape[0]), 100):
        blk = np.asarray(sp[t0:min(t0 + 100, steps)])
        a, b = np.nonzero(blk)
        st.append((a + t0).astype(np.int32))
        ne.append(b.astype(np.int32))
    return np.concatenate(st), np.concatenate(ne)


def compare_events(ref, other, n, steps, exact):
    """ref/other: (step, neuron) arrays. exact: identical spike sets expected."""
    rs, rn = ref
    os_, on = other
    keep = rs < steps
    rs, rn = rs[keep], rn[keep]
    r_tot, o_tot = int(rs.size), int(os_.size)
    rc = np.bincount(rn, minlength=n)
    oc = np.bincount(on, minlength=n)
    res = dict(ref_spikes=r_tot, spikes=o_tot, steps_compared=steps,
               max_count_diff=int(np.abs(rc - oc).max()) if n else 0,
               neurons_count_differs=int(np.count_nonzero(rc != oc)),
               rate_rel_diff=abs(o_tot - r_tot) / r_tot if r_tot else float(o_tot != 0))
    rk = np.sort(rs.astype(np.int64) * n + rn)
    ok_ = np.sort(os_.astype(np.int64) * n + on)
    identical = bool(np.array_equal(rk, ok_))
    res["identical_spike_steps"] = identical
    if not identical:
        diff = np.setxor1d(rk, ok_)
        res["events_differing"] = int(diff.size)
        res["first_differing_step"] = int(diff.min() // n)
    if exact:
        res["pass"] = identical
        res["criterion"] = "identical spike steps for every neuron"
    else:
        res["pass"] = bool(res["max_count_diff"] <= 1 and res["rate_rel_diff"] <= 0.01)
        res["criterion"] = "spike count per neuron within 1, population rate within 1%"
    return res


def compare_totals(ref_total, other_total):
    rel = abs(other_total - ref_total) / ref_total if ref_total else float(other_total != 0)
    return {"ref_spikes": int(ref_total), "spikes": int(other_total), "rate_rel_diff": rel,
            "pass": bool(rel <= 0.01), "criterion": "total spike count (population rate) within 1% "
            "(per-neuron counts not available: qifsim recorded --rate only)"}


def parity_str(p):
    if p is None:
        return "n/a"
    if "identical_spike_steps" in p and p["criterion"].startswith("identical"):
        if p["identical_spike_steps"]:
            return f"identical ({p['spikes']} spikes)"
        return (f"DIFFERS: {p['events_differing']} events, from step {p['first_differing_step']}; "
                f"counts max diff {p['max_count_diff']}, rate {100 * p['rate_rel_diff']:.3f}%")
    if "max_count_diff" in p:
        s = (f"{'ok' if p['pass'] else 'FAIL'}: counts max diff {p['max_count_diff']} "
             f"({p['neurons_count_differs']} neurons), rate {100 * p['rate_rel_diff']:.3f}%")
        if p.get("identical_spike_steps"):
            s += ", spike steps identical"
        return s + f" ({p['spikes']} spikes)"
    return f"{'ok' if p['pass'] else 'FAIL'}: total {p['spikes']} vs {p['ref_spikes']} ({100 * p['rate_rel_diff']:.3f}%)"


def fmt_n(n):
    e = int(round(np.log10(n)))
    return f"1e{e}" if 10 ** e == n else str(n)


def main():
    global REPEATS, REPEAT_BUDGET_S
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", default="1e4,1e5,1e6")
    ap.add_argument("--tools", default=",".join(ALL_TOOLS))
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--large-n", type=float, default=1e6, help="from this N on, every tool runs --large-steps")
    ap.add_argument("--large-steps", type=int, default=100)
    ap.add_argument("--spikes-max-n", type=float, default=1e5,
                    help="largest N at which qifsim records spike.npy (steps x N float64) for parity")
    ap.add_argument("--threads", type=int, default=2,
                    help="threads of qifsim (OMP_NUM_THREADS) and of Brian2 (openmp_threads; 1 -> 0 = no OpenMP)")
    ap.add_argument("--brian-threads", type=int, default=None, help="override Brian2's openmp_threads")
    ap.add_argument("--bin", default=str(DEFAULT_BIN))
    ap.add_argument("--out", default=str(HERE / "results" / "sparse"))
    ap.add_argument("--timeout", type=int, default=900, help="per tool run, seconds")
    ap.add_argument("--tmp", default=None, help="folder for the synapse files (default: a temp folder)")
    ap.add_argument("--repeats", type=int, default=REPEATS,
                    help="timed runs per tool, the best counts (Brian2: device.run repeated, no rebuild)")
    ap.add_argument("--repeat-budget", type=float, default=REPEAT_BUDGET_S,
                    help="no further repeat once a tool's timed runs took this many seconds")
    ap.add_argument("--worker", nargs=4, metavar=("TOOL", "DIR", "STEPS", "OUT"))
    args = ap.parse_args()
    REPEATS, REPEAT_BUDGET_S = max(1, args.repeats), args.repeat_budget
    if args.worker:
        tool, d, steps, out = args.worker
        worker_main(tool, d, int(steps), out, 2 if args.brian_threads is None else args.brian_threads)
        return

    ns = [int(float(x)) for x in args.n.split(",") if x]
    tools = [t for t in args.tools.split(",") if t]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    binary = Path(args.bin)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    if args.brian_threads is None:
        args.brian_threads = args.threads if args.threads > 1 else 0
    meta = dict(date=datetime.datetime.now().isoformat(timespec="seconds"), host=platform.node(),
                cpu=_cpu_model(), cores=os.cpu_count(), python=sys.version.split()[0],
                numpy=np.__version__, qifsim_git=_git_rev(), binary=str(binary),
                binary_mtime=datetime.datetime.fromtimestamp(binary.stat().st_mtime).isoformat(timespec="seconds"),
                omp_num_threads=os.environ.get("OMP_NUM_THREADS"), brian_openmp_threads=args.brian_threads,
                spec=SPEC, k=100,
                repeats=REPEATS, repeat_budget_s=REPEAT_BUDGET_S,
                command=" ".join([Path(sys.executable).as_posix(), *sys.argv]), load_start=load_str())
    try:
        import scipy
        import brian2
        meta.update(scipy=scipy.__version__, brian2=brian2.__version__)
    except Exception as e:  # noqa: BLE001
        meta["import_error"] = repr(e)
    rows, runs = [], []
    for n in ns:
        steps = args.large_steps if n >= args.large_n else args.steps
        tmp = Path(tempfile.mkdtemp(prefix=f"sparse_n{n}_", dir=args.tmp))
        syn = tmp / "syn"
        log(f"N = {n}: {steps} steps; {load_str()['uptime']}")
        try:
            # The synapse files (a separate one-step run so that writing them stays out of the
            # timed run's peak RSS); then the parity recording (spikes or rate) apart from timing.
            run_qifsim(binary, n, 1, "float64", ["--save-synapses", str(syn)], args.timeout)
            ref = None
            ref_total = None
            spk = tmp / "qifsim_spikes"
            if n <= args.spikes_max_n:
                pr = run_qifsim(binary, n, steps, "float64", ["--spikes", str(spk)], args.timeout)
                ref = events_from_qifsim(spk / "spike.npy", steps)
                ref_total = int(ref[0].size)
                (spk / "spike.npy").unlink()
            else:
                pr = run_qifsim(binary, n, steps, "float64", ["--spikes", str(spk), "--rate"], args.timeout)
                ref_total = int(round(pr["spikes"]))
            log(f"  qifsim reference: {ref_total} spikes")
            exact = n <= 10000
            for tool in tools:
                ld = load_str()
                log(f"  [{tool}] load {ld['load1']}")
                par = None
                try:
                    if tool in ("qifsim", "qifsim_f32"):
                        prec = "float32" if tool == "qifsim_f32" else "float64"
                        r = run_qifsim_best(binary, n, steps, prec, args.timeout)
                        r["config"] = (f"qifsim_sparse_bench --precision {prec} --coupling auto "
                                       f"(chose {r.get('coupling')}), OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}, "
                                       "no recording in the timed run")
                        if tool == "qifsim":
                            par = dict(reference=True, spikes=ref_total, criterion="reference", **{"pass": True})
                        elif n <= args.spikes_max_n:
                            pr32 = run_qifsim(binary, n, steps, "float32", ["--spikes", str(tmp / "q32")], args.timeout)
                            ev = events_from_qifsim(tmp / "q32" / "spike.npy", steps)
                            (tmp / "q32" / "spike.npy").unlink()
                            par = compare_events(ref, ev, n, steps, exact=False)
                            par["note"] = "float32 against float64: informational"
                        else:
                            pr32 = run_qifsim(binary, n, steps, "float32", ["--spikes", str(tmp / "q32"), "--rate"],
                                              args.timeout)
                            par = compare_totals(ref_total, int(round(pr32["spikes"])))
                            par["note"] = "float32 against float64: informational"
                    else:
                        r = run_worker(tool, syn, steps, tmp / tool, args.brian_threads, args.timeout)
                        ev_f = np.load((tmp / tool).with_suffix(".npz"))
                        ev = (ev_f["step"], ev_f["neuron"])
                        if ref is not None:
                            par = compare_events(ref, ev, n, steps, exact=exact)
                        else:
                            par = compare_totals(ref_total, int(ev[0].size))
                    r.update(tool=tool, n=n, load_before=ld, load_after=load_str(), parity=par)
                    runs.append(r)
                    row = dict(tool=tool, n=n, precision="float32" if tool == "qifsim_f32" else "float64",
                               steps=r["steps"], setup_s=r["setup_s"], us_per_step=r["us_per_step"],
                               steps_per_s=r["steps_per_s"], peak_rss_mb=r["peak_rss_mb"],
                               parity=parity_str(par) if tool != "qifsim" else f"reference ({ref_total} spikes)",
                               load1=ld["load1"])
                    rows.append(row)
                    log(f"    setup {r['setup_s']:.3f} s, {r['us_per_step']:.1f} us/step, "
                        f"RSS {r['peak_rss_mb']:.0f} MB, parity: {row['parity']}")
                except Exception as e:  # noqa: BLE001
                    log(f"    {tool} failed: {e}")
                    runs.append(dict(tool=tool, n=n, error=str(e), load_before=ld))
                    rows.append(dict(tool=tool, n=n, error=str(e)[:200]))
                _write(out, meta, rows, runs)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    meta["load_end"] = load_str()
    md = _write(out, meta, rows, runs)
    print(md)


def _write(out, meta, rows, runs):
    (out / "compare_sparse.json").write_text(json.dumps(dict(meta=meta, rows=rows, runs=runs), indent=1))
    lines = [f"Sparse benchmark network (k = 100, weights 15/k, I = 3, dt = 1e-3): `{meta['command']}`",
             f"{meta['date']}, {meta['cpu']}, {meta['cores']} cores, qifsim {meta['qifsim_git']}, "
             f"OMP_NUM_THREADS={meta['omp_num_threads']} (qifsim), Brian2 openmp_threads={meta['brian_openmp_threads']}; "
             f"load at start: {meta['load_start']['uptime']}",
             f"Per tool: best of up to {meta['repeats']} timed runs (no further run once {meta['repeat_budget_s']:.0f} s "
             "were spent); set-up = everything before the step loop that the tool needs (qifsim: drawing the "
             "synapses + build + compile; NumPy: the CSR build from the .npy arrays; Brian2: model objects + code "
             "generation + g++ + the binary's own start-up/synapse creation outside its timed loop); peak RSS of "
             "the process that runs the steps (Brian2: the standalone binary); load1 = 1-min load average before "
             "the tool ran.",
             "",
             "| tool | N | precision | steps | set-up s | us/step | steps/s | peak RSS MB | load1 | parity |",
             "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['tool']} | {fmt_n(r['n'])} | | | | | | | | failed: {r['error']} |")
            continue
        lines.append(f"| {r['tool']} | {fmt_n(r['n'])} | {r['precision']} | {r['steps']} | {r['setup_s']:.2f} | "
                     f"{r['us_per_step']:.1f} | {r['steps_per_s']:.0f} | {r['peak_rss_mb']:.0f} | {r['load1']} | "
                     f"{r['parity']} |")
    if "load_end" in meta:
        lines.append("")
        lines.append(f"load at end: {meta['load_end']['uptime']}")
    md = "\n".join(lines) + "\n"
    (out / "summary.md").write_text(md)
    return md


def _cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _git_rev():
    try:
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True).stdout.strip()
    except OSError:
        return "?"


if __name__ == "__main__":
    main()
