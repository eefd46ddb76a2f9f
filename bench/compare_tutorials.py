#!/usr/bin/env python3
"""Run RectiPy's documentation tutorials with RectiPy and with qifsim and compare them.

Each tutorial's source comes from RectiPy's git repository (documentation/<path>). It runs
twice, each time in a fresh process: once as published with RectiPy, once with qifsim, the
only change being ``from rectipy import`` -> ``from qifsim import``. Both runs seed NumPy's
generator with the same seed right before the tutorial's code, so the weights the tutorials
draw with np.random are the same. Matplotlib draws on Agg and ``plt.show`` does nothing.

Recorded in each run, in call order: the Observer returned by every ``Network.run``,
``Network.test`` and ``Network.fit_ridge`` called by the tutorial (calls made inside these
methods are not counted), every Observer the tutorial creates itself, and the tutorial's
final ``obs``. Every recording (``to_numpy`` of each key: out, steps, loss, state variables,
w_out, y) is saved in <out>/<tutorial>.<side>.npz, next to <tutorial>.<side>.json (what ran,
times, error), .py (the code run) and .log (the first and last 32 KiB of what it printed).
An array of more than --max-elems values is saved on every k-th row only (the details say
so); once a run has saved --max-mb, every further array on a tenth of that (ridge_example.py
records 300000 x 100 network states per epoch). A recording a (qifsim) is compared with b
(RectiPy) by max|a - b| / max(max|b|, 1e-300); the table gives the largest of them. A time
is the tutorial's code from start to end, plots included, with the modules it imports
already loaded and the saving of recordings left out.

Changes besides the import line, always named in the table's notes:
  * RectiPy refuses ``spike_def="v"`` (interfaces/observer.py, qif_example.py): the RectiPy
    run gets ``reset_var="v"`` in its place, the qifsim run keeps the tutorial's argument.
  * qif_example.py's input edge gets ``weights=np.random.randn(N, m)`` in both runs: without
    weights RectiPy draws them with torch and qifsim with np.random, which cannot be equal.
  * --ridge-epochs E sets ``n_epochs = E`` in ridge_example.py (both runs; 21 as published).
  * --qif-T T sets ``T = T`` in qif_example.py (both runs; 40.0 as published).

  python bench/compare_tutorials.py \\
      --qifsim-pythonpath /path/to/dir/with/qifsim --tutorials interfaces/observer.py,models/qif.py
  python bench/compare_tutorials.py --sides qifsim ...   # reuse the saved RectiPy runs
  python bench/compare_tutorials.py --sides none ...     # only compare what is saved

Children: --rectipy-python (torch, rectipy, pyrates) and --qifsim-python (qifsim; torch
only where a tutorial imports it: interfaces/observer.py does).
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
MIRROR = "/work/.mirror/pyrates-neuroscience+RectiPy/repo"
TUTORIALS = ["interfaces/model_definition.py", "interfaces/observer.py", "interfaces/simulation.py",
             "models/leaky_integrator.py", "models/lif.py", "models/qif.py", "qif_example.py",
             "ridge_example.py"]
IMPORT = ("from rectipy import", "from qifsim import")
RECTIPY_FIXES = {  # RectiPy 0.12.2 refuses these arguments of its own tutorials
    "interfaces/observer.py": [('spike_def="v"', 'reset_var="v"')],
    "qif_example.py": [('spike_def="v"', 'reset_var="v"')],
}
BOTH_FIXES = {  # weights a tutorial leaves to the simulator's random draws (torch's cannot be repeated)
    "qif_example.py": [('net.add_edge("inp", "qif")', 'net.add_edge("inp", "qif", weights=np.random.randn(N, m))')],
}
SIDES = ("rectipy", "qifsim")
TINY = 1e-300


# ---------------------------------------------------------------------------------------
# The child: one tutorial, one simulator
# ---------------------------------------------------------------------------------------

def _as_array(x) -> np.ndarray:
    """A tensor, array, list of tensors or number as a float64 array."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    if isinstance(x, (list, tuple)):
        return np.asarray([_as_array(v) for v in x], dtype=np.float64)
    return np.asarray(x, dtype=np.float64)


