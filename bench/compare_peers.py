#!/usr/bin/env python3
"""Run qifsim and its peers on the same QIF network and compare speed (and, first, results).

One invocation writes the network (J, eta, inputs) as .npy files once per N and runs, each in
its own process so that no tool inherits another's threads, caches or memory:

  qifsim      bench/qifsim_run_npy (the C++ driver) on those files, CPU (or --device cuda)
  numpy       a plain NumPy loop of the spec's equations (shared/spec/semantics.md)
  torch       the same loop hand-written in PyTorch (CPU; --device cuda adds it on the GPU)
  jax         the same step under jax.lax.scan, jit-compiled (CPU; GPU with --device cuda)
  brian2      Brian 2, cpp_standalone with OpenMP (one thread per core), schedule reordered so
              that a step follows the spec (threshold on the state at the step's start)
  rectipy     RectiPy itself: Network.add_diffeq_node with the qif template, Network.run

Every tool records the network output (s, per neuron, every step) in float64. A tool's time
counts only when its recording matches qifsim's: identical spike steps for every neuron and
max |difference| <= --atol. One-time setup (building, compiling, jit) is reported apart from
the per-step time; the per-step time is the best of --repeats runs after the first.

  python bench/compare_peers.py --n 100,1000 --out bench/results/cpu
  python bench/compare_peers.py --parity --out bench/results/parity     # vs RectiPy, N = 5
  python bench/compare_peers.py --device cuda --n 1000,4000,16384        # GPU machine (pending)
  python bench/compare_peers.py --plot-only bench/results/cpu            # redraw the PNG

Environment: bench/requirements-peers.txt (pinned; see bench/RESULTS.md for the set-up).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SPEC = dict(dt=1e-3, tau=1.0, k=1.0, tau_s=1.0, v0=-2.0, v_th=100.0, v_reset=-100.0,
            alpha=1.0, tau_x=10.0)
CPU_TOOLS = ["qifsim", "numpy", "torch", "jax", "brian2", "rectipy"]
GPU_TOOLS = ["qifsim", "torch", "jax", "rectipy"]
DEFAULT_STEPS = {100: 10000, 1000: 2000, 2000: 1000, 4000: 1000}  # every neuron spikes


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------
# The network
# ---------------------------------------------------------------------------------------

def make_network(n: int, steps: int, seed: int, j_scale: float):
    """J uniform in [0, j_scale/N) (excitatory, row i onto neuron i), eta_i uniform in
    [-5, -3), input 15: every neuron fires regularly, the dynamics are not chaotic."""
    rng = np.random.default_rng(seed)
    J = rng.random((n, n)) * (j_scale / n)
    eta = -5.0 + 2.0 * rng.random(n)
    inputs = np.full((steps, n), 15.0)
    return J, eta, inputs


def write_network(d: Path, J, eta, inputs, adaptation=False):
    d.mkdir(parents=True, exist_ok=True)
    np.save(d / "J.npy", np.ascontiguousarray(J, dtype=np.float64))
    np.save(d / "eta.npy", np.ascontiguousarray(eta, dtype=np.float64))
    np.save(d / "inputs.npy", np.ascontiguousarray(inputs, dtype=np.float64))
    (d / "model.json").write_text(json.dumps(dict(SPEC, adaptation=adaptation)))


def load_network(d: Path):
    model = json.loads((d / "model.json").read_text())
    return np.load(d / "J.npy"), np.load(d / "eta.npy"), np.load(d / "inputs.npy"), model


# ---------------------------------------------------------------------------------------
# Workers: each runs in its own process (python compare_peers.py --worker TOOL DIR ...)
# and writes out.npy (steps x N output, i.e. s at each step's start) plus a JSON line.
# ---------------------------------------------------------------------------------------

def timed_repeats(run_once, repeats):
    """run_once() -> output; returns (output of the last run, [seconds per run])."""
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = run_once()
        times.append(time.perf_counter() - t0)
    return out, times


def worker_numpy(d, repeats, device, precision):
    J, eta, inputs, m = load_network(d)
    dtype = np.float64 if precision == "float64" else np.float32
    J, eta, inputs = J.astype(dtype), eta.astype(dtype), inputs.astype(dtype)
    n, steps = J.shape[0], inputs.shape[0]
    dt, tau, k, tau_s = (dtype(m[x]) for x in ("dt", "tau", "k", "tau_s"))
    v_th, v_reset = dtype(m["v_th"]), dtype(m["v_reset"])

    def run_once():
        v = np.full(n, m["v0"], dtype=dtype)
        s = np.zeros(n, dtype=dtype)
        s_in = np.empty(n, dtype=dtype)
        a = np.empty(n, dtype=dtype)
        b = np.empty(n, dtype=dtype)
        spike = np.empty(n, dtype=bool)
        out = np.empty((steps, n), dtype=dtype)
        for t in range(steps):
            np.greater_equal(v, v_th, out=spike)           # 1. spike on the step's start
            out[t] = s                                      # output: s at the step's start
            np.dot(J, s, out=s_in)                          # 2. s_in = J s
            np.multiply(v, v, out=a)                        # 3. v + dt*((v^2+eta+I)/tau + k s_in)
            a += eta
            a += inputs[t]
            a /= tau
            np.multiply(s_in, k, out=b)
            a += b
            a *= dt
            a += v
            np.divide(s, -tau_s, out=b)                     # 4. s + dt*(-s/tau_s) + spike
            b *= dt
            s += b
            s += spike
            np.copyto(v, a)                                 # 5. reset where spiked
            v[spike] = v_reset
        return out

    setup = 0.0  # nothing to build
    out, times = timed_repeats(run_once, repeats)
    return out, dict(setup_s=setup, run_s=times, version=np.__version__,
                     threads=_blas_threads())


def _blas_threads():
    try:
        from threadpoolctl import threadpool_info
        return [(i.get("internal_api"), i.get("num_threads")) for i in threadpool_info()]
    except Exception:  # threadpoolctl is optional
        return None


def worker_torch(d, repeats, device, precision):
    import torch
    J, eta, inputs, m = load_network(d)
    dtype = torch.float64 if precision == "float64" else torch.float32
    t0 = time.perf_counter()
    dev = torch.device(device)
    Jt = torch.tensor(J, dtype=dtype, device=dev)
    etat = torch.tensor(eta, dtype=dtype, device=dev)
    inp = torch.tensor(inputs, dtype=dtype, device=dev)
    n, steps = J.shape[0], inputs.shape[0]
    dt, tau, k, tau_s = (m[x] for x in ("dt", "tau", "k", "tau_s"))
    v_th, v_reset = m["v_th"], m["v_reset"]

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    @torch.no_grad()
    def run_once():
        v = torch.full((n,), m["v0"], dtype=dtype, device=dev)
        s = torch.zeros(n, dtype=dtype, device=dev)
        s_in = torch.empty(n, dtype=dtype, device=dev)
        a = torch.empty(n, dtype=dtype, device=dev)
        b = torch.empty(n, dtype=dtype, device=dev)
        out = torch.empty((steps, n), dtype=dtype, device=dev)
        reset = torch.full((n,), v_reset, dtype=dtype, device=dev)
        for t in range(steps):
            spike = v >= v_th
            out[t].copy_(s)
            torch.mv(Jt, s, out=s_in)
            torch.mul(v, v, out=a)
            a.add_(etat).add_(inp[t]).div_(tau).add_(s_in, alpha=k).mul_(dt).add_(v)
            torch.div(s, -tau_s, out=b)
            s.add_(b.mul_(dt)).add_(spike.to(dtype))
            torch.where(spike, reset, a, out=v)
        sync()
        return out

    sync()
    setup = time.perf_counter() - t0
    out, times = timed_repeats(run_once, repeats)
    return out.cpu().numpy(), dict(setup_s=setup, run_s=times, version=torch.__version__,
                                   threads=torch.get_num_threads(), device=str(dev))


def worker_jax(d, repeats, device, precision):
    import jax
    if precision == "float64":
        jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    from jax import lax
    J, eta, inputs, m = load_network(d)
    dtype = jnp.float64 if precision == "float64" else jnp.float32
    platform_name = "gpu" if device == "cuda" else "cpu"
    dev = jax.devices(platform_name)[0]
    n = J.shape[0]
    dt, tau, k, tau_s = (m[x] for x in ("dt", "tau", "k", "tau_s"))
    v_th, v_reset = m["v_th"], m["v_reset"]
    t0 = time.perf_counter()
    Jd = jax.device_put(jnp.asarray(J, dtype=dtype), dev)
    etad = jax.device_put(jnp.asarray(eta, dtype=dtype), dev)
    inp = jax.device_put(jnp.asarray(inputs, dtype=dtype), dev)

    def step(carry, I):
        v, s = carry
        spike = v >= v_th
        s_in = Jd @ s
        v1 = v + dt * ((v * v + etad + I) / tau + k * s_in)
        s1 = s + dt * (-s / tau_s) + spike.astype(dtype)
        return (jnp.where(spike, v_reset, v1), s1), s

    @jax.jit
    def simulate(inp_):
        v0 = jnp.full((n,), m["v0"], dtype=dtype)
        s0 = jnp.zeros((n,), dtype=dtype)
        _, out = lax.scan(step, (v0, s0), inp_)
        return out

    compiled = simulate.lower(inp).compile()  # one-time: tracing and XLA compilation
    setup = time.perf_counter() - t0
    out, times = timed_repeats(lambda: compiled(inp).block_until_ready(), repeats)
    return np.asarray(out), dict(setup_s=setup, run_s=times, version=jax.__version__, device=str(dev))


def worker_brian2(d, repeats, device, precision, threads=0):
    import brian2 as b2
    J, eta, inputs, m = load_network(d)
    n, steps = J.shape[0], inputs.shape[0]
    build_dir = Path(tempfile.mkdtemp(prefix="brian2_qif_"))
    t0 = time.perf_counter()
    b2.set_device("cpp_standalone", directory=str(build_dir), build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = threads  # 0: no OpenMP, one thread
    b2.prefs.codegen.cpp.extra_compile_args_gcc = ["-O3", "-march=native", "-w"]
    b2.defaultclock.dt = m["dt"] * b2.second
    I_ext = b2.TimedArray(inputs, dt=m["dt"] * b2.second)
    ns = dict(tau=m["tau"] * b2.second, tau_s=m["tau_s"] * b2.second, k=m["k"],
              v_th=m["v_th"], v_reset=m["v_reset"], I_ext=I_ext, unit_time=1.0 * b2.second)
    eqs = """
    dv/dt = (v**2 + eta + I_ext(t, i)) / tau + k * s_in / unit_time : 1
    ds/dt = -s / tau_s : 1
    eta : 1 (constant)
    s_in : 1
    """
    G = b2.NeuronGroup(n, eqs, threshold="v >= v_th", reset="v = v_reset\ns += 1",
                       method="euler", namespace=ns)
    G.v = m["v0"]
    G.s = 0.0
    G.eta = eta
    S = b2.Synapses(G, G, "w : 1\ns_in_post = w * s_pre : 1 (summed)")
    src, tgt = np.meshgrid(np.arange(n), np.arange(n))  # tgt[i, j] = i, src[i, j] = j
    S.connect(i=src.ravel(), j=tgt.ravel())
    S.w = J.ravel()                                       # J[i, j]: from j onto i
    mon = b2.StateMonitor(G, "s", record=True, when="start")  # s at the step's start
    net = b2.Network(G, S, mon)
    # The spec's order: the threshold sees the state at the step's start; then s_in (the
    # summed variable, just before G's update), the Euler update, and the reset (v, s += 1).
    net.schedule = ["start", "thresholds", "groups", "synapses", "resets", "end"]
    net.run(steps * m["dt"] * b2.second)
    b2.device.build(directory=str(build_dir), compile=True, run=False)
    setup = time.perf_counter() - t0
    times, wall = [], []
    for _ in range(repeats):
        t1 = time.perf_counter()
        b2.device.run(directory=str(build_dir), with_output=False)
        wall.append(time.perf_counter() - t1)
        times.append(float(b2.device._last_run_time))  # the network loop, as the binary measures it
    out = np.asarray(mon.s).T.copy()  # (steps, n)
    shutil.rmtree(build_dir, ignore_errors=True)
    return out, dict(setup_s=setup, run_s=times, process_wall_s=wall, version=b2.__version__,
                     mode="cpp_standalone", threads=b2.prefs.devices.cpp_standalone.openmp_threads)


def _rectipy_net(J, m, device, eta=None, adaptation=False):
    from rectipy import Network
    net = Network(dt=m["dt"], device=device)
    node = "neuron_model_templates.spiking_neurons.qif." + ("qif_sfa" if adaptation else "qif")
    op = "qif_sfa_op" if adaptation else "qif_op"
    kwargs = {}
    if eta is not None:
        kwargs["node_vars"] = {"eta": eta}
    net.add_diffeq_node("qif", node, weights=J, source_var="s", target_var="s_in", input_var="I_ext",
                        output_var="s", op=op, reset_var="v", spike_var="spike", verbose=False, **kwargs)
    net.compile()
    return net


def worker_rectipy(d, repeats, device, precision):
    import torch
    import rectipy
    J, eta, inputs, m = load_network(d)
    t0 = time.perf_counter()
    net = _rectipy_net(J, m, device, eta=eta, adaptation=m.get("adaptation", False))
    inp = torch.tensor(inputs, dtype=torch.float64, device=device)
    y0 = net.get_node("qif").y.detach().clone()
    setup = time.perf_counter() - t0

    def run_once():
        net.reset({"qif": y0})  # Network.reset() alone would set every state variable to 0
        obs = net.run(inputs=inp, verbose=False)
        if device == "cuda":
            torch.cuda.synchronize()
        return obs

    obs, times = timed_repeats(run_once, repeats)
    out = obs.to_numpy("out")
    return out, dict(setup_s=setup, run_s=times, version=getattr(rectipy, "__version__", _dist_version("rectipy")),
                     torch=torch.__version__, device=device)


def _dist_version(name):
    try:
        from importlib.metadata import version
        return version(name)
    except Exception:
        return "?"


WORKERS = dict(numpy=worker_numpy, torch=worker_torch, jax=worker_jax, brian2=worker_brian2,
               rectipy=worker_rectipy)


def run_worker(tool, d, repeats, device, precision, brian_threads=0):
    extra = dict(threads=brian_threads) if tool == "brian2" else {}
    out, info = WORKERS[tool](Path(d), repeats, device, precision, **extra)
    np.save(Path(d) / f"out_{tool}_{device}.npy", np.ascontiguousarray(out, dtype=np.float64))
    print(json.dumps(info))


# ---------------------------------------------------------------------------------------
# The driver side
# ---------------------------------------------------------------------------------------

def find_qifsim_bin(arg):
    candidates = [arg] if arg else [ROOT / "build-bench/bench/qifsim_run_npy", ROOT / "build/bench/qifsim_run_npy"]
    for c in candidates:
        if c and Path(c).exists():
            return str(Path(c).resolve())
    sys.exit("compare_peers: qifsim_run_npy not found; build it (cmake --build BUILD --target qifsim_run_npy) "
             "and pass --qifsim-bin")


def run_qifsim(binary, d, repeats, device, precision, record="out", extra=(), save_name=None):
    save = d / (save_name or f"qifsim_{device}_{precision}")
    cmd = [binary, "--weights", str(d / "J.npy"), "--eta", str(d / "eta.npy"), "--inputs", str(d / "inputs.npy"),
           "--precision", precision, "--backend", device, "--record", record, "--repeats", str(repeats),
           "--save", str(save), *extra]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:  # qifsim is the reference: without it nothing can be compared
        sys.exit(f"compare_peers: qifsim_run_npy failed: {res.stderr.strip()}")
    info = json.loads(res.stdout.strip().splitlines()[-1])
    info["process_wall_s"] = time.perf_counter() - t0
    info["setup_s"] = info["load_s"] + info["setup_s"]
    info["command"] = " ".join(cmd)
    return np.load(save / "out.npy") if "out" in record else None, info, save


def run_peer(tool, d, repeats, device, precision, timeout, brian_threads=0):
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", tool, str(d), "--repeats", str(repeats),
           "--device", device, "--precision", precision, "--brian-threads", str(brian_threads)]
    t0 = time.perf_counter()
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, dict(error=f"timed out after {timeout} s")
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        tail = (res.stderr.strip().splitlines() or ["?"])[-1]
        return None, dict(error=tail)
    info = json.loads(res.stdout.strip().splitlines()[-1])
    info["process_wall_s_total"] = wall
    return np.load(d / f"out_{tool}_{device}.npy"), info


def spike_steps(out):
    """Per neuron, the steps at which it spiked, read off the output s (a jump of ~1)."""
    jumps = np.diff(out, axis=0) > 0.5
    return [np.flatnonzero(jumps[:, i]) for i in range(out.shape[1])]


def compare(out, ref, atol):
    if out.shape != ref.shape:
        return dict(ok=False, why=f"shape {out.shape} != {ref.shape}")
    if not np.all(np.isfinite(out)):
        return dict(ok=False, why="non-finite output")
    diff = np.abs(out - ref)
    sa, sb = spike_steps(out), spike_steps(ref)
    same_steps = all(np.array_equal(a, b) for a, b in zip(sa, sb))
    counts_a = np.array([len(a) for a in sa])
    counts_b = np.array([len(b) for b in sb])
    big = np.abs(ref) > 1e-3
    res = dict(max_abs=float(diff.max()),
               max_rel=float((diff[big] / np.abs(ref[big])).max()) if big.any() else 0.0,
               spikes=int(counts_b.sum()), same_spike_counts=bool(np.array_equal(counts_a, counts_b)),
               same_spike_steps=bool(same_steps))
    res["ok"] = bool(same_steps and res["max_abs"] <= atol)
    if not res["ok"]:
        res["why"] = "spike steps differ" if not same_steps else f"max_abs {res['max_abs']:.3g} > atol {atol:g}"
    return res


def cpu_idle_fraction(seconds=2.0):
    """Fraction of CPU time idle over `seconds` (Linux /proc/stat), or None elsewhere."""
    def snap():
        with open("/proc/stat") as f:
            vals = [int(x) for x in f.readline().split()[1:]]
        return sum(vals), vals[3] + vals[4]
    try:
        t1, i1 = snap()
        time.sleep(seconds)
        t2, i2 = snap()
        return (i2 - i1) / max(t2 - t1, 1)
    except OSError:
        return None


def wait_idle(max_wait, threshold=0.9):
    """On a shared machine: wait (up to max_wait s) until the CPUs are idle; returns the idle fraction."""
    deadline = time.time() + max_wait
    while True:
        idle = cpu_idle_fraction()
        if idle is None or idle >= threshold or time.time() >= deadline:
            return idle
        log(f"   (waiting for an idle machine: {idle:.0%} idle)")


def machine_info():
    info = dict(date=datetime.datetime.now().isoformat(timespec="seconds"), python=sys.version.split()[0],
                platform=platform.platform(), cpus=os.cpu_count())
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in lscpu.splitlines():
            key, _, val = line.partition(":")
            if key.strip() in ("Model name", "CPU(s)", "Thread(s) per core", "L3 cache"):
                info[key.strip()] = val.strip()
    except OSError:
        pass
    try:
        info["loadavg_start"] = os.getloadavg()
    except OSError:
        pass
    return info


def benchmark(args):
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    qbin = find_qifsim_bin(args.qifsim_bin)
    tools = args.tools.split(",") if args.tools else (GPU_TOOLS if args.device == "cuda" else CPU_TOOLS)
    results = dict(machine=machine_info(), device=args.device, precision="float64", seed=args.seed,
                   j_scale=args.j_scale, atol=args.atol, repeats=args.repeats, argv=sys.argv, rows=[],
                   floor_bw_gbs=args.floor_bw or None)
    previous = []
    if args.append and (out_dir / "results.json").exists():
        old = json.loads((out_dir / "results.json").read_text())
        previous = old.get("rows", [])
        results["earlier_invocations"] = old.get("earlier_invocations", []) + [
            dict(argv=old.get("argv"), machine=old.get("machine"), n=[r["n"] for r in previous])]
    for n in [int(x) for x in args.n.split(",")]:
        steps = args.steps or DEFAULT_STEPS.get(n) or max(100, int(2e9 / (n * n + 1000 * n)))
        d = out_dir / f"n{n}"
        J, eta, inputs = make_network(n, steps, args.seed, args.j_scale)
        write_network(d, J, eta, inputs)
        log(f"== N = {n}, {steps} steps ({d})")
        idle = wait_idle(args.wait_idle) if args.wait_idle else None
        ref, qinfo, _ = run_qifsim(qbin, d, args.repeats, args.device, "float64")
        qinfo["idle_before"] = idle
        qbest = min(qinfo["run_s"][1:] or qinfo["run_s"])
        q_before, q_runs = qbest, [qbest]
        row = dict(n=n, steps=steps, spikes=int(sum(len(s) for s in spike_steps(ref))),
                   tools={"qifsim": dict(qinfo, best_run_s=qbest, ok=True)})
        log(f"   qifsim   setup {qinfo['setup_s']:.3f} s  run {qbest:.4f} s  ({steps / qbest:,.0f} steps/s)")
        if args.qifsim_float32:
            _, f32, _ = run_qifsim(qbin, d, args.repeats, args.device, "float32")
            row["tools"]["qifsim_float32"] = dict(f32, best_run_s=min(f32["run_s"][1:] or f32["run_s"]),
                                                  ok=None, note="float32: not compared")
        if args.qifsim_events > 0 and args.device == "cpu":
            # Event-driven coupling (qifsim_run_npy --event-coupling R): other arithmetic for
            # J s, so it is checked against the dense run like any peer.
            eout, einfo, _ = run_qifsim(qbin, d, args.repeats, args.device, "float64",
                                        extra=("--event-coupling", str(args.qifsim_events)), save_name="qifsim_cpu_events")
            echeck = compare(eout, ref, args.atol)
            ebest = min(einfo["run_s"][1:] or einfo["run_s"])
            einfo.update(best_run_s=ebest, check=echeck, ok=echeck["ok"], event_coupling=args.qifsim_events)
            if echeck["ok"]:
                einfo["ratio"] = ebest / qbest
            row["tools"]["qifsim_events"] = einfo
            log(f"   qifsim_events run {ebest:.4f} s" + (f"  ratio to dense {ebest / qbest:.3f}x" if echeck["ok"]
                                                          else f"  NOT COUNTED: {echeck.get('why')}")
                + f"  (max_abs {echeck.get('max_abs', float('nan')):.2g})")
        gpu_variants = [("rows", "qifsim_rows", args.qifsim_rows), ("fused", "qifsim_fused", args.qifsim_fused)]
        for coupling, name, wanted in gpu_variants:
            if not wanted or args.device != "cuda":
                continue
            # qifsim's own coupling kernels (qifsim_run_npy --cuda-coupling rows|fused),
            # checked against qifsim's cuBLAS run like any peer.
            vout, vinfo, _ = run_qifsim(qbin, d, args.repeats, args.device, "float64",
                                        extra=("--cuda-coupling", coupling), save_name=f"qifsim_cuda_{coupling}")
            vcheck = compare(vout, ref, args.atol)
            vbest = min(vinfo["run_s"][1:] or vinfo["run_s"])
            vinfo.update(best_run_s=vbest, check=vcheck, ok=vcheck["ok"])
            if vcheck["ok"]:
                vinfo["ratio"] = vbest / qbest
            row["tools"][name] = vinfo
            log(f"   {name} run {vbest:.4f} s" + (f"  ratio to cuBLAS {vbest / qbest:.2f}x" if vcheck["ok"]
                                                   else f"  NOT COUNTED: {vcheck.get('why')}"))
        for tool in tools:
            if tool == "qifsim":
                continue
            if tool == "rectipy" and n > args.rectipy_max_n:
                row["tools"][tool] = dict(skipped=f"N > --rectipy-max-n {args.rectipy_max_n} (pyrates builds one "
                                                  "graph edge per weight: setup time and memory grow as N^2)")
                log(f"   {tool:8s} skipped (N > {args.rectipy_max_n})")
                continue
            idle = wait_idle(args.wait_idle) if args.wait_idle else None
            if tool == "brian2":
                # Brian's fastest mode here: cpp_standalone, with OpenMP on every core or on one
                # thread (OpenMP's per-step synchronisation loses at small N); both, the faster counts.
                threads = [0, os.cpu_count() or 1] if args.brian_threads < 0 else [args.brian_threads]
                tried = []
                for th in threads:
                    o, inf = run_peer(tool, d, args.repeats, args.device, "float64", args.timeout, th)
                    tried.append((o, inf))
                    log(f"   brian2 threads={th}: " + (f"run {min(inf['run_s'][1:] or inf['run_s']):.4f} s"
                                                      if o is not None else inf["error"]))
                good = [t for t in tried if t[0] is not None]
                out, info = (min(good, key=lambda t: min(t[1]["run_s"][1:] or t[1]["run_s"])) if good
                             else tried[-1])
                if len(tried) > 1:
                    info["other_thread_counts"] = [dict(threads=t[1].get("threads"), run_s=t[1].get("run_s"),
                                                        error=t[1].get("error")) for t in tried if t[1] is not info]
            else:
                out, info = run_peer(tool, d, args.repeats, args.device, "float64", args.timeout)
            if out is None:
                row["tools"][tool] = info
                log(f"   {tool:8s} ERROR {info['error']}")
                continue
            check = compare(out, ref, args.atol)
            best = min(info["run_s"][1:] or info["run_s"])
            info.update(best_run_s=best, check=check, ok=check["ok"], idle_before=idle)
            # qifsim again right after the peer: the ratio uses the qifsim runs adjacent to the
            # peer's (before and after), as the memory bandwidth of a shared machine drifts.
            _, qagain, _ = run_qifsim(qbin, d, args.repeats, args.device, "float64")
            q_after = min(qagain["run_s"][1:] or qagain["run_s"])
            q_adjacent = min(q_before, q_after)
            q_runs.append(q_after)
            q_before = q_after
            info["qifsim_adjacent_best_run_s"] = q_adjacent
            if check["ok"]:
                info["ratio"] = best / q_adjacent
            row["tools"][tool] = info
            log(f"   {tool:8s} setup {info['setup_s']:.3f} s  run {best:.4f} s  "
                + (f"ratio {info['ratio']:.2f}x (qifsim adjacent {q_adjacent:.4f} s)" if check["ok"]
                   else f"NOT COUNTED: {check.get('why')}")
                + f"  (max_abs {check.get('max_abs', float('nan')):.2g}, spikes {check.get('spikes')})")
        row["argv"] = sys.argv
        row["tools"]["qifsim"]["all_best_run_s"] = q_runs
        row["tools"]["qifsim"]["best_run_s"] = min(q_runs)
        results["rows"].append(row)
        (out_dir / "results.json").write_text(json.dumps(_merged(results, previous), indent=1, default=str))
        if not args.keep_arrays:
            for f in d.glob("*.npy"):
                f.unlink()
            for sub in d.glob("qifsim_*"):
                shutil.rmtree(sub, ignore_errors=True)
    try:
        results["machine"]["loadavg_end"] = os.getloadavg()
    except OSError:
        pass
    results = _merged(results, previous)
    (out_dir / "results.json").write_text(json.dumps(results, indent=1, default=str))
    print_table(results)
    print_variant_ratios(results)
    plot(results, out_dir / "steps_per_s.png")


def _merged(results, previous):
    """This invocation's rows, plus the earlier rows (--append) of the sizes it did not run."""
    done = {r["n"] for r in results["rows"]}
    merged = dict(results)
    merged["rows"] = sorted([r for r in previous if r["n"] not in done] + results["rows"], key=lambda r: r["n"])
    return merged


