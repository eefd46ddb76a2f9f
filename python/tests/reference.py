"""An independent NumPy reading of /work/shared/spec/semantics.md, for the tests only.

Written from the spec's equations with plain NumPy; it uses nothing from qifsim. The tests
compare the package (the C++ engine behind it) with it.

One step of a QIF population from the state (v, s, x) at the step's start, input I:
    spike = v >= v_th
    s_in  = J s
    v    <- v + dt * ((v^2 + (eta - x) + I) / tau + k * s_in)
    s    <- s + dt * (-s / tau_s) + spike
    x    <- x + dt * (-x / tau_x) + alpha * spike          (qif_sfa only)
    v    <- v_reset where spike
The step's output is the output variable (s, or v) at the step's start.

Recording a run of T steps (sampling S, cutoff C): a sample at step t when t >= C and
t % S == 0; its output is the mean of the outputs of the steps since the previous sample
(from C for the first), through t; its variables are their values at the start of step t
(averaged over neurons for a mean variable).
"""

import numpy as np


def _full(value, n):
    return np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy()


class QifPop:
    """A QIF population (RectiPy's qif, or qif_sfa with adaptation=True)."""

    def __init__(self, n, J=None, dt=1e-3, eta=-5.0, tau=1.0, k=1.0, tau_s=1.0, v0=-2.0, s0=0.0,
                 v_th=100.0, v_reset=-100.0, adaptation=False, alpha=1.0, tau_x=10.0, x0=0.0,
                 output="s", dtype=np.float64):
        self.n, self.dt, self.adaptation, self.output_var = n, dtype(dt), adaptation, output
        self.J = None if J is None else np.asarray(J, dtype=dtype)
        f = lambda a: _full(a, n).astype(dtype)  # noqa: E731
        self.eta, self.tau, self.k, self.tau_s = f(eta), f(tau), f(k), f(tau_s)
        self.v_th, self.v_reset, self.alpha, self.tau_x = f(v_th), f(v_reset), f(alpha), f(tau_x)
        self.v, self.s, self.x = f(v0), f(s0), f(x0)
        self.s_in = np.zeros(n, dtype=dtype)
        self.spikes = 0

    def coupling(self):
        """J s, summed left to right over j (a plain loop, as the spec's sum)."""
        if self.J is None:
            return np.zeros(self.n, dtype=self.s.dtype)
        acc = self.J[:, 0] * self.s[0]
        for j in range(1, self.n):
            acc = acc + self.J[:, j] * self.s[j]
        return acc

    def output(self):
        return (self.v if self.output_var == "v" else self.s).copy()

    def var(self, name):
        if name == "spike":  # recorded and read as RectiPy's spike / dt
            return (self.v >= self.v_th).astype(np.float64) / self.dt
        return getattr(self, name).copy()

    def step(self, I):
        y = self.output()
        spike = self.v >= self.v_th
        one = spike.astype(self.s.dtype)
        self.s_in = self.coupling()
        drive = self.eta - self.x if self.adaptation else self.eta
        v1 = self.v + self.dt * ((self.v * self.v + drive + I) / self.tau + self.k * self.s_in)
        self.s = self.s + self.dt * (-self.s / self.tau_s) + one
        if self.adaptation:
            self.x = self.x + self.dt * (-self.x / self.tau_x) + self.alpha * one
        self.v = np.where(spike, self.v_reset, v1)
        self.spikes += int(spike.sum())
        return y


def activate(name, z):
    if name == "identity":
        return z.copy()
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name in ("softmax", "softmin"):
        e = np.exp(z if name == "softmax" else -z)
        return e / e.sum()
    if name == "log_softmax":
        return z - np.log(np.exp(z).sum())
    raise ValueError(name)


def matvec(W, x):
    acc = W[:, 0] * x[0]
    for j in range(1, W.shape[1]):
        acc = acc + W[:, j] * x[j]
    return acc


class Chain:
    """input function node (act_in) -> W_in -> population -> W_out -> output node (act_out)."""

    def __init__(self, act_in, W_in, pop, W_out, act_out):
        self.act_in, self.W_in, self.pop, self.W_out, self.act_out = act_in, W_in, pop, W_out, act_out

    def step(self, x):
        I = matvec(self.W_in, activate(self.act_in, np.asarray(x, dtype=np.float64)))
        return activate(self.act_out, matvec(self.W_out, self.pop.step(I)))


def run(step, read, inputs, sampling_steps=1, cutoff=0, var_means=(), targets=None, loss="mse"):
    """Record a run of len(inputs) steps. `step(x)` advances and returns the step's output;
    `read(i)` gives variable i now. Returns steps, outputs, losses, variables, mean loss."""
    steps, outs, losses, vars_ = [], [], [], [[] for _ in var_means]
    win, win_loss, win_n, loss_sum, loss_n = None, 0.0, 0, 0.0, 0
    for t in range(len(inputs)):
        sample = t >= cutoff and t % sampling_steps == 0
        snap = [read(i) for i in range(len(var_means))] if sample else None
        y = np.asarray(step(inputs[t]), dtype=np.float64)
        if t < cutoff:
            continue
        win = y.copy() if win is None else win + y
        if targets is not None:
            d = y - targets[t]
            l_t = float(np.mean(d * d) if loss == "mse" else np.mean(np.abs(d)))
            win_loss += l_t
            loss_sum += l_t
            loss_n += 1
        win_n += 1
        if sample:
            steps.append(t)
            outs.append(win / win_n)
            losses.append(win_loss / win_n)
            for i, mean in enumerate(var_means):
                vars_[i].append(np.array([np.sum(snap[i]) / len(snap[i])]) if mean else snap[i])
            win, win_loss, win_n = None, 0.0, 0
    return {
        "steps": np.array(steps, dtype=np.int64),
        "out": np.array(outs),
        "loss": np.array(losses),
        "vars": [np.array(v) for v in vars_],
        "mean_loss": loss_sum / loss_n if loss_n else 0.0,
    }