def _observer_keys(obs) -> list:
    keys = []
    for source in (getattr(obs, "_recordings", None), getattr(obs, "_additional_storage", None)):
        if isinstance(source, dict):
            keys += list(source)
    if callable(getattr(obs, "keys", None)):
        keys += list(obs.keys())
    keys += [tuple(k) for k in getattr(obs, "recorded_state_variables", [])]
    keys += ["out", "loss", "steps", "w_out", "y"]
    unique = []
    for k in keys:
        if k not in unique:
            unique.append(k)
    return unique


def _observer_arrays(obs) -> dict:
    """Every recording of an Observer (RectiPy's or qifsim's) as {name: float64 array}."""
    arrays = {}
    for key in _observer_keys(obs):
        try:
            a = _as_array(obs.to_numpy(key))
        except Exception:
            try:
                a = _as_array(obs[key])
            except Exception:
                continue
        arrays["/".join(key) if isinstance(key, tuple) else str(key)] = a
    return arrays


def _imported_modules(source: str) -> list:
    """Top-level modules the code imports (``import a.b``, ``from a.b import c``)."""
    import ast
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
    return list(dict.fromkeys(names))


def child(side: str, src_path: str, out_prefix: str, seed: int, max_elems: int, max_total: int) -> None:
    """Run one tutorial with one simulator; write <out_prefix>.npz and .json. An array over
    max_elems values is saved on every k-th row; once max_total values are saved, every
    further array on at most max_elems // 10."""
    import importlib
    import importlib.metadata
    import traceback
    import weakref

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.show = lambda *a, **k: None

    versions = {"python": platform.python_version(), "numpy": np.__version__}
    for dist in ("rectipy", "pyrates", "torch"):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            pass
    try:
        mod = importlib.import_module(side)
    except Exception as e:
        result = {"side": side, "ok": False, "error": f"import {side}: {type(e).__name__}: {e}", "error_line": None,
                  "versions": versions, "t_exec": None, "t_calls": None, "captures": []}
        np.savez(out_prefix + ".npz")
        Path(out_prefix + ".json").write_text(json.dumps(result, indent=1))
        traceback.print_exc()
        return
    if side == "qifsim":
        versions["qifsim"] = getattr(mod, "__version__", "?")
        versions["qifsim_path"] = str(Path(mod.__file__).parent)
    if "torch" in sys.modules:
        versions["torch_threads"] = sys.modules["torch"].get_num_threads()
    Observer = mod.Observer

    captures, manual = [], []
    state = {"depth": 0, "t_calls": 0.0, "t_capture": 0.0, "count": {}, "saved": 0}
    seen = []  # (weak reference, label) of every Observer captured
    arrays = {}

    def capture(label: str, value) -> None:
        entry = {"label": label, "arrays": {}}
        items = value if isinstance(value, tuple) else (value,)
        for i, item in enumerate(items):
            if isinstance(item, Observer):
                recs = _observer_arrays(item)
            elif isinstance(item, (int, float)) or hasattr(item, "detach"):
                recs = {"returned": _as_array(item)}
            else:
                continue
            for name, a in recs.items():
                name = name if len(items) == 1 else f"[{i}] {name}"
                cap = max_elems if state["saved"] < max_total else max(max_elems // 10, 1)
                stride = 1
                if a.size > cap and a.ndim >= 1 and a.shape[0] > 1:
                    stride = -(-a.size // cap)
                npz_key = f"a{len(arrays)}"
                arrays[npz_key] = np.ascontiguousarray(a[::stride] if a.ndim else a)
                state["saved"] += arrays[npz_key].size
                entry["arrays"][name] = {"npz": npz_key, "shape": list(a.shape), "stride": stride}
        captures.append(entry)
        for item in items:
            if isinstance(item, Observer):
                seen.append((weakref.ref(item), label))

    def wrap(name: str, method):
        def wrapped(*args, **kwargs):
            state["depth"] += 1
            t0 = time.perf_counter()
            try:
                result = method(*args, **kwargs)
            finally:
                dt = time.perf_counter() - t0
                state["depth"] -= 1
            if state["depth"] == 0:
                state["t_calls"] += dt
                n = state["count"][name] = state["count"].get(name, 0) + 1
                t1 = time.perf_counter()
                try:
                    capture(f"{name}#{n}", result)
                except Exception as e:  # the harness must not change the tutorial's course
                    captures.append({"label": f"{name}#{n}", "arrays": {}, "capture_error": repr(e)})
                state["t_capture"] += time.perf_counter() - t1
            return result
        return wrapped

    for name in ("run", "test", "fit_ridge"):
        if hasattr(mod.Network, name):
            setattr(mod.Network, name, wrap(name, getattr(mod.Network, name)))
    observer_init = Observer.__init__

    def init(self, *args, **kwargs):
        observer_init(self, *args, **kwargs)
        if state["depth"] == 0:
            manual.append(self)
    Observer.__init__ = init

    source = Path(src_path).read_text()
    code = compile(source, src_path, "exec")
    for module in _imported_modules(source):  # imports stay out of the timing
        try:
            importlib.import_module(module)
        except Exception:
            pass  # the tutorial's own import reports it
    g = {"__name__": "__main__", "__file__": src_path}
    result = {"side": side, "ok": True, "error": None, "error_line": None, "versions": versions}
    np.random.seed(seed)
    t0 = time.perf_counter()
    try:
        exec(code, g)
    except BaseException as e:  # noqa: B902 - a tutorial's SystemExit is an error too
        result["ok"] = False
        msg = str(e).strip().splitlines()
        result["error"] = f"{type(e).__name__}: {msg[0] if msg else ''}".strip()
        frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == src_path]
        if frames:
            result["error_line"] = f"line {frames[-1].lineno}: {(frames[-1].line or '').strip()}"
        traceback.print_exc()
    result["t_exec"] = time.perf_counter() - t0 - state["t_capture"]
    result["t_calls"] = state["t_calls"]
    for i, obs in enumerate(manual):
        capture(f"Observer#{i + 1} (tutorial's own)", obs)
    if result["ok"] and isinstance(g.get("obs"), Observer):
        same = [label for ref, label in seen if ref() is g["obs"]]
        if same:
            captures.append({"label": "final obs", "same_as": same[0], "arrays": {}})
        else:
            capture("final obs", g["obs"])
    result["captures"] = captures
    np.savez(out_prefix + ".npz", **arrays)
    Path(out_prefix + ".json").write_text(json.dumps(result, indent=1))


# ---------------------------------------------------------------------------------------
# The parent: sources, runs, comparison, table
# ---------------------------------------------------------------------------------------

def tutorial_id(path: str) -> str:
    return path[:-3].replace("/", "__")


def sources(path: str, args) -> tuple[dict, list]:
    """The tutorial's code for each side, and notes on every change besides the import."""
    text = subprocess.run(["git", "-C", args.mirror, "show", f"{args.rev}:documentation/{path}"],
                          check=True, capture_output=True, text=True).stdout
    subs = {s: [] for s in SIDES}
    notes = []
    for old, new in RECTIPY_FIXES.get(path, []):
        subs["rectipy"].append((old, new))
        notes.append(f"RectiPy run: `{old}` -> `{new}` (RectiPy refuses the tutorial's argument)")
    scale = list(BOTH_FIXES.get(path, []))
    if path == "ridge_example.py" and args.ridge_epochs is not None:
        scale.append(("n_epochs = 21", f"n_epochs = {args.ridge_epochs}"))
    if path == "qif_example.py" and args.qif_T is not None:
        scale.append(("T = 40.0", f"T = {args.qif_T}"))
    for old, new in scale:
        subs["rectipy"].append((old, new))
        subs["qifsim"].append((old, new))
        notes.append(f"both runs: `{old}` -> `{new}`")
    subs["qifsim"].append(IMPORT)
    out = {}
    for side in SIDES:
        code = text
        for old, new in subs[side]:
            if old not in code:
                raise SystemExit(f"{path}: `{old}` not found in the tutorial (RectiPy revision {args.rev})")
            code = code.replace(old, new)
        out[side] = code
    return out, notes


def run_side(path: str, side: str, code: str, args) -> dict:
    tid = tutorial_id(path)
    prefix = args.out / f"{tid}.{side}"
    src = args.out / f"{tid}.{side}.py"
    src.write_text(code)
    for ext in (".npz", ".json"):
        Path(str(prefix) + ext).unlink(missing_ok=True)
    env = dict(os.environ, MPLBACKEND="Agg")
    py = args.rectipy_python if side == "rectipy" else args.qifsim_python
    if side == "qifsim" and args.qifsim_pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (args.qifsim_pythonpath, env.get("PYTHONPATH")) if p)
    cmd = [py, str(Path(__file__).resolve()), "--child", side, str(src.resolve()), str(prefix.resolve()),
           str(args.seed), str(args.max_elems), str(int(args.max_mb * 2**20 / 8))]
    print(f"[{path}] {side} ...", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    rc, why = run_logged(cmd, env, args.work, args.timeout, Path(str(prefix) + ".log"))
    wall = time.perf_counter() - t0
    settings = {"seed": args.seed, "code_sha": _sha(code), "max_elems": args.max_elems, "max_mb": args.max_mb}
    js = Path(str(prefix) + ".json")
    if rc != 0 or not js.exists():
        tail = [ln for ln in Path(str(prefix) + ".log").read_text(errors="replace").splitlines() if ln.strip()]
        res = {"side": side, "ok": False, "error": f"{why}" + (f"; {tail[-1]}" if tail else ""),
               "error_line": None, "captures": [], "t_exec": None, "t_calls": None, "versions": {}}
    else:
        res = json.loads(js.read_text())
    res.update(settings=settings, wall=wall, python=py)
    js.write_text(json.dumps(res, indent=1))
    print(f"[{path}] {side}: {'ok' if res['ok'] else res['error']} ({wall:.1f} s)", file=sys.stderr, flush=True)
    return res


def run_logged(cmd: list, env: dict, cwd: Path, timeout: float, log: Path, keep: int = 32768) -> tuple:
    """Run cmd; its output (stdout and stderr) goes to log, only the first and last ``keep``
    bytes of it (RectiPy's progress display writes a line per step)."""
    import collections
    import threading
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    head, tail, size = bytearray(), collections.deque(), [0, 0]  # total bytes, bytes in tail

    def drain():
        for chunk in iter(lambda: proc.stdout.read1(65536), b""):
            size[0] += len(chunk)
            if len(head) < keep:
                n = keep - len(head)
                head.extend(chunk[:n])
                chunk = chunk[n:]
            if chunk:
                tail.append(chunk)
                size[1] += len(chunk)
                while size[1] - len(tail[0]) >= keep:
                    size[1] -= len(tail.popleft())
    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        rc = proc.wait(timeout=timeout)
        why = f"exit status {rc}"
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        rc, why = None, f"timed out after {timeout} s"
    reader.join(10)
    rest = b"".join(tail)
    cut = size[0] - len(head) - len(rest)
    log.write_bytes(bytes(head) + (f"\n[... {cut} bytes left out ...]\n".encode() if cut else b"") + rest)
    return rc, why


def _sha(text: str) -> str:
    import hashlib
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def load_side(path: str, side: str, code: str, args) -> dict | None:
    js = args.out / f"{tutorial_id(path)}.{side}.json"
    if not js.exists():
        return None
    res = json.loads(js.read_text())
    s = res.get("settings", {})
    res["stale"] = s.get("seed") != args.seed or s.get("code_sha") != _sha(code)
    return res


def rel_diff(a: np.ndarray, b: np.ndarray) -> float:
    """max|a - b| / max(max|b|, tiny), NaN where both are NaN counting as equal."""
    if a.size == 0:
        return 0.0
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    if (nan_a != nan_b).any():
        return float("inf")
    keep = ~nan_a
    a, b = a[keep], b[keep]
    if a.size == 0:
        return 0.0
    return float(np.abs(a - b).max() / max(np.abs(b).max(), TINY))


def compare(path: str, res: dict, args) -> dict:
    """The table row of one tutorial, and the detail lines."""
    rp, qs = res.get("rectipy"), res.get("qifsim")
    row = {"tutorial": path, "notes": list(res["notes"]), "details": []}
    for side, r in (("RectiPy", rp), ("qifsim", qs)):
        if r is not None and r.get("stale"):
            row["notes"].append(f"saved {side} run made with another seed or code: rerun it")
    if qs is None or rp is None:
        row["status"] = "not run: " + ", ".join(n for n, r in (("RectiPy", rp), ("qifsim", qs)) if r is None)
    elif not qs["ok"]:
        row["status"] = "FAIL: " + qs["error"] + (f" ({qs['error_line']})" if qs.get("error_line") else "")
    elif not rp["ok"]:
        row["status"] = "RectiPy fails: " + rp["error"] + (f" ({rp['error_line']})" if rp.get("error_line") else "")
    else:
        row["status"] = "pass"
    row["t_rp"] = rp.get("t_exec") if rp else None
    row["t_qs"] = qs.get("t_exec") if qs else None
    row["tc_rp"] = rp.get("t_calls") if rp else None
    row["tc_qs"] = qs.get("t_calls") if qs else None
    row["max"], row["where"] = None, ""
    if not (rp and qs and rp["captures"] and qs["captures"]):
        if rp and qs and rp["ok"] and qs["ok"]:
            row["notes"].append("no recordings to compare")
        return row
    za = np.load(args.out / f"{tutorial_id(path)}.qifsim.npz")
    zb = np.load(args.out / f"{tutorial_id(path)}.rectipy.npz")
    ca = {c["label"]: c for c in qs["captures"]}
    cb = {c["label"]: c for c in rp["captures"]}
    for side, caps in (("RectiPy", cb), ("qifsim", ca)):
        for label, c in caps.items():
            if c.get("capture_error"):
                row["notes"].append(f"{side} {label}: not saved ({c['capture_error']})")
    if not (qs["ok"] and rp["ok"]):
        row["notes"].append("compared the recordings made before the error")
    elif list(ca) != list(cb):
        row["notes"].append(f"recordings differ: RectiPy {', '.join(cb)}; qifsim {', '.join(ca)}")
    subsampled, missing, extra = False, [], []
    for label, eb in cb.items():
        ea = ca.get(label)
        if ea is None:
            continue
        if ea.get("same_as") != eb.get("same_as"):
            row["notes"].append(f"{label}: RectiPy's is {eb.get('same_as') or 'new'}, "
                                f"qifsim's is {ea.get('same_as') or 'new'}")
        for name, mb in eb["arrays"].items():
            ma = ea["arrays"].get(name)
            if ma is None:
                missing.append(f"{label}:{name}")
                continue
            if ma["shape"] != mb["shape"]:
                row["details"].append(f"{label} {name}: shape {tuple(ma['shape'])} (qifsim) vs "
                                      f"{tuple(mb['shape'])} (RectiPy)")
                row["notes"].append(f"{label} {name}: shapes differ")
                continue
            sa, sb = ma["stride"], mb["stride"]
            common = sa * sb // math.gcd(sa, sb)  # both start at row 0: compare rows common to both
            d = rel_diff(za[ma["npz"]][::common // sa], zb[mb["npz"]][::common // sb])
            subsampled |= common > 1
            every = f", every {common}-th row" if common > 1 else ""
            row["details"].append(f"{label} {name} {tuple(mb['shape'])}: {d:.3g}{every}")
            if row["max"] is None or d > row["max"] or np.isnan(d):
                row["max"], row["where"] = d, f"{label} {name}"
        extra += [f"{label}:{n}" for n in ea["arrays"] if n not in eb["arrays"]]
    if missing:
        row["notes"].append("not in qifsim's recordings: " + ", ".join(missing))
    if extra:
        row["details"].append("only in qifsim's recordings: " + ", ".join(extra))
    if subsampled:
        row["notes"].append("large arrays compared on every k-th row (see details)")
    return row


def fmt_t(t) -> str:
    return "-" if t is None else f"{t:.2f}"


def table(rows: list) -> str:
    lines = ["| tutorial | qifsim | max rel. diff | RectiPy [s] | qifsim [s] | RectiPy / qifsim | notes |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        d = "-" if r["max"] is None else f"{r['max']:.2e} ({r['where']})"
        ratio = f"{r['t_rp'] / r['t_qs']:.1f}x" if r["t_rp"] and r["t_qs"] and r["status"] == "pass" else "-"
        cell = lambda s: s.replace("|", "\\|")  # noqa: E731
        lines.append(f"| {r['tutorial']} | {cell(r['status'])} | {cell(d)} | {fmt_t(r['t_rp'])} | {fmt_t(r['t_qs'])} "
                     f"| {ratio} | {cell('; '.join(r['notes']))} |")
    return "\n".join(lines)


def machine() -> str:
    info = {}
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            k, _, v = line.partition(":")
            if k.strip() in ("Model name", "CPU(s)", "Thread(s) per core", "Core(s) per socket", "Socket(s)"):
                info.setdefault(k.strip(), v.strip())
    except OSError:
        pass
    return (f"{info.get('Model name', platform.processor() or '?')}, {info.get('CPU(s)', os.cpu_count())} CPUs "
            f"({info.get('Core(s) per socket', '?')} cores per socket x {info.get('Socket(s)', '?')}, "
            f"{info.get('Thread(s) per core', '?')} threads per core), {platform.platform()}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        side, src, prefix, seed, max_elems, max_total = sys.argv[2:8]
        child(side, src, prefix, int(seed), int(max_elems), int(max_total))
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tutorials", default=",".join(TUTORIALS),
                    help="comma list of paths under documentation/ (default: the %d tutorials)" % len(TUTORIALS))
    ap.add_argument("--out", type=Path, default=HERE / "results" / "tutorials")
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds per run (default 3600)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--sides", default="both", choices=["both", "rectipy", "qifsim", "none"],
                    help="which runs to make; the others are read from --out")
    ap.add_argument("--ridge-epochs", type=int, default=None, help="n_epochs of ridge_example.py (published: 21)")
    ap.add_argument("--qif-T", type=float, default=None, help="T of qif_example.py (published: 40.0)")
    ap.add_argument("--max-elems", type=int, default=100_000,
                    help="an array over this many values is saved on every k-th row (default 100000)")
    ap.add_argument("--max-mb", type=float, default=16.0,
                    help="after this many MiB in one run's .npz, further arrays get a tenth of --max-elems")
    ap.add_argument("--rectipy-python", default=str(Path.home() / "qifsim-bench-venv" / "bin" / "python"))
    ap.add_argument("--qifsim-python", default=sys.executable)
    ap.add_argument("--qifsim-pythonpath", default="", help="prepended to PYTHONPATH of the qifsim runs")
    ap.add_argument("--mirror", default=MIRROR, help="RectiPy's git repository")
    ap.add_argument("--rev", default="HEAD")
    args = ap.parse_args()
    paths = [p.strip() for p in args.tutorials.split(",") if p.strip()]
    args.out.mkdir(parents=True, exist_ok=True)
    args.work = args.out / "cwd"  # the tutorials' working directory (PyRates may write files there)
    args.work.mkdir(exist_ok=True)
    run_sides = {"both": SIDES, "none": ()}.get(args.sides, (args.sides,))
    rows, versions = [], {}
    for path in paths:
        codes, notes = sources(path, args)
        res = {"notes": notes}
        for side in SIDES:
            res[side] = run_side(path, side, codes[side], args) if side in run_sides else \
                load_side(path, side, codes[side], args)
            if res[side] and res[side].get("versions"):
                versions[side] = dict(res[side]["versions"], interpreter=res[side].get("python", "?"))
        rows.append(compare(path, res, args))
    md = table(rows)
    print(md)
    head = ["# RectiPy tutorials: RectiPy vs qifsim", "",
            f"- date: {datetime.datetime.now().isoformat(timespec='seconds')}",
            f"- command: `{' '.join(shlex.quote(a) for a in [sys.executable] + sys.argv)}`",
            f"- machine: {machine()}",
            f"- RectiPy tutorials: {args.mirror} at {args.rev} "
            f"({subprocess.run(['git', '-C', args.mirror, 'rev-parse', args.rev], capture_output=True, text=True).stdout.strip()})",
            f"- np.random.seed({args.seed}) before each tutorial"]
    for side, v in versions.items():
        head.append(f"- {side} run: " + ", ".join(f"{k} {x}" for k, x in v.items()))
    head += ["", "Times: the tutorial's code from start to end, plots on Agg included, the modules it "
             "imports already loaded, the saving of recordings left out. max rel. diff: max|qifsim - RectiPy| / max|RectiPy| over "
             "every recording, the largest of them named.", "", ""]
    details = ["", "## Details", ""]
    for r in rows:
        details.append(f"### {r['tutorial']}")
        details.append(f"- time in run/test/fit_ridge: RectiPy {fmt_t(r['tc_rp'])} s, qifsim {fmt_t(r['tc_qs'])} s")
        details += [f"- {d}" for d in r["details"]]
        details.append("")
    (args.out / "table.md").write_text("\n".join(head) + md + "\n" + "\n".join(details))
    print(f"\nwritten: {args.out / 'table.md'}", file=sys.stderr)
    try:
        args.work.rmdir()  # left where a tutorial wrote files into it
    except OSError:
        pass


if __name__ == "__main__":
    main()
