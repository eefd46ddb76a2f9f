"""A 1e5-neuron sparse QIF network from Python: 100 presynaptic partners per neuron
(``qifsim.fixed_indegree``, a SciPy CSR matrix), every spike recorded as an event and the v of
three chosen neurons, drawn as a raster, a population rate and three traces.

    python python/examples/sparse_network.py [out.png]     # default docs/images/sparse_network.png

It is the benchmark network of bench/RESULTS.md (eta Lorentzian quantiles, center -5, width 1;
weights 15/k; input 3 to every neuron through one input unit), 8000 steps of dt = 1e-3.
"""
import sys
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import qifsim

n, k, steps, dt = 100_000, 100, 8000, 1e-3
i = np.arange(1, n + 1)
eta = -5.0 + 1.0 * np.tan(np.pi / 2 * (2 * i - n - 1) / (n + 1))  # Lorentzian quantiles
J = qifsim.fixed_indegree(n, n, k, values=15.0 / k, seed=1)          # 1e7 synapses, CSR

net = qifsim.Network(dt=dt)
net.add_func_node("inp", 1)
net.add_diffeq_node("qif", "qif", weights=J, op="qif_op", source_var="s", target_var="s_in", input_var="I_ext",
                    output_var="s", spike_var="spike", reset_var="v", node_vars={"eta": eta})
net.add_edge("inp", "qif", np.ones((n, 1)))
chosen = [70_000, 85_000, 95_000]
t0 = time.perf_counter()
obs = net.run(np.full((steps, 1), 3.0), record_output=False, record_vars=[("qif", "v", chosen)],
              record_spikes=["qif"], verbose=False)
ev = obs.spikes("qif")
print(f"{steps} steps of {n} neurons in {time.perf_counter() - t0:.1f} s; {len(ev.steps)} spikes")

fig, ax = plt.subplots(3, 1, figsize=(8, 7), sharex=True, gridspec_kw={"height_ratios": [3, 1, 2]})
shown = ev.neurons % 50 == 0  # every 50th neuron
ax[0].plot(ev.times[shown], ev.neurons[shown], ".k", markersize=0.5)
ax[0].set_ylabel("neuron (every 50th)")
ax[0].set_title(f"N = {n}, {k} partners each: {len(ev.steps)} spikes")
bin_steps = 10
counts = np.bincount(ev.steps // bin_steps, minlength=steps // bin_steps)
ax[1].plot(np.arange(len(counts)) * bin_steps * dt, counts / (n * bin_steps * dt), "k")
ax[1].set_ylabel("rate")
v = obs[("qif", "v")]
for c, neuron in enumerate(chosen):
    ax[2].plot(obs.time if hasattr(obs, "time") else np.arange(steps) * dt, np.clip(v[:, c], -100, 100),
               label=f"neuron {neuron}")
ax[2].set_ylabel("v")
ax[2].set_xlabel("time")
ax[2].legend(loc="upper right", fontsize=8)
fig.tight_layout()
out = sys.argv[1] if len(sys.argv) > 1 else "docs/images/sparse_network.png"
fig.savefig(out, dpi=90)
print(f"wrote {out}")
