"""Config runs from Python: killed with SIGINT and SIGKILL at seeded random points of the run
(a number of samples on disk, not a time), their folders read with qifsim.load_recording
(which checks the manifest), resumed with qifsim.run_config(resume=...), and compared with an
uninterrupted run bit for bit."""
import os
import random
import signal
import subprocess
import sys
import warnings

import numpy as np
import pytest

import qifsim
from run_progress import signal_when_written

pytestmark = pytest.mark.skipif(not qifsim._qifsim.config_supported(), reason="built without TOML configs")

CONFIG = """
dt = 1e-3
steps = 1500000
[[function]]
name = "drive"
size = 1
[[population]]
name = "qif"
n = 64
weights = { kind = "uniform", low = 0.0, high = 0.3, seed = 3 }
eta = { kind = "lorentzian", center = -5.0, width = 1.0 }
[[edge]]
source = "drive"
target = "qif"
weights = { kind = "all_to_all", value = 1.0 }
[input]
value = 12.0
[record]
output = false
vars = [["qif", "v", true], ["qif", "s", true]]
sampling_steps = 20
cutoff = 5
formats = ["npy"]
checkpoint_seconds = 0.2
flush_seconds = 0.05
"""

SAMPLES = len(range(20, 1500000, 20))

# A user's script as run from a terminal: SIGINT is Python's (not ignored as in a background job).
CHILD = """
import signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)
import qifsim
try:
    qifsim.run_config(sys.argv[1], out_dir=sys.argv[2], progress="off")
except KeyboardInterrupt as e:
    print(e, file=sys.stderr)
    sys.exit(130)
"""


@pytest.fixture(scope="module")
def whole(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("whole")
    config = tmp / "run.toml"
    config.write_text(CONFIG)
    r = qifsim.run_config(str(config), out_dir=str(tmp / "whole"), progress="off")
    assert r.complete and r.first_step == 0
    assert r.samples == SAMPLES == qifsim.load_recording(str(tmp / "whole")).samples
    return config, str(tmp / "whole")


def same(a, b):
    for key in ["qif.v", "qif.s", "steps", "time"]:
        assert np.array_equal(a[key] if key not in ("steps", "time") else getattr(a, key),
                              b[key] if key not in ("steps", "time") else getattr(b, key)), key


@pytest.mark.parametrize("sig,seed", [(signal.SIGINT, 1), (signal.SIGKILL, 2), (signal.SIGKILL, 3)])
def test_killed_runs_resume_to_the_uninterrupted_recording(whole, tmp_path, sig, seed):
    config, whole_dir = whole
    rng = random.Random(seed)
    folder = str(tmp_path / "part")
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(config), folder], stderr=subprocess.PIPE, text=True)
    signal_when_written(child, folder, int(rng.uniform(0.1, 0.6) * SAMPLES), sig)
    _, err = child.communicate(timeout=120)
    assert child.returncode != 0, "the run ended before the signal"
    manifest = qifsim.read_manifest(folder)
    if sig == signal.SIGINT:
        assert child.returncode == 130, err
        assert "run_config(resume=" in err
        assert manifest["status"] == "interrupted"
    else:
        assert child.returncode == -signal.SIGKILL
        assert manifest["status"] == "running"
    # The files load, with a warning that the run is not complete, and hold what the manifest says.
    with pytest.warns(qifsim.IncompleteRecordingWarning, match="stopped|killed"):
        partial = qifsim.load_recording(folder)
    assert partial.samples >= manifest["samples"]
    with pytest.raises(RuntimeError, match="stopped|killed"):
        qifsim.load_recording(folder, strict=True)
    if not os.path.exists(os.path.join(folder, "qifsim.ckpt")):
        with pytest.raises(qifsim.InvalidArgument, match="no checkpoint"):
            qifsim.run_config(resume=folder)
        return
    r = qifsim.run_config(resume=folder, progress="off")
    assert r.complete and r.first_step > 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        done = qifsim.load_recording(folder, strict=True)
    assert done.complete
    same(done, qifsim.load_recording(whole_dir))


