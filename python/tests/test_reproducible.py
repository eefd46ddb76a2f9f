"""run(reproducible=True): every product in qifsim's own fixed order. J s of a dense J at a size
where the default takes OpenBLAS equals the eight-lane order of host/cpu/blas.hpp, written out
here in NumPy; the default agrees with it to rounding; the config key reaches the run."""
import numpy as np

from qifsim import Network

QIF = "neuron_model_templates.spiking_neurons.qif.qif"
VARS = dict(source_var="s", target_var="s_in", input_var="I_ext", output_var="s", spike_var="spike",
            reset_var="v")


def lanes(A, x):
    """Row sums of A * x: lane k adds columns k, k + 8, ... in order, then a fixed tree, then the
    remaining columns in order."""
    rows, cols = A.shape
    whole = cols - cols % 8
    lane = np.zeros((rows, 8))
    for g in range(0, whole, 8):
        lane = lane + A[:, g:g + 8] * x[g:g + 8]
    total = ((lane[:, 0] + lane[:, 1]) + (lane[:, 2] + lane[:, 3])) + \
        ((lane[:, 4] + lane[:, 5]) + (lane[:, 6] + lane[:, 7]))
    for j in range(whole, cols):
        total = total + A[:, j] * x[j]
    return total


def s_in_after_one_step(J, s, **kw):
    net = Network(1e-3)
    net.add_diffeq_node("qif", QIF, weights=J, **VARS)
    net.compile()
    net.set_var("qif", "s", s)
    obs = net.run(np.zeros((1, 1)), record_vars=[("qif", "s_in", False)], verbose=False, coupling="dense", **kw)
    return np.array(obs[("qif", "s_in")])[0]


def test_a_reproducible_run_sums_js_in_the_eight_lane_order():
    rng = np.random.default_rng(5)
    n = 403  # 403 x 403: OpenBLAS's size outside the mode; not a multiple of 8
    J = rng.normal(0.0, 1.0 / np.sqrt(n), (n, n))
    s = rng.uniform(0.0, 1.5, n)
    want = lanes(J, s)
    got = s_in_after_one_step(J, s, reproducible=True)
    assert np.array_equal(got, want)
    default = s_in_after_one_step(J, s)
    np.testing.assert_allclose(default, want, rtol=0, atol=1e-13)