def print_table(results):
    tools = []
    for row in results["rows"]:
        for t in row["tools"]:
            if t not in tools:
                tools.append(t)
    print("| N | steps | " + " | ".join(tools) + " |")
    print("|---|---|" + "---|" * len(tools))
    for row in results["rows"]:
        cells = []
        for t in tools:
            info = row["tools"].get(t)
            if info is None:
                cells.append("")
            elif "skipped" in info:
                cells.append("skipped")
            elif "error" in info:
                cells.append("error")
            elif info.get("ok") is False:
                cells.append("mismatch")
            else:
                sps = row["steps"] / info["best_run_s"]
                ratio = info.get("ratio")
                cells.append(f"{sps:,.0f} steps/s" + (f" ({ratio:.2f}x)" if ratio else ""))
        print(f"| {row['n']} | {row['steps']} | " + " | ".join(cells) + " |")


def print_variant_ratios(results):
    """Each checked peer's time over the time of qifsim's variants (events, rows, fused), per N."""
    variants = ("qifsim_events", "qifsim_rows", "qifsim_fused")
    for variant in variants:
        rows = [r for r in results["rows"] if r["tools"].get(variant, {}).get("ok")]
        if not rows:
            continue
        peers = []
        for row in rows:
            for t, info in row["tools"].items():
                if not t.startswith("qifsim") and info.get("ok") and t not in peers:
                    peers.append(t)
        print(f"\nPeer time / {variant} time (above 1: {variant} is faster):")
        print("| N | " + " | ".join(peers) + " |")
        print("|---|" + "---|" * len(peers))
        for row in rows:
            v = row["tools"][variant]["best_run_s"]
            cells = []
            for t in peers:
                info = row["tools"].get(t, {})
                cells.append(f"{info['best_run_s'] / v:.2f}x" if info.get("ok") and "best_run_s" in info else "")
            print(f"| {row['n']} | " + " | ".join(cells) + " |")


