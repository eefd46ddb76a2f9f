"""Noise and Poisson input from Python: ``Network.add_noise`` on a linear rate model gives the
discrete Ornstein-Uhlenbeck process (its stationary variance, and a loop written here with the
module's numbers drawn from the same network), ``add_poisson_input`` gives counts at the stated
rate, seeds and ``reset()`` behave as documented, a graph rebuilt after ``pop_edge`` keeps its
inputs, and bad values are refused naming them."""
import numpy as np
import pytest

import qifsim
from qifsim import Network

QIF = "neuron_model_templates.spiking_neurons.qif.qif"
TANH = "neuron_model_templates.rate_neurons.leaky_integrator.tanh"


def linear(n, tau, dt=0.1):
    net = Network(dt=dt)
    net.add_diffeq_node("li", TANH, N=n, output_var="li_op/v", source_var="li_op/r", target_var="li_op/r_in",
                        input_var="li_op/I_ext", node_vars={"li_op/tau": tau, "li_op/k": 0.0, "li_op/eta": 0.0,
                                                            "li_op/v": 0.0})
    return net


def test_noise_gives_the_ornstein_uhlenbeck_variance():
    n, dt, tau, sigma = 8000, 0.1, 2.0, 1.5
    net = linear(n, tau, dt)
    net.add_noise("li", sigma, seed=3)
    net.run(np.zeros((400, n)), record_output=False, verbose=False)
    v = net.get_var("li", "v")
    a = 1.0 - dt / tau
    var = dt * sigma ** 2 / (1.0 - a * a)
    assert abs(v.mean()) < 5 * np.sqrt(var / n)
    assert abs(v.var() / var - 1.0) < 5 * np.sqrt(2.0 / n)


def test_seeds_reset_and_second_runs():
    def final(seed, runs=(200,), reset=False):
        net = linear(50, 2.0)
        net.add_noise("li", np.linspace(0.1, 1.0, 50), seed=seed)
        for steps in runs:
            net.run(np.zeros((steps, 50)), record_output=False, verbose=False)
        if reset:
            net.reset()
            net.run(np.zeros((200, 50)), record_output=False, verbose=False)
        return net.get_var("li", "v")

    np.testing.assert_array_equal(final(1), final(1))
    assert not np.array_equal(final(1), final(2))
    np.testing.assert_array_equal(final(1, runs=(120, 80)), final(1))  # the second run continues
    np.testing.assert_array_equal(final(1, reset=True), final(1))  # reset() repeats the numbers


def test_poisson_input_counts_at_the_stated_rate():
    n, steps, dt = 3000, 300, 0.01
    net = linear(n, 1e12, dt)
    net.add_poisson_input("li", rate=5.0, weight=1.0, sources=20, seed=4)  # lambda = 1 per step
    with pytest.warns(RuntimeWarning, match="does not suit it"):  # tau 1e12 on purpose: no leak
        net.run(np.zeros((steps, n)), record_output=False, verbose=False)
    v = net.get_var("li", "v")
    expected = 20 * 5.0 * dt * steps
    assert abs(v.mean() - expected) < 5 * np.sqrt(expected / n)
    assert abs(v.var() / expected - 1.0) < 5 * np.sqrt(2.0 / n)


def test_spiking_population_and_a_rebuilt_graph_keep_their_inputs():
    def build(extra):
        net = Network(dt=1e-3)
        net.add_diffeq_node("qif", QIF, N=40, op="qif_op", source_var="s", target_var="s_in", input_var="I_ext",
                            output_var="s", spike_var="spike", reset_var="v", node_vars={"eta": 2.0})
        net.add_noise("qif", 2.0, seed=5)
        net.add_poisson_input("qif", rate=40.0, weight=0.3, sources=10, seed=6)
        if extra:
            net.add_func_node("out", 1)
            net.add_edge("qif", "out", np.ones((1, 40)))
            net.pop_edge("qif", "out")  # the engine is built again from the recorded graph
            net.pop_node("out")
        net.run(np.zeros((500, 40)), record_output=False, verbose=False)
        return net.get_var("qif", "v")

    np.testing.assert_array_equal(build(True), build(False))


def test_bad_values_are_refused_naming_them():
    net = linear(4, 2.0)
    with pytest.raises(qifsim.InvalidArgument, match="sigma = -1 must be finite and >= 0"):
        net.add_noise("li", -1.0)
    with pytest.raises(qifsim.InvalidArgument, match="sigma has 3 values"):
        net.add_noise("li", [1.0, 2.0, 3.0])
    with pytest.raises(qifsim.InvalidArgument, match="sources = 0 is out of range"):
        net.add_poisson_input("li", rate=1.0, weight=1.0, sources=0)
    with pytest.raises(qifsim.InvalidArgument, match="unknown node 'nope'"):
        net.add_noise("nope", 1.0)


@pytest.mark.skipif(not qifsim._qifsim.config_supported(), reason="built without TOML configs")
def test_the_example_config_runs(tmp_path):
    import pathlib
    example = pathlib.Path(__file__).resolve().parents[2] / "examples" / "poisson_network.toml"
    qifsim.run_config(str(example), out_dir=str(tmp_path / "out"), set=["steps=400"], progress="off")
    rec = qifsim.load_recording(str(tmp_path / "out"))
    ev = rec.spikes("qif")
    assert len(ev.steps) > 1000 and ev.steps.max() < 400  # the Poisson drive makes them fire
    assert rec["qif.v"].shape == (40, 3)


def test_a_rebuilt_engine_continues_the_noise():
    """A graph change after a run builds the engine again; the noise continues its steps (the
    second run does not draw the first run's numbers again)."""
    def net_after(extra):
        net = linear(30, 2.0)
        net.add_noise("li", 1.0, seed=9)
        net.run(np.zeros((50, 30)), record_output=False, verbose=False)
        if extra:
            net.add_func_node("out", 1)  # a change to the graph: the engine is built again
            net.add_edge("li", "out", np.ones((1, 30)))
            net.pop_edge("li", "out")
            net.pop_node("out")
        net.run(np.zeros((50, 30)), record_output=False, verbose=False)
        return net.get_var("li", "v")

    np.testing.assert_array_equal(net_after(True), net_after(False))
