#!/usr/bin/python3
"""Compare a qifsim run of examples/mean_field.toml with its mean-field limit and plot both.

  qifsim run examples/mean_field.toml
  /usr/bin/python3 examples/mean_field_compare.py mean_field_results    # -> mean_field.png

The run's parameters are read from the copy of the config in the output folder
(qifsim_run.toml). The Montbrio-Pazo-Roxin equations with this synapse,
  tau r' = Delta / (pi tau) + 2 r v
  tau v' = v^2 + eta_bar + I(t) + tau k Jbar s - (pi tau r)^2
  s'     = -s / tau_s + r
are integrated with RK4 (step dt / 10) and drawn over the network's population rate
(spikes per neuron per unit time, smoothed), mean v and mean s.
Needs python3-numpy and python3-matplotlib (Debian); tomllib is in Python >= 3.11.
"""
import argparse
import os
import re
import sys

import numpy as np

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

try:
    import tomllib
except ImportError:  # Python < 3.11
    sys.exit("mean_field_compare.py needs Python >= 3.11 (tomllib)")


def config(folder):
    with open(os.path.join(folder, "qifsim_run.toml"), "rb") as f:
        text = f.read().decode()
    cfg = tomllib.loads(text)
    # Overrides given to `qifsim run --set` are noted as comments; apply the simple ones.
    for key, value in re.findall(r"^# --set ([\w.]+)=(\S+)$", text, flags=re.M):
        node = cfg
        parts = key.split(".")
        for p in parts[:-1]:
            node = node[int(p)] if isinstance(node, list) else node.setdefault(p, {})
        node[parts[-1]] = tomllib.loads(f"v = {value}")["v"]
    return cfg


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", help="output folder of `qifsim run examples/mean_field.toml`")
    ap.add_argument("-o", "--out", default=None, help="PNG path (default: FOLDER/mean_field.png)")
    args = ap.parse_args()

    cfg = config(args.folder)
    pop = cfg["population"][0]
    n = pop["n"]
    eta_bar, delta = pop["eta"]["center"], pop["eta"]["width"]
    jbar = pop["weights"]["value"] * n
    tau, k, tau_s = pop.get("tau", 1.0), pop.get("k", 1.0), pop.get("tau_s", 1.0)
    dt = cfg.get("dt", 1e-3)
    base = cfg["input"].get("value", 0.0)
    steps_in = cfg["input"].get("step", [])

    def current(t):
        i = base
        for s in steps_in:
            if s.get("start", 0.0) <= t < s.get("stop", np.inf):
                i += s["value"]
        return i

    t_rec = np.load(os.path.join(args.folder, "time.npy"))
    s_rec = np.load(os.path.join(args.folder, "out.npy"))[:, 0]
    v_rec = np.load(os.path.join(args.folder, "qif.v.npy"))[:, 0]
    spikes = np.load(os.path.join(args.folder, "qif.spike.npy"))[:, 0]
    # Each sample holds the mean over the neurons of spike / dt at that step (RectiPy's
    # spike scale): the population rate, smoothed over 0.2 time units.
    width = max(1, int(round(0.2 / (t_rec[1] - t_rec[0]))))
    r_rec = np.convolve(spikes, np.ones(width) / width, mode="same")

    def rhs(t, y):
        r, v, s = y
        return np.array([
            (delta / (np.pi * tau) + 2.0 * r * v) / tau,
            (v * v + eta_bar + current(t) + tau * k * jbar * s - (np.pi * tau * r) ** 2) / tau,
            -s / tau_s + r,
        ])

    h = dt / 10
    t_end = t_rec[-1]
    n_steps = int(round(t_end / h))
    y = np.array([0.0, pop.get("v0", -2.0), pop.get("s0", 0.0)])
    # Start from the rate of a population whose v is spread as the Lorentzian: r0 small.
    y[0] = delta / (np.pi * tau) / 2.0
    ts, ys = [0.0], [y.copy()]
    for i in range(n_steps):
        t = i * h
        k1 = rhs(t, y)
        k2 = rhs(t + h / 2, y + h / 2 * k1)
        k3 = rhs(t + h / 2, y + h / 2 * k2)
        k4 = rhs(t + h, y + h * k3)
        y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        if (i + 1) % 100 == 0:
            ts.append((i + 1) * h)
            ys.append(y.copy())
    ts, ys = np.array(ts), np.array(ys)

    fig, axes = plt.subplots(3, 1, figsize=(9, 7), sharex=True)
    for ax, rec, mf, name in zip(axes, (r_rec, v_rec, s_rec), ys.T,
                                 ("rate r (spikes / neuron / time)", "mean v", "mean s (out)")):
        ax.plot(t_rec, rec, lw=1.0, label=f"qifsim, N = {n}")
        ax.plot(ts, mf, "--", lw=1.4, label="mean field (MPR)")
        for s in steps_in:
            ax.axvspan(s.get("start", 0.0), min(s.get("stop", t_end), t_end), color="0.9", zorder=0)
        ax.set_ylabel(name)
    axes[0].legend(loc="upper right")
    axes[0].set_title(f"Lorentzian eta (center {eta_bar:g}, width {delta:g}), Jbar = {jbar:g}; shaded: input step")
    axes[-1].set_xlabel("time")
    out = args.out or os.path.join(args.folder, "mean_field.png")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    late = t_rec > 5.0
    s_mf = np.interp(t_rec[late], ts, ys[:, 2])
    print(f"wrote {out}")
    print(f"mean s: max |network - mean field| for t > 5: {np.max(np.abs(s_rec[late] - s_mf)):.4f} "
          f"(range of s {s_mf.min():.3f} .. {s_mf.max():.3f})")


if __name__ == "__main__":
    main()