def plot(results, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib missing: no plot")
        return
    series = {}
    for row in results["rows"]:
        for tool, info in row["tools"].items():
            if "best_run_s" in info and info.get("ok") is not False:
                series.setdefault(tool, []).append((row["n"], row["steps"] / info["best_run_s"]))
    fig, ax = plt.subplots(figsize=(9.5, 4.8))
    labels = {"qifsim_float32": "qifsim float32 (not compared)", "qifsim_rows": "qifsim, row-block coupling",
              "qifsim_fused": "qifsim, fused step (one launch per step)",
              "qifsim_events": "qifsim, event-driven coupling"}
    for tool, pts in series.items():
        pts.sort()
        ax.loglog([p[0] for p in pts], [p[1] for p in pts], marker="o", label=labels.get(tool, tool),
                  linestyle="--" if tool == "qifsim_float32" else "-")
    bw = results.get("floor_bw_gbs")
    if bw:
        ns = np.geomspace(min(r["n"] for r in results["rows"]), max(r["n"] for r in results["rows"]), 50)
        ax.loglog(ns, bw * 1e9 / (ns * ns * 8.0), color="gray", linestyle=":",
                  label=f"floor: J (float64) read from DRAM\nonce per step at {bw:g} GB/s")
    ax.set_xlabel("N (neurons)")
    ax.set_ylabel("steps / s (float64, output recorded every step)")
    m = results["machine"]
    ax.set_title(f"QIF network, {results['device'].upper()}: {m.get('Model name', '?')}, {m.get('cpus')} cores",
                 fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    log(f"plot: {path}")


# ---------------------------------------------------------------------------------------
# Parity with RectiPy (the seed's network)
# ---------------------------------------------------------------------------------------

def numpy_reference(J, eta, inputs, m, order="spec", matvec="blas"):
    """A float64 loop in either the spec's arithmetic order or RectiPy's (as generated by
    pyrates: delta_v = k*s_in + (I_ext + eta + v**2)/tau, delta_s = -s/tau_s + spike/dt,
    y += dt*delta, v = v_new*(1 - spike) + spike*v_reset). matvec: "blas" (NumPy's J @ s) or
    "sequential" (s_in_i = ((J_i0 s_0 + J_i1 s_1) + ...) without FMA, as torch.mv sums a 5 x 5)."""
    n, steps = J.shape[0], inputs.shape[0]
    dt, tau, k, tau_s = m["dt"], m["tau"], m["k"], m["tau_s"]
    adapt = m.get("adaptation", False)
    v = np.full(n, m["v0"])
    s = np.zeros(n)
    x = np.zeros(n)
    out = np.empty((steps, n))
    vs = np.empty((steps, n))
    for t in range(steps):
        spike = (v >= m["v_th"]).astype(np.float64)
        out[t], vs[t] = s, v
        if matvec == "blas":
            s_in = J @ s
        else:
            s_in = J[:, 0] * s[0]
            for j in range(1, n):
                s_in = s_in + J[:, j] * s[j]
        drive = eta - x if adapt else eta
        if order == "spec":
            v1 = v + dt * ((v * v + drive + inputs[t]) / tau + k * s_in)
            s = s + dt * (-s / tau_s) + spike
            if adapt:
                x = x + dt * (-x / m["tau_x"]) + m["alpha"] * spike
            v = np.where(spike > 0, m["v_reset"], v1)
        else:
            sp = spike / dt
            v1 = v + dt * (k * s_in + (inputs[t] + drive + v ** 2) / tau)
            s = s + dt * (-s / tau_s + sp)
            if adapt:
                x = x + dt * (m["alpha"] * sp - x / m["tau_x"])
            v = v1 * (1.0 - spike) + spike * m["v_reset"]
    return out, vs


def rectipy_seed_run(J, m, inputs, eta=None, adaptation=False, mode="manual", sampling_steps=1):
    """RectiPy on the seed's network: the tutorial's hand-written loop (forward + Observer.record
    of the output and every neuron's v), or Network.run with the neuron-averaged v."""
    import torch
    from rectipy import Observer
    net = _rectipy_net(J, m, "cpu", eta=eta, adaptation=adaptation)
    inp = torch.tensor(inputs, dtype=torch.float64)
    if mode == "manual":
        obs = Observer(net.dt, record_output=True, record_loss=False, record_vars=[("qif", "v", False)])
        for step in range(inputs.shape[0]):
            out = net.forward(inp[step, :])
            obs.record(step, output=out, loss=0.0, record_vars=[net.get_var("qif", "v")])
        return obs.to_numpy("out"), obs.to_numpy(("qif", "v")), np.asarray(obs["steps"])
    obs = net.run(inputs=inp, record_vars=[("qif", "v", True)], sampling_steps=sampling_steps, verbose=False)
    return obs.to_numpy("out"), obs.to_numpy(("qif", "v"))[:, None], np.asarray(obs["steps"])


def diff_stats(a, b):
    d = np.abs(a - b)
    denom = np.maximum(np.abs(b), 1e-12)
    return dict(max_abs=float(d.max()), max_rel=float((d / denom).max()), bitwise_equal=bool(np.array_equal(a, b)))


def spike_steps_from_v(v, v_th):
    return [np.flatnonzero(v[:, i] >= v_th) for i in range(v.shape[1])]


def parity(args):
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    qbin = find_qifsim_bin(args.qifsim_bin)
    import rectipy  # noqa: F401  (fail early)
    import torch
    steps, n = args.parity_steps, 5
    np.random.seed(args.seed)
    J = np.random.rand(n, n) * 20.0               # as in the tutorial (N = 5, rand * 20)
    eta_vec = -5.0 + 2.0 * np.random.rand(n)     # the per-neuron-eta variant
    inputs = np.zeros((steps, n)) + 15.0
    cases = [("seed", None, False, "manual", 1), ("seed_eta_per_neuron", eta_vec, False, "manual", 1),
             ("seed_sfa", None, True, "manual", 1), ("seed_run_mean_sampling2", None, False, "run", 2)]
    report = dict(machine=machine_info(), seed=args.seed, steps=steps, n=n, J=J.tolist(), eta_variant=eta_vec.tolist(),
                  versions=dict(rectipy=_dist_version("rectipy"), pyrates=_dist_version("pyrates"),
                                torch=torch.__version__, numpy=np.__version__), cases={})
    for name, eta, adapt, mode, sampling in cases:
        d = out_dir / name
        m = dict(SPEC, adaptation=adapt)
        write_network(d, J, eta if eta is not None else np.full(n, -5.0), inputs, adaptation=adapt)
        rec = "out,v" if mode == "manual" else "out,v_mean"
        extra = ["--sampling-steps", str(sampling)] + (["--adaptation"] if adapt else [])
        _, qinfo, qdir = run_qifsim(qbin, d, 1, "cpu", "float64", record=rec, extra=extra, save_name="qifsim")
        q_out, q_v = np.load(qdir / "out.npy"), np.load(qdir / "qif.v.npy")
        q_steps = np.load(qdir / "steps.npy")
        r_out, r_v, r_steps = rectipy_seed_run(J, m, inputs, eta=eta, adaptation=adapt, mode=mode,
                                               sampling_steps=sampling)
        case = dict(mode=mode, sampling_steps=sampling, adaptation=adapt, eta_per_neuron=eta is not None,
                    samples=dict(qifsim=int(q_out.shape[0]), rectipy=int(r_out.shape[0])),
                    same_sample_steps=bool(np.array_equal(q_steps.ravel(), r_steps.ravel())),
                    qifsim_command=qinfo["command"])
        case["out"] = diff_stats(q_out, r_out)
        case["v"] = diff_stats(q_v, r_v)
        if mode == "manual":
            qs, rs = spike_steps_from_v(q_v, SPEC["v_th"]), spike_steps_from_v(r_v, SPEC["v_th"])
            case["spikes"] = dict(qifsim=[len(a) for a in qs], rectipy=[len(b) for b in rs],
                                  identical_spike_steps=all(np.array_equal(a, b) for a, b in zip(qs, rs)))
            first_diff = [int(np.flatnonzero(np.any(q_v != r_v, axis=1))[0]) if np.any(q_v != r_v) else None]
            case["first_step_v_differs"] = first_diff[0]
            # Where the differences come from: the same loop in the spec's order and in RectiPy's.
            e = eta if eta is not None else np.full(n, -5.0)
            for order in ("spec", "rectipy"):
                for matvec in ("blas", "sequential"):
                    a_out, a_v = numpy_reference(J, e, inputs, m, order=order, matvec=matvec)
                    case[f"numpy_{order}_order_{matvec}_matvec"] = dict(
                        vs_qifsim=dict(out=diff_stats(a_out, q_out), v=diff_stats(a_v, q_v)),
                        vs_rectipy=dict(out=diff_stats(a_out, r_out), v=diff_stats(a_v, r_v)))
        report["cases"][name] = case
        log(f"{name:26s} out max_abs {case['out']['max_abs']:.3g} rel {case['out']['max_rel']:.3g} | "
            f"v max_abs {case['v']['max_abs']:.3g} rel {case['v']['max_rel']:.3g} | "
            + (f"spike steps identical: {case['spikes']['identical_spike_steps']} {case['spikes']['qifsim']}"
               if "spikes" in case else f"samples {case['samples']}"))
    (out_dir / "parity.json").write_text(json.dumps(report, indent=1))
    log(f"wrote {out_dir / 'parity.json'}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", default="100,1000,4000", help="comma-separated network sizes")
    p.add_argument("--steps", type=int, default=0, help="steps per run (default: by N, %s)" % DEFAULT_STEPS)
    p.add_argument("--tools", default="", help="comma-separated subset of " + ",".join(CPU_TOOLS))
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"],
                   help="cuda: qifsim's CUDA backend, the PyTorch loop, JAX and RectiPy on the GPU")
    p.add_argument("--precision", default="float64", choices=["float64", "float32"], help=argparse.SUPPRESS)
    p.add_argument("--repeats", type=int, default=3, help="runs per tool; the best after the first counts")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--j-scale", type=float, default=20.0, help="J = rand(N, N) * j_scale / N")
    p.add_argument("--atol", type=float, default=1e-6, help="largest |output difference| accepted")
    p.add_argument("--rectipy-max-n", type=int, default=2000)
    p.add_argument("--brian-threads", type=int, default=-1,
                   help="OpenMP threads of Brian's cpp_standalone (0: none); -1: try 0 and all cores")
    p.add_argument("--timeout", type=float, default=3600, help="seconds per peer process")
    p.add_argument("--qifsim-bin", default="", help="path of qifsim_run_npy")
    p.add_argument("--qifsim-float32", action="store_true", help="also time qifsim in float32 (not compared)")
    p.add_argument("--qifsim-events", type=int, default=0, metavar="R",
                   help="CPU: also time qifsim's event-driven coupling, dense every R steps (checked like a peer)")
    p.add_argument("--qifsim-rows", action="store_true",
                   help="with --device cuda: also time qifsim's row-block coupling kernel (checked like a peer)")
    p.add_argument("--qifsim-fused", action="store_true",
                   help="with --device cuda: also time qifsim's fused step, one launch per step (checked like a peer)")
    p.add_argument("--wait-idle", type=float, default=0,
                   help="before each tool, wait up to this many seconds for idle CPUs (shared machines)")
    p.add_argument("--floor-bw", type=float, default=0,
                   help="GB/s (qifsim_bench's read bandwidth) for the bandwidth-floor line of the plot")
    p.add_argument("--append", action="store_true",
                   help="keep the rows of results.json in --out for the sizes not run now")
    p.add_argument("--keep-arrays", action="store_true", help="keep the .npy files of every N")
    p.add_argument("--out", default=str(HERE / "results" / "latest"))
    p.add_argument("--parity", action="store_true", help="parity with RectiPy on the seed's network (N = 5)")
    p.add_argument("--parity-steps", type=int, default=10000)
    p.add_argument("--plot-only", default="", help="redraw the plot of a results directory")
    p.add_argument("--worker", nargs=2, metavar=("TOOL", "DIR"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        run_worker(args.worker[0], args.worker[1], args.repeats, args.device, args.precision, args.brian_threads)
    elif args.plot_only:
        res = json.loads((Path(args.plot_only) / "results.json").read_text())
        if args.floor_bw:
            res["floor_bw_gbs"] = args.floor_bw
        print_table(res)
        print_variant_ratios(res)
        plot(res, Path(args.plot_only) / "steps_per_s.png")
    elif args.parity:
        parity(args)
    else:
        benchmark(args)


if __name__ == "__main__":
    main()
