"""How well ridge_example.py determines its readout weights: the condition number of the normal
equations of one epoch-like stretch of its reservoir (60 000 steps), and how far w_out moves
under a 1e-15 relative change of the states and between two ways of solving (bench/RESULTS.md,
section 8, note d). Run: python bench/ridge_conditioning.py (needs qifsim)."""
import numpy as np, time
from qifsim import Network, random_connectivity, input_connections
np.random.seed(42)
N, p, m, k, dt = 100, 0.1, 5, 3, 1e-3
W = random_connectivity(N, N, p, normalize=True)
W_in = input_connections(N, m, 0.5, variance=2.0, zero_mean=True)
net = Network(dt=dt, device="cpu")
net.add_diffeq_node("tanh", "neuron_model_templates.rate_neurons.leaky_integrator.tanh", weights=W*2.0,
                    source_var="tanh_op/r", target_var="li_op/r_in", input_var="li_op/I_ext", output_var="li_op/v")
net.run(np.zeros((100000, 1)), verbose=False, sampling_steps=100001)
net.add_func_node("inp", m, activation_function="identity")
net.add_edge("inp", "tanh", weights=W_in)
steps = 60000
inp = np.zeros((steps, m)); tg = np.zeros((steps, k))
for rep in range(steps // 3000):
    c = np.random.choice(k)
    for idx in range(3):
        inp[rep*3000 + idx*1000:(rep*3000 + (idx+1)*1000), [[0,2,1],[4,2,3],[3,2,0]][c][idx]] = 1.0
    tg[rep*3000:(rep+1)*3000, c] = 1.0
obs = net.fit_ridge(inputs=inp, targets=tg, sampling_steps=1, verbose=False, add_readout_node=False, alpha=1e-4,
                    record_output=True)
X = np.array(obs["out"]); Y = tg
A = X.T @ X + 1e-4 * np.eye(N)
print("cond(X^T X + alpha I) = %.3g" % np.linalg.cond(A))
w_solve = np.linalg.solve(A, X.T @ Y)
w_inv = np.linalg.inv(A) @ X.T @ Y
Xp = X * (1 + 1e-15 * np.random.standard_normal(X.shape))
w_pert = np.linalg.solve(Xp.T @ Xp + 1e-4 * np.eye(N), Xp.T @ Y)
rel = lambda a, b: np.abs(a - b).max() / np.abs(b).max()
print("qifsim w_out vs solve on the recorded X: %.3g" % rel(obs["w_out"], w_solve))
print("solve vs RectiPy's inv(A) @ X^T @ Y: %.3g" % rel(w_solve, w_inv))
print("X perturbed by 1e-15 relative: %.3g" % rel(w_pert, w_solve))
print("predictions X w: solve vs inv %.3g, perturbed %.3g" % (rel(X @ w_inv, X @ w_solve), rel(X @ w_pert, X @ w_solve)))
