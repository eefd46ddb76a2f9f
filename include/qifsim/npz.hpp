// qifsim/npz.hpp - reading sparse matrices saved by scipy.sparse.save_npz, never dense.
//
//   qifsim::SparseMatrix J = qifsim::load_sparse_npz("J.npz");   // csr, csc or coo
//
// The archive (stored or deflate-compressed, as save_npz and numpy.savez write it) holds
// format.npy ('csr', 'csc' or 'coo', as bytes or unicode), shape.npy (2 int64/int32 values),
// data.npy (float64, float32, or any integer or bool type, converted to double) and the index
// arrays (int32 or int64): indices.npy and indptr.npy for csr and csc; row.npy and col.npy, or
// coords.npy (2 x nnz), for coo. Entries are read with SciPy's meaning: unsorted indices are
// sorted and duplicates summed. Other members (save_npz's `_is_array`) are ignored.
#pragma once

#include <cstddef>
#include <string>

#include "qifsim/sparse_matrix.hpp"

namespace qifsim {

/// Read the .npz file at `path`. A file that cannot be opened or read throws IoError; a file
/// whose contents are not a sparse matrix qifsim can use throws InvalidArgument, whose message
/// starts with "'<path>': " and names the fault: not a zip archive (or truncated), a corrupt or
/// missing member, another sparse format ('bsr', 'dia'), an unsupported dtype (complex, object,
/// big-endian), a wrong shape, index arrays that disagree or point outside the matrix, values
/// that are NaN or infinite, or a matrix that needs more memory than `memory_limit` bytes.
/// `memory_limit` bounds what the reader allocates, in bytes (a member's claimed size is checked
/// before it is decompressed, so a zip bomb costs nothing); 0 means default_memory_budget()
/// (half the machine's memory), at most 64 GiB. In a build without libzip, both functions
/// throw IoError saying so.
SparseMatrix load_sparse_npz(const std::string& path, std::size_t memory_limit = 0);

/// load_sparse_npz on `size` bytes of an .npz archive in memory; `name` stands for the file in
/// messages ("'<name>': ..."). Only InvalidArgument is thrown (in a libzip build).
SparseMatrix parse_sparse_npz(const void* data, std::size_t size, const std::string& name,
                              std::size_t memory_limit = 0);

}  // namespace qifsim
