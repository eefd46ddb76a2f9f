// tests/test_npz.cpp - load_sparse_npz / parse_sparse_npz (qifsim/npz.hpp) against SciPy.
//
// The fixtures in tests/data/npz/ were written by tests/data/npz/make_fixtures.py with
// scipy.sparse.save_npz; next to each valid one, `<case>.expected.npy` is SciPy's own
// load_npz(...).toarray() as float64, read here by the tests' independent NPY reader. Every
// malformed fixture must be refused with a message that starts with the file and names the fault.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <new>
#include <string>
#include <vector>

#include "io_test_util.hpp"
#include "npy_reader.hpp"
#include "qifsim/error.hpp"
#include "qifsim/npz.hpp"

namespace {

using iotest::contains_all;

std::string fixture(const std::string& name) { return std::string(QIFSIM_NPZ_DIR) + "/" + name; }

/// `loaded`, made dense, equals SciPy's dense matrix in `<case>.expected.npy` value for value.
::testing::AssertionResult equals_scipy(const qifsim::SparseMatrix& loaded, const std::string& c) {
  const qtest::NpyArray want = qtest::read_npy(fixture(c + ".expected.npy"));
  if (want.fortran_order || want.descr != "<f8") {
    return ::testing::AssertionFailure() << c << ": the expected matrix is not float64 in C order";
  }
  if (want.shape.size() != 2 || want.shape[0] != loaded.rows || want.shape[1] != loaded.cols) {
    return ::testing::AssertionFailure() << c << ": shape (" << loaded.rows << ", " << loaded.cols
                                         << ") differs from SciPy's";
  }
  const qifsim::Matrix got = loaded.to_dense();
  for (std::int64_t r = 0; r < loaded.rows; ++r) {
    for (std::int64_t k = 0; k < loaded.cols; ++k) {
      const double expected = want.f8[static_cast<std::size_t>(r * loaded.cols + k)];
      if (got(r, k) != expected) {
        return ::testing::AssertionFailure() << c << ": (" << r << ", " << k << ") is " << got(r, k)
                                             << ", SciPy has " << expected;
      }
    }
  }
  return ::testing::AssertionSuccess();
}

const std::vector<std::string> kValid = {
    "csr_compressed",       "csr_stored",          "csc_compressed",          "csc_stored",
    "coo_compressed",       "coo_stored",          "csr_int64_indices",       "csc_int64_indices",
    "coo_int64_indices",    "csr_unsorted_duplicates", "csc_unsorted_duplicates", "coo_unsorted_duplicates",
    "csr_float32",          "coo_int64_data",      "csc_int8_data",           "csr_explicit_zeros",
    "csr_empty",            "csr_array",           "coo_array",               "coo_coords",
    "csr_unicode_format",   "coo_coords_fortran",  "csr_bool_data",           "coo_uint16_data",
};

/// A malformed fixture and the parts its message must hold besides the file.
struct Bad {
  std::string file;
  std::vector<std::string> fault;
};

const std::vector<Bad> kMalformed = {
    {"bad_truncated.npz", {"not a readable zip archive", "truncated"}},
    {"bad_text.npz", {"not a readable zip archive"}},
    {"bad_bsr.npz", {"sparse format 'bsr' is not supported"}},
    {"bad_dia.npz", {"sparse format 'dia' is not supported"}},
    {"bad_complex.npz", {"'data.npy'", "complex", "'<c16'"}},
    {"bad_object.npz", {"'data.npy'", "Python objects"}},
    {"bad_big_endian.npz", {"'data.npy'", "big-endian", "'>f8'"}},
    {"bad_data_2d.npz", {"'data.npy'", "(1, 3)", "1-d"}},
    {"bad_indptr_decreasing.npz", {"indptr decreases at 2"}},
    {"bad_indptr_length.npz", {"indptr has 3 entries", "expected 4"}},
    {"bad_index_range.npz", {"column index 3", "out of range [0, 3)"}},
    {"bad_index_dtype.npz", {"'indices.npy'", "'<f8'", "int32"}},
    {"bad_coo_row_range.npz", {"(2, 1)", "outside the (2, 2) matrix"}},
    {"bad_nan.npz", {"value 1 is", "nan", "finite"}},
    {"bad_inf.npz", {"value 2 is", "inf", "finite"}},
    {"bad_shape_3d.npz", {"'shape.npy'", "(3,)", "2-d"}},
    {"bad_shape_negative.npz", {"shape (-3, 3)", "negative"}},
    {"bad_shape_float.npz", {"'shape.npy'", "'<f8'"}},
    {"bad_missing_indptr.npz", {"'indptr.npy'", "missing"}},
    {"bad_missing_format.npz", {"'format.npy'", "missing"}},
    {"bad_format_name.npz", {"unknown sparse format 'xyz'"}},
    {"bad_lying_size.npz", {"'data.npy'", "claims 2147418112 bytes", "zip bomb"}},
    {"bad_crc.npz", {"'data.npy'", "corrupt", "CRC"}},
};

#if QIFSIM_TEST_LIBZIP

TEST(Npz, ReadsWhatScipyWrote) {
  for (const std::string& c : kValid) {
    SCOPED_TRACE(c);
    const qifsim::SparseMatrix m = qifsim::load_sparse_npz(fixture(c + ".npz"));
    EXPECT_NO_THROW(m.validate());  // canonical: columns sorted and distinct per row
    EXPECT_TRUE(equals_scipy(m, c));
  }
}

TEST(Npz, MemoryBufferReadsAsTheFile) {
  for (const std::string& c : kValid) {
    SCOPED_TRACE(c);
    const std::string bytes = iotest::read_text(fixture(c + ".npz"));
    const qifsim::SparseMatrix m = qifsim::parse_sparse_npz(bytes.data(), bytes.size(), c + ".npz");
    EXPECT_TRUE(equals_scipy(m, c));
  }
}

TEST(Npz, DuplicatesSummedAndExplicitZerosKept) {
  // csr_unsorted_duplicates: rows [3, 0, 3], [], [1, 2, 2], [0]: columns 3 and 2 repeat once each.
  const qifsim::SparseMatrix dup = qifsim::load_sparse_npz(fixture("csr_unsorted_duplicates.npz"));
  EXPECT_EQ(dup.nnz(), 5);
  // csr_explicit_zeros stores 3 values, two of them 0 (SciPy keeps them: nnz == 3).
  EXPECT_EQ(qifsim::load_sparse_npz(fixture("csr_explicit_zeros.npz")).nnz(), 3);
}

TEST(Npz, RefusesMalformedFilesNamingTheFault) {
  for (const Bad& bad : kMalformed) {
    SCOPED_TRACE(bad.file);
    const std::string path = fixture(bad.file);
    try {
      qifsim::load_sparse_npz(path);
      ADD_FAILURE() << bad.file << " was accepted";
    } catch (const qifsim::InvalidArgument& e) {
      const std::string msg = e.what();
      EXPECT_EQ(msg.rfind("'" + path + "': ", 0), 0u) << msg;
      EXPECT_TRUE(contains_all(msg, bad.fault));
    }
    // The same bytes from memory: the same fault, under the given name.
    const std::string bytes = iotest::read_text(path);
    try {
      qifsim::parse_sparse_npz(bytes.data(), bytes.size(), bad.file);
      ADD_FAILURE() << bad.file << " was accepted from memory";
    } catch (const qifsim::InvalidArgument& e) {
      EXPECT_EQ(std::string(e.what()).rfind("'" + bad.file + "': ", 0), 0u) << e.what();
      EXPECT_TRUE(contains_all(e.what(), bad.fault));
    }
  }
}

TEST(Npz, MemoryLimitRefusesBeforeAllocating) {
  // A million rows, no entries: 4 MB of indptr compressed to a few kB (SciPy's csr_matrix((1e6, 1))).
  const std::string path = fixture("csr_tall_empty.npz");
  const qifsim::SparseMatrix m = qifsim::load_sparse_npz(path);
  EXPECT_EQ(m.rows, 1000000);
  EXPECT_EQ(m.cols, 1);
  EXPECT_EQ(m.nnz(), 0);
  try {
    qifsim::load_sparse_npz(path, std::size_t{1} << 20);
    ADD_FAILURE() << "a 4 MB member was read under a 1 MiB limit";
  } catch (const qifsim::InvalidArgument& e) {
    EXPECT_TRUE(contains_all(e.what(), {"'" + path + "': ", "'indptr.npy'", "memory limit of 1.000 MiB"}));
  }
  // The matrix itself (24 bytes per row for the CSR and its temporaries) under a limit that
  // lets every member through: refused by size, naming the shape.
  try {
    qifsim::load_sparse_npz(path, std::size_t{20} << 20);
    ADD_FAILURE() << "a 1e6-row matrix was built under a 20 MiB limit";
  } catch (const qifsim::InvalidArgument& e) {
    EXPECT_TRUE(contains_all(e.what(), {"(1000000, 1) matrix", "memory limit"}));
  }
}

// 2e6 duplicates of one entry of a 5 x 5 matrix in a 40 kB archive: the entries are counted
// against the memory before any member is read, under the caller's limit and under RLIMIT_AS.
TEST(Npz, EntriesAreCountedBeforeTheyAreRead) {
  const std::string path = fixture("coo_many_duplicates.npz");
  const qifsim::SparseMatrix m = qifsim::load_sparse_npz(path);
  EXPECT_EQ(m.to_dense()(0, 1), 2e6 * 0.5);  // summed, as SciPy sums them
  try {
    qifsim::load_sparse_npz(path, std::size_t{64} << 20);
    ADD_FAILURE() << "2e6 entries (120 MB to read) were read under a 64 MiB limit";
  } catch (const qifsim::InvalidArgument& e) {
    EXPECT_TRUE(contains_all(e.what(), {"'" + path + "': ", "2000000 stored entries", "(5, 5) matrix",
                                        "duplicates included", "memory limit of 64.000 MiB"}))
        << e.what();
  }
#ifndef QIFSIM_TEST_ASAN  // the sanitizer reserves terabytes of address space for itself
  // The default limit under an address-space limit of 64 MiB beyond what is mapped now: a
  // message naming the entries, not std::bad_alloc.
  const auto under_a_limit = [&path] {
    std::ifstream statm("/proc/self/statm");
    std::uint64_t pages = 0;
    statm >> pages;
    const std::uint64_t cap = pages * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE)) + (std::uint64_t{64} << 20);
    struct rlimit limit {cap, cap};
    if (setrlimit(RLIMIT_AS, &limit) != 0) std::_Exit(90);
    try {
      qifsim::load_sparse_npz(path);
    } catch (const qifsim::InvalidArgument& e) {
      std::_Exit(contains_all(e.what(), {"2000000 stored entries", "memory limit"}) ? 0 : 2);
    } catch (const std::bad_alloc&) {
      std::_Exit(3);
    }
    std::_Exit(1);
  };
  EXPECT_EXIT(under_a_limit(), ::testing::ExitedWithCode(0), "")
      << "1: read, 2: another message, 3: std::bad_alloc";
