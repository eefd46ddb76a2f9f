#!/usr/bin/env python3
"""Write the .npz fixtures of tests/test_npz.cpp (run from anywhere; needs numpy and scipy).

Valid cases are written by scipy.sparse.save_npz (or, for layouts SciPy reads but its current
save_npz no longer writes, by numpy.savez with SciPy's member names); next to each, the
expected matrix `<case>.expected.npy` is SciPy's own reading of the file,
scipy.sparse.load_npz(<case>.npz).toarray(), as float64. The reader under test is never
the reference.

Malformed cases (`bad_*.npz`) each carry one fault the reader must name. The seeds of the
fuzz target (tests/fuzz/seeds/npz) are written here too.

    python3 tests/data/npz/make_fixtures.py
"""
import io
import os
import struct
import zipfile

import numpy as np
import scipy
import scipy.sparse as sp

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


def expect(case):
    """Write <case>.expected.npy from SciPy's reading of <case>.npz."""
    dense = sp.load_npz(path(case + ".npz")).toarray()
    # C order: toarray() of a csc matrix is Fortran-ordered, which the tests' reader does not take.
    np.save(path(case + ".expected.npy"), np.ascontiguousarray(dense, dtype=np.float64))


def save(case, matrix, compressed=True):
    sp.save_npz(path(case + ".npz"), matrix, compressed=compressed)
    expect(case)


def savez(case, compressed=True, **arrays):
    """An archive with exactly these members (SciPy's names), bypassing save_npz."""
    (np.savez_compressed if compressed else np.savez)(path(case + ".npz"), **arrays)


def random_matrix(rng, rows, cols, density, fmt):
    m = sp.random(rows, cols, density=density, format=fmt, rng=rng)
    m.data = np.round(m.data * 8.0 - 4.0, 3)
    return m


def valid_cases(rng):
    save("csr_compressed", random_matrix(rng, 5, 7, 0.4, "csr"))
    save("csr_stored", random_matrix(rng, 6, 4, 0.5, "csr"), compressed=False)
    save("csc_compressed", random_matrix(rng, 7, 5, 0.4, "csc"))
    save("csc_stored", random_matrix(rng, 3, 8, 0.5, "csc"), compressed=False)
    save("coo_compressed", random_matrix(rng, 6, 6, 0.3, "coo"))
    save("coo_stored", random_matrix(rng, 4, 9, 0.3, "coo"), compressed=False)

    # int64 index arrays (what SciPy uses past 2^31 entries).
    m = random_matrix(rng, 5, 6, 0.5, "csr")
    m.indices = m.indices.astype(np.int64)
    m.indptr = m.indptr.astype(np.int64)
    save("csr_int64_indices", m)
    m = random_matrix(rng, 6, 5, 0.5, "csc")
    m.indices = m.indices.astype(np.int64)
    m.indptr = m.indptr.astype(np.int64)
    save("csc_int64_indices", m, compressed=False)
    m = random_matrix(rng, 5, 5, 0.5, "coo")
    m.coords = (m.row.astype(np.int64), m.col.astype(np.int64))
    save("coo_int64_indices", m)

    # Unsorted indices and duplicates, saved as given (SciPy sums duplicates when reading).
    data = np.array([1.5, -2.0, 0.25, 4.0, 3.0, -1.0, 7.0])
    indices = np.array([3, 0, 3, 1, 2, 2, 0], dtype=np.int32)
    indptr = np.array([0, 3, 3, 6, 7], dtype=np.int32)
    csr = sp.csr_matrix((data, indices, indptr), shape=(4, 5))
    assert not csr.has_sorted_indices
    save("csr_unsorted_duplicates", csr)
    save("csc_unsorted_duplicates", sp.csc_matrix((data, indices, indptr), shape=(5, 4)))
    save("coo_unsorted_duplicates",
         sp.coo_matrix(([1.0, 2.0, 3.0, -4.0, 0.5], ([2, 0, 2, 1, 0], [1, 3, 1, 0, 3])), shape=(3, 4)),
         compressed=False)

    # Other value types: float32, int64, int8; explicit stored zeros; an empty matrix.
    m = random_matrix(rng, 4, 6, 0.5, "csr")
    m.data = (m.data / 3.0).astype(np.float32)
    save("csr_float32", m)
    save("coo_int64_data", sp.coo_matrix((np.array([5, -3, 9], dtype=np.int64), ([0, 1, 2], [2, 0, 1])), shape=(3, 3)))
    save("csc_int8_data", sp.csc_matrix(np.array([[0, -7, 0], [3, 0, 127]], dtype=np.int8)), compressed=False)
    save("csr_bool_data", sp.csr_matrix(np.array([[True, False, True], [False, False, True]])))
    save("coo_uint16_data", sp.coo_matrix(np.array([[0, 65535], [7, 0]], dtype=np.uint16)), compressed=False)
    save("csr_explicit_zeros", sp.csr_matrix(([0.0, 2.0, 0.0], [0, 1, 2], [0, 2, 3]), shape=(2, 3)))
    save("csr_empty", sp.csr_matrix((3, 4)))

    # Sparse arrays (save_npz adds an `_is_array` member).
    save("csr_array", sp.csr_array(random_matrix(rng, 4, 4, 0.5, "csr")))
    save("coo_array", sp.coo_array(random_matrix(rng, 3, 5, 0.5, "coo")), compressed=False)

    # Layouts SciPy reads but its save_npz of today does not write: a 2-d COO under `coords`
    # (load_npz's other branch; save_npz's TODO says it will switch to it), a unicode
    # format string (files of SciPy < 1.0) and an int32 shape (NumPy's default int on Windows).
    savez("coo_coords", format=np.array(b"coo"), shape=np.array([3, 4]),
          data=np.array([1.0, -2.0, 3.5, 4.0]),
          coords=np.array([[0, 2, 1, 2], [3, 0, 1, 0]], dtype=np.int64))
    expect("coo_coords")
    savez("coo_coords_fortran", compressed=False, format=np.array(b"coo"), shape=np.array([2, 3]),
          data=np.array([2.0, -1.0, 0.5]),
          coords=np.asfortranarray(np.array([[1, 0, 1], [2, 2, 0]], dtype=np.int32)))
    expect("coo_coords_fortran")
    savez("csr_unicode_format", compressed=False, format=np.array("csr"), shape=np.array([2, 3], dtype=np.int32),
          data=np.array([1.0, 2.0, 3.0]), indices=np.array([2, 0, 1], dtype=np.int32),
          indptr=np.array([0, 1, 3], dtype=np.int32))
    expect("csr_unicode_format")

    # A million rows and no entries: 4 MB of indptr in a few kB (the memory-limit test).
    # (no .expected.npy: it would be 8 MB; the test checks the shape and that nothing is stored).
    sp.save_npz(path("csr_tall_empty.npz"), sp.csr_matrix((1_000_000, 1)))
    many_duplicates()


