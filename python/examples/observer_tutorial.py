"""RectiPy's Observer tutorial (auto_interfaces/observer.py), run by qifsim.

The tutorial's code with two changes: ``from qifsim import Network, Observer`` in place of
``from rectipy import ...``, and NumPy arrays in place of torch tensors. A network of N = 5
randomly coupled QIF neurons, recorded by hand with an Observer, then by Network.run.

    python observer_tutorial.py            # shows the plots (MPLBACKEND=Agg: draws them only)
"""

# Step 1: Network initialization
import pandas as pd
import numpy as np
from qifsim import Network

# network parameters
N = 5
J = np.random.rand(N, N) * 20.0
node = "neuron_model_templates.spiking_neurons.qif.qif"

# network initialization
net = Network(dt=1e-3)
net.add_diffeq_node("qif", node, weights=J, source_var="s", target_var="s_in",
                    input_var="I_ext", output_var="s", op="qif_op", spike_def="v", spike_var="spike")

# Step 2: Observer initialization
from qifsim import Observer

obs = Observer(net.dt, record_output=True, record_loss=False, record_vars=[("qif", "v", False)])

# Step 3: Perform recordings

# define input
steps = 10000
inp = np.zeros((steps, N)) + 15.0

# compile the network
net.compile()

# perform numerical simulation
for step in range(steps):
    out = net.forward(inp[step, :])
    obs.record(step, output=out, loss=0.0, record_vars=[net.get_var("qif", "v")])

import matplotlib.pyplot as plt

obs.plot(("qif", "v"))
plt.show()

obs.plot(y=("qif", "v"), x="out")
plt.show()

v = obs.to_dataframe(("qif", "v"))  # type: pd.DataFrame
s_raw = obs["out"]  # type: np.ndarray (RectiPy: a list of tensors)
s_numpy = obs.to_numpy("out")  # type: np.ndarray

# Using the Observer through Network.run
obs = net.run(inputs=inp, record_vars=[("qif", "v", True)], verbose=False)

obs2 = net.run(inputs=inp, record_vars=[("qif", "v", True)], sampling_steps=2, verbose=False)
print(len(obs[("qif", "v")]))
print(len(obs2[("qif", "v")]))
ax = obs.plot(("qif", "v"))
obs2.plot(("qif", "v"), ax=ax)
plt.legend(["obs", "obs2"])
plt.show()

net.run(inputs=inp, record_output=True, record_loss=False, verbose=False)