def test_a_resume_with_another_config_is_refused_naming_the_change(whole, tmp_path):
    config, _ = whole
    folder = str(tmp_path / "part")
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(config), folder], stderr=subprocess.PIPE, text=True)
    signal_when_written(child, folder, SAMPLES // 10, signal.SIGINT)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 130, err
    with pytest.raises(qifsim.InvalidArgument, match=r"population\[0\]\.k: 1 -> 1\.5"):
        qifsim.run_config(resume=folder, set=["population.0.k=1.5"])
    r = qifsim.run_config(resume=folder, set=["population.0.k=1.5"], allow_changes=True, progress="off")
    assert r.changes == ["population[0].k: 1 -> 1.5"]
    assert qifsim.read_manifest(folder)["changes"] == r.changes


def test_a_folder_without_a_manifest_is_read_with_a_warning(tmp_path):
    np.save(tmp_path / "out.npy", np.zeros((3, 2)))
    np.save(tmp_path / "steps.npy", np.arange(3))
    np.save(tmp_path / "time.npy", np.arange(3) * 1e-3)
    with pytest.warns(qifsim.IncompleteRecordingWarning, match="no manifest"):
        rec = qifsim.load_recording(str(tmp_path))
    assert rec["out"].shape == (3, 2)


def test_a_fifo_at_the_manifest_is_refused_not_waited_on(tmp_path, whole):
    """read_manifest, load_recording and run_config refuse a FIFO planted at manifest.json by
    name instead of blocking on it (an alarm turns a hang into this test's failure)."""
    config, _ = whole
    out = tmp_path / "out"
    out.mkdir()
    os.mkfifo(out / "manifest.json")

    def hung(signum, frame):
        raise TimeoutError("waited on the FIFO")

    before = signal.signal(signal.SIGALRM, hung)
    signal.alarm(30)
    try:
        with pytest.raises(qifsim.IoError, match="manifest.json.*FIFO"):
            qifsim.read_manifest(str(out))
        with pytest.raises(qifsim.IoError, match="manifest.json.*FIFO"):
            qifsim.load_recording(str(out))
        with pytest.raises(qifsim.IoError, match="manifest.json.*FIFO"):
            qifsim.run_config(str(config), out_dir=str(out), set=["steps=100"], progress="off")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, before)


def test_a_missing_folder_is_named_without_a_warning_first(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(FileNotFoundError, match="no such folder; give the output folder"):
            qifsim.load_recording(str(tmp_path / "nope"))
        (tmp_path / "file.npy").write_bytes(b"")
        with pytest.raises(NotADirectoryError, match="not a folder"):
            qifsim.load_recording(str(tmp_path / "file.npy"))


def test_a_resume_refuses_an_hdf5_recording_whose_rows_were_replaced(tmp_path):
    # The checkpoint keeps a digest of each dataset's rows: an edited value is refused before
    # the run continues, naming the file and dataset, and the manifest stays as it was.
    h5py = pytest.importorskip("h5py")
    config = tmp_path / "run.toml"
    config.write_text(CONFIG.replace('formats = ["npy"]', 'formats = ["hdf5"]').replace("steps = 1500000", "steps = 100"))
    try:
        qifsim.run_config(str(config), out_dir=str(tmp_path / "probe"), progress="off")
    except qifsim.InvalidArgument as e:
        if "no HDF5 support" in str(e):
            pytest.skip("this qifsim build writes no HDF5")
        raise
    config.write_text(CONFIG.replace('formats = ["npy"]', 'formats = ["npy", "hdf5"]'))  # npy: the progress
    folder = str(tmp_path / "part")
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(config), folder], stderr=subprocess.PIPE, text=True)
    signal_when_written(child, folder, SAMPLES // 20, signal.SIGINT)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 130, err
    manifest = os.path.join(folder, "manifest.json")
    with open(manifest) as f:
        before = f.read()
    with h5py.File(os.path.join(folder, "recording.h5"), "r+") as f:
        f["qif.v"][0] = f["qif.v"][0] + 1.0
    with pytest.raises(qifsim.IoError, match=r"recording\.h5', dataset 'qif\.v'.* not the ones this run recorded"):
        qifsim.run_config(resume=folder, progress="off")
    with open(manifest) as f:
        assert f.read() == before
