"""qifsim: fast simulation of networks of quadratic integrate-and-fire (QIF) neurons.

A drop-in for RectiPy's ``Network`` and ``Observer`` on its QIF templates, computed by
qifsim's C++ engine (CPU, or CUDA where built and available), NumPy arrays in and out::

    import numpy as np
    from qifsim import Network, Observer

    net = Network(dt=1e-3)
    net.add_diffeq_node("qif", "neuron_model_templates.spiking_neurons.qif.qif",
                        weights=np.random.rand(5, 5) * 20.0, source_var="s", target_var="s_in",
                        input_var="I_ext", output_var="s", spike_var="spike", reset_var="v",
                        op="qif_op")
    obs = net.run(np.zeros((10000, 5)) + 15.0, record_vars=[("qif", "v", True)], verbose=False)
    v = obs.to_numpy(("qif", "v"))          # (10000,): neuron-averaged v at every step
"""

from . import _qifsim
from .errors import (BackendError, BusyError, DivergenceError, Error, GraphError, InvalidArgument, IoError,
                     MemoryBudgetError)
from .network import Network
from .observer import Observer
from .runs import IncompleteRecordingWarning, Recording, RunResult, load_recording, read_manifest, run_config
from .utility import (circular_connectivity, fixed_indegree, input_connections, line_connectivity, normalize,
                      random_connectivity, sparse_random, wta_score)

__version__ = _qifsim.__version__


def built_with_cuda() -> bool:
    """True when this build of qifsim contains the CUDA backend."""
    return _qifsim.built_with_cuda()


def cuda_device_status(device: int = 0):
    """``(usable, description)``: can ``device="cuda:N"`` run here, on what GPU, or why not."""
    return _qifsim.cuda_device_status(int(device))


def cuda_device_count() -> int:
    """How many GPUs ``device="cuda:N"`` can choose from (0 without CUDA, a driver or a GPU)."""
    return _qifsim.cuda_device_count()


def default_memory_budget() -> int:
    """Bytes a recording may take unless told otherwise (half the machine's memory)."""
    return _qifsim.default_memory_budget()


__all__ = ["Network", "Observer", "Error", "InvalidArgument", "GraphError", "MemoryBudgetError",
           "IoError", "BackendError", "BusyError", "DivergenceError", "built_with_cuda", "cuda_device_status", "cuda_device_count",
           "default_memory_budget", "run_config", "load_recording", "read_manifest", "Recording", "RunResult",
           "IncompleteRecordingWarning", "__version__"]
__all__ += ["fixed_indegree", "sparse_random", "random_connectivity", "input_connections", "circular_connectivity", "line_connectivity",
            "normalize", "wta_score"]
