#!/usr/bin/env python3
"""qifsim's default coupling on a small dense network against the NumPy loop a user would write.

The network: N QIF neurons, J dense normal with scale 3/sqrt(N), eta uniform in [-3, 4], the
spec's other defaults (tau = tau_s = k = 1, v_threshold 100, v_reset -100, v0 -2), a constant
input I = 2 to every neuron, v recorded at every step, float64. qifsim runs through the Python
API with no options (`coupling = "auto"`); the NumPy loop is the spec's Euler step. Each tool
runs --repeats times in this process, best time counts; the recordings must agree (same spike
steps, v within --rtol where |v| > 1e-3) or the row says so.

  python bench/compare_dense_auto.py --n 1000 --steps 5000
"""
import argparse
import time

import numpy as np

QIF = "neuron_model_templates.spiking_neurons.qif.qif"
VARS = dict(source_var="s", target_var="s_in", input_var="I_ext", output_var="s", spike_var="spike",
            reset_var="v")


def network(n, seed):
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, 3.0 / np.sqrt(n), (n, n)), rng.uniform(-3.0, 4.0, n)


def numpy_loop(J, eta, steps, inp, dt=1e-3):
    n = eta.size
    v = np.full(n, -2.0)
    s = np.zeros(n)
    out = np.empty((steps, n))
    for t in range(steps):
        out[t] = v
        spike = v >= 100.0
        v_next = v + dt * ((v * v + eta + inp) / 1.0 + 1.0 * (J @ s))
        s = s + dt * (-s / 1.0) + spike
        v = np.where(spike, -100.0, v_next)
    return out


def qifsim_run(J, eta, steps, inp):
    from qifsim import Network
    net = Network(1e-3)
    net.add_diffeq_node("qif", QIF, weights=J, node_vars={"eta": eta}, **VARS)
    obs = net.run(np.full((steps, 1), inp), record_vars=[("qif", "v", False)], record_output=False, verbose=False)
    return np.array(obs[("qif", "v")]), net.coupling_choice


def best_of(repeats, f):
    best, result = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = f()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", default="1000", help="comma-separated sizes")
    p.add_argument("--steps", type=int, default=5000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--input", type=float, default=2.0)
    p.add_argument("--rtol", type=float, default=1e-9)
    a = p.parse_args()
    print("| N | steps | qifsim (auto) | coupling chosen | NumPy loop | ratio | agree |")
    print("| ---: | ---: | ---: | --- | ---: | ---: | --- |")
    for n in (int(x) for x in a.n.split(",")):
        J, eta = network(n, 3)
        tq, (vq, choice) = best_of(a.repeats, lambda: qifsim_run(J, eta, a.steps, a.input))
        tn, vn = best_of(a.repeats, lambda: numpy_loop(J, eta, a.steps, a.input))
        big = np.abs(vn) > 1e-3
        same_spikes = np.array_equal(vq >= 100.0, vn >= 100.0)
        rel = float(np.max(np.abs(vq - vn)[big] / np.abs(vn)[big]))
        agree = f"spikes {'same' if same_spikes else 'DIFFER'}, v rel {rel:.1e}" + ("" if rel <= a.rtol else " (> rtol)")
        print(f"| {n} | {a.steps} | {tq:.3f} s | {choice} | {tn:.3f} s | {tn / tq:.1f}x | {agree} |")


if __name__ == "__main__":
    main()
