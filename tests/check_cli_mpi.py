#!/usr/bin/env python3
"""`mpirun -np R qifsim run CONFIG` against `qifsim run CONFIG` in one process.

The network split over R ranks writes the same files, byte for byte (.npy) and value for
value (HDF5), as one process in `reproducible` mode; rank 0 alone speaks and writes; a config
error is said once. Run by ctest (tests/CMakeLists.txt) with the mpirun it found:

    check_cli_mpi.py --cli build/cli/qifsim --mpirun /usr/bin/mpirun --examples examples
"""
import argparse
import filecmp
import json
import os
import subprocess
import sys
import tempfile
import unittest

import h5py
import numpy as np

ARGS = None


def run(cmd, cwd):
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=240)


class CliOverRanks(unittest.TestCase):
    def one_and_split(self, example, sets, ranks):
        """Run `example` in one process and over `ranks` ranks; returns the two folders."""
        tmp = tempfile.mkdtemp(prefix="cli_mpi_")
        config = os.path.join(ARGS.examples, example)
        common = ["run", config, "-f", "npy", "-f", "hdf5"] + sum((["-s", s] for s in sets), [])
        one = run([ARGS.cli] + common + ["-o", "one", "-s", "reproducible=true", "-q"], tmp)
        self.assertEqual(one.returncode, 0, one.stderr)
        split = run([ARGS.mpirun, "-np", str(ranks), ARGS.cli] + common + ["-o", "split"], tmp)
        self.assertEqual(split.returncode, 0, split.stdout + split.stderr)
        # One summary, from rank 0, with the line that says how the neurons are split.
        self.assertEqual(split.stdout.count("ranks    %d ranks" % ranks), 1, split.stdout)
        self.assertEqual(split.stdout.count("done     "), 1, split.stdout)
        return os.path.join(tmp, "one"), os.path.join(tmp, "split")

    def assert_same_recording(self, one, split):
        npy = sorted(f for f in os.listdir(one) if f.endswith(".npy"))
        self.assertTrue(npy)
        self.assertEqual(npy, sorted(f for f in os.listdir(split) if f.endswith(".npy")))
        for f in npy:
            self.assertTrue(filecmp.cmp(os.path.join(one, f), os.path.join(split, f), shallow=False), f)
        with h5py.File(os.path.join(one, "recording.h5")) as a, h5py.File(os.path.join(split, "recording.h5")) as b:
            names = []
            a.visit(lambda n: names.append(n) if isinstance(a[n], h5py.Dataset) else None)
            self.assertTrue(names)
            for n in names:
                np.testing.assert_array_equal(a[n][()], b[n][()], err_msg=n)
        with open(os.path.join(split, "manifest.json")) as m:
            self.assertEqual(json.load(m)["status"], "complete")

    def test_sparse_events_noise_and_poisson_input_on_two_and_three_ranks(self):
        # 10 000 neurons, events over a fixed in-degree J, Poisson input, noise, spike events.
        for ranks in (2, 3):
            one, split = self.one_and_split("poisson_network.toml", ["steps=600"], ranks)
            self.assert_same_recording(one, split)
            self.assertGreater(np.load(os.path.join(one, "qif.spikes.npy")).shape[0], 0)

    def test_all_to_all_mean_field_example_on_two_ranks(self):
        one, split = self.one_and_split("mean_field.toml", ["duration=4.0"], 2)
        self.assert_same_recording(one, split)

    def test_a_config_error_is_said_once(self):
        tmp = tempfile.mkdtemp(prefix="cli_mpi_")
        bad = os.path.join(tmp, "bad.toml")
        with open(bad, "w") as f:
            f.write('dt = 1e-3\nsteps = 10\n[[population]]\nname = "qif"\nn = 10\netaa = 1.0\n')
        r = run([ARGS.mpirun, "-np", "2", ARGS.cli, "run", bad], tmp)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertEqual(r.stderr.count("config error"), 1, r.stderr)
        self.assertIn("etaa", r.stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--cli", required=True)
    parser.add_argument("--mpirun", required=True)
    parser.add_argument("--examples", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest)
