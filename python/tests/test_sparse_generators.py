"""Sparse connectivity from Python: ``qifsim.fixed_indegree`` and ``qifsim.sparse_random`` return
SciPy CSR matrices with the stated structure (k distinct partners per row and no autapses;
density p), drawn as the config's generators draw them (a network built from them records what
the config's records, bit for bit), and ``random_connectivity`` refuses a dense matrix over the
memory budget, naming them."""
import numpy as np
import pytest
import scipy.sparse

import qifsim
from qifsim import Network

QIF = "neuron_model_templates.spiking_neurons.qif.qif"


def test_fixed_indegree_has_k_distinct_partners_per_row():
    n, k = 3000, 40
    J = qifsim.fixed_indegree(n, n, k, values={"kind": "uniform", "low": 0.5, "high": 1.5}, seed=3)
    assert isinstance(J, scipy.sparse.csr_matrix) and J.shape == (n, n) and J.dtype == np.float64
    assert np.all(np.diff(J.indptr) == k)
    for i in range(0, n, 97):
        cols = J.indices[J.indptr[i]:J.indptr[i + 1]]
        assert len(set(cols)) == k and i not in cols
    assert 0.5 <= J.data.min() and J.data.max() < 1.5
    assert abs(J.data.mean() - 1.0) < 5 * np.sqrt(1.0 / 12.0 / J.nnz)
    # every column used about k times (uniform partners): within 5 standard deviations
    usage = np.bincount(J.indices, minlength=n)
    assert abs(usage.mean() - k) < 1e-9 and usage.std() < 1.5 * np.sqrt(k)
    again = qifsim.fixed_indegree(n, n, k, values={"kind": "uniform", "low": 0.5, "high": 1.5}, seed=3)
    assert (J != again).nnz == 0
    assert not np.array_equal(J.indices, qifsim.fixed_indegree(n, n, k, seed=4).indices)


def test_sparse_random_has_density_p():
    J = qifsim.sparse_random(2000, 1500, 0.01, values={"kind": "normal", "mean": 0.0, "std": 2.0}, seed=5)
    expected = 0.01 * 2000 * 1500
    assert abs(J.nnz - expected) < 5 * np.sqrt(expected)
    assert abs(J.data.std() - 2.0) < 0.1
    J.check_format(full_check=True)


CONFIG = """
dt = 1e-3
steps = 1000
[[population]]
name = "qif"
n = 500
eta = 40.0
weights = %s
[input]
value = 60.0
[record]
output = false
vars = [["qif", "v", false]]
formats = ["npy"]
"""


@pytest.mark.skipif(not qifsim._qifsim.config_supported(), reason="built without TOML configs")
@pytest.mark.parametrize("generator", ["fixed_indegree", "sparse_random"])
def test_the_same_matrices_as_the_config(tmp_path, generator):
    if generator == "fixed_indegree":
        spec = '{ kind = "fixed_indegree", k = 25, values = { kind = "uniform", low = 0.0, high = 0.8 }, seed = 9 }'
        J = qifsim.fixed_indegree(500, 500, 25, values={"kind": "uniform", "low": 0.0, "high": 0.8}, seed=9)
    else:
        spec = '{ kind = "sparse", p = 0.05, values = 0.4, seed = 9 }'
        J = qifsim.sparse_random(500, 500, 0.05, values=0.4, seed=9)
    (tmp_path / "net.toml").write_text(CONFIG % spec)
    qifsim.run_config(str(tmp_path / "net.toml"), out_dir=str(tmp_path / "out"), progress="off")
    from_config = qifsim.load_recording(str(tmp_path / "out"))["qif.v"]
    net = Network(dt=1e-3)
    net.add_diffeq_node("qif", QIF, weights=J, op="qif_op", source_var="s", target_var="s_in", input_var="I_ext",
                        output_var="s", spike_var="spike", reset_var="v", node_vars={"eta": 40.0})
    obs = net.run(np.full((1000, 500), 60.0), record_output=False, record_vars=[("qif", "v", False)], verbose=False)
    assert np.count_nonzero(from_config >= 100.0) > 100  # spikes, so the coupling mattered
    np.testing.assert_array_equal(obs[("qif", "v")], from_config)


def test_random_connectivity_refuses_a_dense_matrix_over_the_budget():
    with pytest.raises(qifsim.MemoryBudgetError, match=r"qifsim.fixed_indegree\(100000, 100000, k=100\)"):
        qifsim.random_connectivity(100_000, 100_000, 0.001)
    with pytest.raises(qifsim.InvalidArgument, match="autapses=False needs a square matrix"):
        qifsim.fixed_indegree(10, 20, 3, autapses=False)
    with pytest.raises(qifsim.InvalidArgument, match="values of kind 'normal' take mean, std"):
        qifsim.sparse_random(10, 10, 0.1, values={"kind": "normal", "mean": 0.0})


def test_the_readme_example_runs(tmp_path):
    import pathlib
    import subprocess
    import sys
    script = pathlib.Path(__file__).resolve().parents[1] / "examples" / "sparse_network.py"
    out = subprocess.run([sys.executable, str(script), str(tmp_path / "net.png")], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert "8000 steps of 100000 neurons" in out.stdout and (tmp_path / "net.png").stat().st_size > 10_000