#endif
}

TEST(Npz, EmptyMissingAndNonRegularFiles) {
  iotest::ScratchDir dir;
  iotest::write_text(dir / "empty.npz", "");
  try {
    qifsim::load_sparse_npz(dir / "empty.npz");
    ADD_FAILURE() << "an empty file was accepted";
  } catch (const qifsim::InvalidArgument& e) {
    EXPECT_TRUE(contains_all(e.what(), {"'" + (dir / "empty.npz") + "': ", "empty"}));
  }
  EXPECT_THROW(qifsim::parse_sparse_npz(nullptr, 0, "nothing.npz"), qifsim::InvalidArgument);
  try {
    qifsim::load_sparse_npz(dir / "missing.npz");
    ADD_FAILURE() << "a missing file was accepted";
  } catch (const qifsim::IoError& e) {
    EXPECT_TRUE(contains_all(e.what(), {dir / "missing.npz"}));
  }
  EXPECT_THROW(qifsim::load_sparse_npz(dir.str()), qifsim::IoError);  // a folder
}

#else  // built without libzip

TEST(Npz, SaysItWasNotBuilt) {
  try {
    qifsim::load_sparse_npz(fixture("csr_compressed.npz"));
    ADD_FAILURE() << "read without libzip";
  } catch (const qifsim::IoError& e) {
    EXPECT_TRUE(contains_all(e.what(), {"csr_compressed.npz", "without libzip"}));
  }
}

#endif

}  // namespace
