"""What a second thread or a size one digit too long does to qifsim from Python: a Network
serves one thread at a time (BusyError, never a crash or a silently wrong result), run()
reads its inputs piece by piece and makes them read-only while it reads them, and sizes that
cannot fit are refused with the size named. Expected values come from a run of the same
network alone (the engine itself is checked against the NumPy reference elsewhere)."""
import threading

import numpy as np
import pytest

import qifsim
from qifsim import Network
from run_points import HeldAtFirstRead

QIF = "neuron_model_templates.spiking_neurons.qif.qif"
VARS = dict(source_var="s", target_var="s_in", input_var="I_ext", output_var="s", spike_var="spike",
            reset_var="v")


def network(n=6):
    net = Network(dt=1e-3)
    J = np.full((n, n), 0.3) - 0.2 * np.eye(n)
    net.add_diffeq_node("qif", QIF, weights=J, node_vars={"eta": np.linspace(-4.0, -2.0, n)}, **VARS)
    net.compile()
    return net


def inputs(steps, n=6):
    t = np.arange(steps)[:, None]
    return 12.0 + 4.0 * np.sin(0.003 * (t + 50 * np.arange(n)[None, :]))


def run(net, x, **kw):
    return net.run(x, record_vars=[("qif", "v", True)], sampling_steps=10, verbose=False, **kw)


class InProgress:
    """A run of `net` in another thread, held at its first read of the inputs while the
    block runs (the network is busy for all of it), then let go to its end."""

    def __init__(self, net, x):
        self.net, self.x = net, x if isinstance(x, HeldAtFirstRead) else HeldAtFirstRead(x)
        self.result, self.error = None, None
        self.thread = threading.Thread(target=self._go)

    def _go(self):
        try:
            self.result = run(self.net, self.x)
        except Exception as e:  # noqa: BLE001 - handed to the test
            self.error = e
        finally:
            self.x.release()  # a run that failed before reading its inputs holds nothing

    def __enter__(self):
        self.thread.start()
        self.x.wait_held()
        return self

    def __exit__(self, *exc):
        self.x.release()
        self.thread.join()
        return False


def test_a_second_thread_gets_busy_error_and_the_run_is_undisturbed():
    x = inputs(20000)
    alone = run(network(), x)
    net = network()
    with InProgress(net, x) as running:
        with pytest.raises(qifsim.BusyError, match="in use by another thread"):
            net.add_diffeq_node("late", QIF, N=3, **VARS)
        with pytest.raises(qifsim.BusyError):
            net.set_var("qif", "eta", 3.0)
        with pytest.raises(qifsim.BusyError):
            net.forward(np.zeros(6))
        with pytest.raises(qifsim.BusyError):
            run(net, x)
    assert running.error is None
    np.testing.assert_array_equal(running.result[("qif", "v")], alone[("qif", "v")])
    np.testing.assert_array_equal(running.result["out"], alone["out"])
    assert "late" not in net.nodes


def test_four_threads_running_one_network_never_mix_their_runs():
    x = inputs(100000)
    net = network()
    completed = []  # in completion order: runs cannot overlap, so that is the order they ran in
    refused = []

    def worker():
        try:
            completed.append(run(net, x))
        except qifsim.BusyError as e:
            refused.append(e)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(completed) + len(refused) == 4 and completed
    # The k-th completed run continues from the state the (k-1)-th left, as the same runs
    # made one after another by one thread do.
    fresh = network()
    for got in completed:
        want = run(fresh, x)
        np.testing.assert_array_equal(got[("qif", "v")], want[("qif", "v")])
        np.testing.assert_array_equal(got["out"], want["out"])
    for e in refused:
        assert "in use by another thread" in str(e)


def test_inputs_are_read_only_while_a_run_reads_them():
    x = HeldAtFirstRead(inputs(20000))
    alone = run(network(), np.asarray(x).copy())
    net = network()
    errors = []
    with InProgress(net, x) as running:
        try:
            x[:] = 0.0
        except ValueError as e:
            errors.append(e)
    assert errors and "read-only" in str(errors[0])
    assert x.flags.writeable  # given back after the run
    np.testing.assert_array_equal(running.result["out"], alone["out"])
    assert running.error is None


def test_any_numeric_dtype_and_layout_runs_as_float64_without_a_whole_copy():
    x = inputs(5000)
    alone = run(network(), x)
    fortran = np.asfortranarray(x)
    np.testing.assert_array_equal(run(network(), fortran)["out"], alone["out"])
    x32 = x.astype(np.float32)
    ref32 = run(network(), x32.astype(np.float64))
    np.testing.assert_array_equal(run(network(), x32)["out"], ref32["out"])
    with pytest.raises(qifsim.InvalidArgument, match="expected numbers"):
        run(network(), np.array([["a"] * 6] * 10))


def test_a_nan_in_the_inputs_is_refused_naming_the_row():
    x = inputs(300000)
    x[250000, 2] = np.nan
    net = network()
    obs = qifsim.Observer(net.dt, record_vars=[("qif", "v", True)], record_loss=False)
    with pytest.raises(qifsim.InvalidArgument, match=r"input \(250000, 2\) is not finite"):
        net.run(x, obs=obs, verbose=False)
    assert 0 < len(obs["out"]) <= 250000


def test_one_observer_is_recorded_into_by_one_run_at_a_time():
    x = inputs(600000)
    a, b = network(), network()
    obs = qifsim.Observer(a.dt, record_vars=[("qif", "v", True)], record_loss=False)
    errors = []

    def other():
        try:
            a.run(x, obs=obs, verbose=False)
        except qifsim.BusyError as e:
            errors.append(e)

    t = threading.Thread(target=other)
    t.start()
    try:
        b.run(x, obs=obs, verbose=False)
    except qifsim.BusyError as e:
        errors.append(e)
    t.join()
    if errors:
        assert "the observer" in str(errors[0])
        assert len(obs["out"]) == 600000  # one run, whole
    else:
        assert len(obs["out"]) == 1200000  # the runs did not overlap: one after the other


def test_a_population_that_cannot_fit_is_refused_at_compile():
    net = Network(dt=1e-3)
    net.add_diffeq_node("qif", QIF, weights=np.zeros((2 ** 31, 0)), **VARS)
    with pytest.raises(qifsim.MemoryBudgetError, match=r"population 'qif'.*2147483648 neurons"):
        net.compile()


def test_inputs_viewing_foreign_memory_stay_writable_after_a_run():
    # np.asarray of a torch tensor views memory NumPy does not own; a run must not leave it
    # read-only (NumPy refuses to make such a view writable again). A memoryview stands in.
    net = qifsim.Network(1e-3)
    net.add_diffeq_node("qif", "qif", N=2, source_var="s", target_var="s_in", input_var="I_ext", output_var="s",
                        spike_var="spike", reset_var="v")
    buf = bytearray(np.full((5, 2), 3.0).tobytes())
    x = np.frombuffer(buf, dtype=np.float64).reshape(5, 2)
    assert x.flags.writeable
    obs = net.run(x, verbose=False)
    assert obs["out"].shape == (5, 2) and x.flags.writeable
    x[0, 0] = 1.0