def many_duplicates():
    # A 5 x 5 COO matrix stored as 2e6 duplicates of one entry: 40 MB of members deflated to
    # about 60 kB (the entry-count test; SciPy sums them to 1e6 at (0, 1)).
    n = 2_000_000
    m = sp.coo_matrix((np.full(n, 0.5), (np.zeros(n, np.int32), np.ones(n, np.int32))), shape=(5, 5))
    sp.save_npz(path("coo_many_duplicates.npz"), m)


def malformed_cases():
    good = io.BytesIO()
    sp.save_npz(good, sp.csr_matrix(np.eye(4)), compressed=True)
    raw = good.getvalue()
    with open(path("bad_truncated.npz"), "wb") as f:
        f.write(raw[: len(raw) // 2])
    with open(path("bad_text.npz"), "w") as f:
        f.write("this is a text file, not a zip archive\n")
    sp.save_npz(path("bad_bsr.npz"), sp.bsr_matrix(np.eye(4), blocksize=(2, 2)))
    sp.save_npz(path("bad_dia.npz"), sp.dia_matrix(np.eye(3)))
    sp.save_npz(path("bad_complex.npz"), sp.csr_matrix(np.array([[1 + 2j, 0], [0, 3]])))
    ok = dict(format=np.array(b"csr"), shape=np.array([3, 3]), data=np.array([1.0, 2.0, 3.0]),
              indices=np.array([0, 1, 2], dtype=np.int32), indptr=np.array([0, 1, 2, 3], dtype=np.int32))

    def variant(case, **changes):
        arrays = dict(ok)
        arrays.update(changes)
        savez(case, **{k: v for k, v in arrays.items() if v is not None})

    variant("bad_indptr_decreasing", indptr=np.array([0, 2, 1, 3], dtype=np.int32))
    variant("bad_indptr_length", indptr=np.array([0, 1, 3], dtype=np.int32))
    variant("bad_index_range", indices=np.array([0, 3, 2], dtype=np.int32))
    variant("bad_nan", data=np.array([1.0, np.nan, 3.0]))
    variant("bad_inf", data=np.array([1.0, 2.0, -np.inf]))
    variant("bad_shape_3d", shape=np.array([3, 3, 1]))
    variant("bad_shape_negative", shape=np.array([-3, 3]))
    variant("bad_shape_float", shape=np.array([3.0, 3.0]))
    variant("bad_missing_indptr", indptr=None)
    variant("bad_missing_format", format=None)
    variant("bad_format_name", format=np.array(b"xyz"))
    variant("bad_big_endian", data=np.array([1.0, 2.0, 3.0], dtype=">f8"))
    variant("bad_index_dtype", indices=np.array([0.0, 1.0, 2.0]))
    variant("bad_data_2d", data=np.array([[1.0, 2.0, 3.0]]))
    savez("bad_coo_row_range", format=np.array(b"coo"), shape=np.array([2, 2]), data=np.array([1.0, 2.0]),
          row=np.array([0, 2], dtype=np.int32), col=np.array([1, 1], dtype=np.int32))
    variant("bad_object", data=np.array([1.0, None, 3.0], dtype=object))
    lying_size()
    corrupt_crc(ok)


def lying_size():
    """A member whose directory entries claim 2 GiB uncompressed from a few compressed bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, arr in (("format.npy", np.array(b"csr")), ("shape.npy", np.array([1, 1])),
                          ("data.npy", np.array([1.0])), ("indices.npy", np.array([0], dtype=np.int32)),
                          ("indptr.npy", np.array([0, 1], dtype=np.int32))):
            member = io.BytesIO()
            np.save(member, arr)
            z.writestr(name, member.getvalue())
    raw = bytearray(buf.getvalue())
    claimed = struct.pack("<I", 0x7FFF0000)
    # Local header (offset 22) and central directory entry (offset 24) of data.npy.
    local = raw.find(b"PK\x03\x04")
    for _ in range(2):  # skip format.npy and shape.npy
        local = raw.find(b"PK\x03\x04", local + 4)
    raw[local + 22:local + 26] = claimed
    central = raw.find(b"PK\x01\x02")
    for _ in range(2):
        central = raw.find(b"PK\x01\x02", central + 4)
    raw[central + 24:central + 28] = claimed
    with open(path("bad_lying_size.npz"), "wb") as f:
        f.write(raw)


def corrupt_crc(ok):
    """A stored archive with one byte of data.npy's values changed (its CRC no longer matches)."""
    buf = io.BytesIO()
    np.savez(buf, **ok)
    raw = bytearray(buf.getvalue())
    at = raw.find(struct.pack("<d", 2.0))
    raw[at + 7] ^= 0x01
    with open(path("bad_crc.npz"), "wb") as f:
        f.write(raw)


def fuzz_seeds():
    """Seeds of tests/fuzz/fuzz_npz.cpp in tests/fuzz/seeds/npz: a few small valid archives, and
    the members-kind inputs it packs into archives itself ("<name>\\n<NPY bytes>" chunks
    joined by "@@npz@@\\n")."""
    seeds = os.path.join(HERE, "..", "..", "fuzz", "seeds", "npz")
    os.makedirs(seeds, exist_ok=True)
    for name in os.listdir(seeds):
        os.remove(os.path.join(seeds, name))
    for case in ("csr_stored", "csc_compressed", "coo_stored", "coo_coords", "csr_unicode_format", "csr_array"):
        with open(path(case + ".npz"), "rb") as src, open(os.path.join(seeds, case + ".npz"), "wb") as dst:
            dst.write(src.read())

    def npy(arr):
        member = io.BytesIO()
        np.save(member, arr)
        return member.getvalue()

    def members(name, **arrays):
        chunks = [k.encode() + b".npy\n" + npy(v) for k, v in arrays.items()]
        with open(os.path.join(seeds, name), "wb") as f:
            f.write(b"@@npz@@\n".join(chunks))

    members("members_csr.bin", format=np.array(b"csr"), shape=np.array([3, 4]),
            data=np.array([1.0, -2.0, 3.0, 4.0]), indices=np.array([3, 0, 1, 1], dtype=np.int32),
            indptr=np.array([0, 2, 2, 4], dtype=np.int32))
    members("members_csc_i8.bin", format=np.array("csc"), shape=np.array([2, 3], dtype=np.int32),
            data=np.array([5, -1, 7], dtype=np.int16), indices=np.array([1, 0, 1], dtype=np.int64),
            indptr=np.array([0, 1, 1, 3], dtype=np.int64))
    members("members_coo.bin", format=np.array(b"coo"), shape=np.array([3, 3]),
            data=np.array([1.5, 2.5, 0.5], dtype=np.float32), row=np.array([2, 0, 2], dtype=np.int32),
            col=np.array([1, 1, 1], dtype=np.int32))
    members("members_coords.bin", format=np.array(b"coo"), shape=np.array([2, 2]),
            data=np.array([True, True]), coords=np.asfortranarray(np.array([[0, 1], [1, 0]], dtype=np.int64)))


def main():
    for name in os.listdir(HERE):
        if name.endswith(".npz") or name.endswith(".npy"):
            os.remove(path(name))
    valid_cases(np.random.default_rng(20261127))
    malformed_cases()
    fuzz_seeds()
    print(f"fixtures written by scipy {scipy.__version__}, numpy {np.__version__} into {HERE}")


if __name__ == "__main__":
    main()
