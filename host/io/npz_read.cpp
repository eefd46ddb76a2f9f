// host/io/npz_read.cpp - sparse matrices saved by scipy.sparse.save_npz (qifsim/npz.hpp).
//
// Three layers: the zip archive (libzip; every member's claimed size is checked against the
// archive and the memory limit before it is decompressed), the NPY members inside it (headers
// parsed by io/npy_header.hpp, the data converted to int64 indices or double values), and the
// sparse matrix (SparseMatrix's factories check and canonicalise it as SciPy does). Every fault
// is an InvalidArgument that starts with "'<file>': ".
#include "qifsim/npz.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "qifsim/error.hpp"
#include "qifsim/npy.hpp"
#include "qifsim/observer.hpp"
#include "core/memory_check.hpp"
#include "core/text.hpp"
#include "io/input_files.hpp"
#include "io/npy_header.hpp"
#include "io/zip_reader.hpp"


namespace qifsim {

#if QIFSIM_HAVE_LIBZIP
namespace {

using namespace detail::zip_reader;  // NOLINT(google-build-using-namespace): this file is its one user

/// `text` with anything but printable ASCII written as \xNN, at most 40 characters of it.
std::string printable(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < 40; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\x%02x", c);
      out += esc;
    }
  }
  return text.size() > 40 ? out + "..." : out;
}

// ---- NPY members --------------------------------------------------------------------------

/// An NPY member: its header and its bytes (the data starts at header.data_offset).
struct Npy {
  std::string name;
  detail::NpyHeader header;
  std::vector<unsigned char> bytes;
  std::size_t count = 0;  ///< number of elements

  const unsigned char* data() const { return bytes.data() + header.data_offset; }
};

/// What an NPY dtype string is: byte order, kind letter and item size ("<f8": '<', 'f', 8).
struct Dtype {
  char order = 0;
  char kind = 0;
  std::size_t size = 0;
};

/// Split `descr`; false when it is not of the form <order><kind><digits>.
bool split_dtype(const std::string& descr, Dtype& t) {
  if (descr.size() < 3 || descr.size() > 12 || std::string("<>|=").find(descr[0]) == std::string::npos) return false;
  t.order = descr[0];
  t.kind = descr[1];
  t.size = 0;
  for (std::size_t i = 2; i < descr.size(); ++i) {
    if (descr[i] < '0' || descr[i] > '9') return false;
    t.size = t.size * 10 + static_cast<std::size_t>(descr[i] - '0');
  }
  return t.size > 0;
}

/// Refuse big-endian and native-order ('=') dtypes, which NumPy never writes on little-endian
/// machines; one-byte types are written with '|'.
void require_little_endian(const Npy& a, const Dtype& t, const std::string& path) {
  if (t.order == '>') {
    fault(path, "member " + quoted(a.name) + " has big-endian dtype '" + a.header.descr +
                    "'; save it little-endian (e.g. matrix.data = matrix.data.astype('<f8'))");
  }
  if (t.order == '=') fault(path, "member " + quoted(a.name) + " has dtype '" + a.header.descr + "' of unknown byte order");
}

/// Parse the NPY `name` held in `bytes`: its header, its element count, and that the data bytes
/// present are exactly count * `item` (item 0: taken from the dtype).
Npy parse_npy(std::string name, std::vector<unsigned char> bytes, const std::string& path) {
  Npy a;
  a.name = std::move(name);
  a.bytes = std::move(bytes);
  try {
    a.header = detail::parse_npy_header(a.bytes.data(), a.bytes.size(), a.name);
    a.count = detail::npy_element_count(a.header.shape, a.name);
  } catch (const IoError& e) {
    fault(path, e.what());
  }
  return a;
}

/// Check that `a` holds exactly count elements of `item` bytes after its header.
void require_data_bytes(const Npy& a, std::size_t item, const std::string& path) {
  const std::size_t have = a.bytes.size() - a.header.data_offset;
  const std::size_t need = a.count * item;  // count <= 2^60, item <= 16 after the dtype checks
  if (have != need) {
    fault(path, "member " + quoted(a.name) + " is " + (have < need ? "truncated" : "followed by trailing bytes") +
                    ": shape " + shape_string(a.header.shape) + " of '" + a.header.descr + "' needs " +
                    std::to_string(need) + " data bytes, it has " + std::to_string(have));
  }
}

template <class T>
T load(const unsigned char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

/// The integers of an index member (int32 or int64, as SciPy writes them), in storage order.
std::vector<std::int64_t> index_values(const Npy& a, const std::string& path, MemoryLimit& memory) {
  Dtype t;
  if (!split_dtype(a.header.descr, t) || t.kind != 'i' || (t.size != 4 && t.size != 8)) {
    fault(path, "member " + quoted(a.name) + " has dtype '" + printable(a.header.descr) +
                    "'; expected integers: int32 ('<i4') or int64 ('<i8'), as SciPy writes them");
  }
  require_little_endian(a, t, path);
  require_data_bytes(a, t.size, path);
  memory.charge(8.0 * static_cast<double>(a.count), "the indices of member " + quoted(a.name));
  std::vector<std::int64_t> out(a.count);
  for (std::size_t k = 0; k < a.count; ++k) {
    const unsigned char* p = a.data() + k * t.size;
    out[k] = t.size == 4 ? load<std::int32_t>(p) : load<std::int64_t>(p);
  }
  return out;
}

/// The integers of an int32 index member as they are (false, nothing read, for another dtype).
bool index_values32(const Npy& a, const std::string& path, MemoryLimit& memory, std::vector<std::int32_t>& out) {
  Dtype t;
  if (!split_dtype(a.header.descr, t) || t.kind != 'i' || t.size != 4) return false;
  require_little_endian(a, t, path);
  require_data_bytes(a, t.size, path);
  memory.charge(4.0 * static_cast<double>(a.count), "the indices of member " + quoted(a.name));
  out.resize(a.count);
  if (a.count > 0) std::memcpy(out.data(), a.data(), a.count * sizeof(std::int32_t));
  return true;
}

/// One stored value of dtype `t` as a double; false when it has no exact double (an integer
/// beyond 2^53).
bool value_at(const unsigned char* p, const Dtype& t, double& out) {
  if (t.kind == 'f') {
    out = t.size == 8 ? load<double>(p) : static_cast<double>(load<float>(p));
    return true;
  }
  if (t.kind == 'b') {
    out = *p != 0 ? 1.0 : 0.0;
    return true;
  }
  if (t.kind == 'i') {
    const std::int64_t v = t.size == 1   ? load<std::int8_t>(p)
                           : t.size == 2 ? load<std::int16_t>(p)
                           : t.size == 4 ? load<std::int32_t>(p)
                                         : load<std::int64_t>(p);
    out = static_cast<double>(v);
    return std::fabs(out) <= 9007199254740992.0;
  }
  const std::uint64_t v = t.size == 1   ? load<std::uint8_t>(p)
                          : t.size == 2 ? load<std::uint16_t>(p)
                          : t.size == 4 ? load<std::uint32_t>(p)
                                        : load<std::uint64_t>(p);
  out = static_cast<double>(v);
  return v <= (std::uint64_t{1} << 53);
}

/// Check a value dtype: real numbers that convert to double (float64/32, integers, bool).
void check_value_dtype(const Npy& a, const Dtype& t, bool split, const std::string& path) {
  const std::string descr = printable(a.header.descr);
  const std::string wanted = "; qifsim reads real values: float64, float32, integers or bool";
  if (!split) fault(path, "member " + quoted(a.name) + " has unsupported dtype '" + descr + "'" + wanted);
  require_little_endian(a, t, path);
  if (t.kind == 'c') fault(path, "member " + quoted(a.name) + " holds complex values (dtype '" + descr + "')" + wanted);
  const bool ok = (t.kind == 'f' && (t.size == 4 || t.size == 8)) || (t.kind == 'b' && t.size == 1) ||
                  ((t.kind == 'i' || t.kind == 'u') && (t.size == 1 || t.size == 2 || t.size == 4 || t.size == 8));
  if (!ok) fault(path, "member " + quoted(a.name) + " has unsupported dtype '" + descr + "'" + wanted);
}

/// The values of data.npy as doubles.
std::vector<double> stored_values(const Npy& a, const std::string& path, MemoryLimit& memory) {
  Dtype t;
  const bool split = split_dtype(a.header.descr, t);
  if (a.header.descr == "|O") {
    fault(path, "member " + quoted(a.name) + " holds Python objects (dtype '|O'); qifsim reads real values");
  }
  check_value_dtype(a, t, split, path);
  if (a.header.shape.size() != 1) {
    fault(path, "member " + quoted(a.name) + " has shape " + shape_string(a.header.shape) + "; expected a 1-d array");
  }
  require_data_bytes(a, t.size, path);
  memory.charge(8.0 * static_cast<double>(a.count), "the values of member " + quoted(a.name));
  std::vector<double> out(a.count);
  for (std::size_t k = 0; k < a.count; ++k) {
    if (!value_at(a.data() + k * t.size, t, out[k])) {
      fault(path, "member " + quoted(a.name) + ": value " + std::to_string(k) + " of dtype '" + a.header.descr +
                      "' cannot be represented exactly as a double");
    }
  }
  return out;
}

// ---- the sparse matrix --------------------------------------------------------------------

/// The reader's state: the open archive and the memory charged so far.
struct Reader {
  Zip zip;
  MemoryLimit memory;
};

/// Member `name` parsed as an NPY; a missing member is an error naming what it is for.
Npy member(Reader& r, const std::string& name, const std::string& purpose, std::uint64_t cap = 0) {
  std::optional<std::vector<unsigned char>> bytes = read_member(r.zip, name, r.memory, cap);
  if (!bytes) fault(r.zip.path, "member " + quoted(name) + " (" + purpose + ") is missing; is this a file of scipy.sparse.save_npz?");
  return parse_npy(name, std::move(*bytes), r.zip.path);
}

/// A 0-d or 1-element text member: '|S<n>' bytes or '<U<n>' UTF-32 (files of SciPy < 1.0).
std::string text_value(const Npy& a, const std::string& path) {
  Dtype t;
  const bool ok = split_dtype(a.header.descr, t) &&
                  ((t.kind == 'S' && t.order == '|') || (t.kind == 'U' && t.order == '<'));
  if (!ok || a.count != 1 || t.size > 64) {
    fault(path, "member " + quoted(a.name) + " should hold the format name as one string; it holds dtype '" +
                    printable(a.header.descr) + "' of shape " + shape_string(a.header.shape));
  }
  const std::size_t item = t.kind == 'S' ? t.size : 4 * t.size;
  require_data_bytes(a, item, path);
  std::string text;
  for (std::size_t i = 0; i < t.size; ++i) {
    const std::uint32_t c = t.kind == 'S' ? a.data()[i] : load<std::uint32_t>(a.data() + 4 * i);
    if (c == 0) break;  // NumPy pads with NULs
    text += c < 0x80 ? static_cast<char>(c) : '?';
  }
  return text;
}

/// format.npy: "csr", "csc" or "coo"; other SciPy formats and unknown names are refused.
std::string read_format(Reader& r) {
  const std::string format = text_value(member(r, "format.npy", "the sparse format", kSmallMemberMax), r.zip.path);
  if (format == "csr" || format == "csc" || format == "coo") return format;
  if (format == "bsr" || format == "dia" || format == "lil" || format == "dok") {
    fault(r.zip.path, "sparse format '" + format + "' is not supported; save the matrix as csr, csc or coo "
                      "(scipy.sparse.save_npz(path, matrix.tocsr()))");
  }
  fault(r.zip.path, "member 'format.npy' names an unknown sparse format '" + printable(format) + "'; expected 'csr', 'csc' or 'coo'");
}

/// shape.npy: two non-negative int64 or int32 values that fit SparseMatrix (< 2^31 each).
std::pair<std::int64_t, std::int64_t> read_shape(Reader& r) {
  const Npy a = member(r, "shape.npy", "the matrix shape", kSmallMemberMax);
  const std::string& path = r.zip.path;
  if (a.header.shape.size() != 1 || a.count != 2) {
    fault(path, "member 'shape.npy' holds shape " + shape_string(a.header.shape) +
                    "; expected 2 values (rows, columns) of a 2-d matrix");
  }
  const std::vector<std::int64_t> dims = index_values(a, path, r.memory);
  const std::string shown = "(" + std::to_string(dims[0]) + ", " + std::to_string(dims[1]) + ")";
  if (dims[0] < 0 || dims[1] < 0) fault(path, "shape " + shown + " in 'shape.npy' is negative");
  if (dims[0] > std::numeric_limits<std::int32_t>::max() || dims[1] > std::numeric_limits<std::int32_t>::max()) {
    fault(path, "shape " + shown + " has more than 2^31 - 1 rows or columns");
  }
  return {dims[0], dims[1]};
}

/// The int64 values of an index member, which must be 1-d; its bytes are freed at once.
std::vector<std::int64_t> read_index_member(Reader& r, const std::string& name, const std::string& purpose) {
  const Npy a = member(r, name, purpose);
  if (a.header.shape.size() != 1) {
    fault(r.zip.path, "member " + quoted(name) + " has shape " + shape_string(a.header.shape) + "; expected a 1-d array");
  }
  std::vector<std::int64_t> out = index_values(a, r.zip.path, r.memory);
  r.memory.refund(a.bytes.size());
  return out;
}

std::vector<double> read_values(Reader& r) {
  const Npy a = member(r, "data.npy", "the stored values");
  std::vector<double> out = stored_values(a, r.zip.path, r.memory);
  r.memory.refund(a.bytes.size());
  return out;
}

/// coords.npy (2 x nnz, the COO layout of newer SciPy): its two rows.
std::pair<std::vector<std::int64_t>, std::vector<std::int64_t>> read_coords(Reader& r) {
  const Npy a = member(r, "coords.npy", "the coordinates");
  const auto& s = a.header.shape;
  if (s.size() != 2 || s[0] != 2) {
    fault(r.zip.path, "member 'coords.npy' has shape " + shape_string(s) + "; a 2-d COO matrix has shape (2, nnz)");
  }
  const std::vector<std::int64_t> all = index_values(a, r.zip.path, r.memory);
  r.memory.refund(a.bytes.size());
  const auto n = static_cast<std::size_t>(s[1]);
  r.memory.charge(16.0 * static_cast<double>(n), "the coordinates of member 'coords.npy'");
  std::vector<std::int64_t> row(n), col(n);
  for (std::size_t k = 0; k < n; ++k) {
    // C order: all rows, then all columns; Fortran order: (row, column) pairs.
    row[k] = a.header.fortran_order ? all[2 * k] : all[k];
    col[k] = a.header.fortran_order ? all[2 * k + 1] : all[n + k];
  }
  return {std::move(row), std::move(col)};
}

/// The element count of NPY member `name` read from its header alone (the member's first
/// bytes), or -1 where the archive has no such member.
std::int64_t peek_count(const Zip& zip, const std::string& name) {
  const zip_int64_t index = zip_name_locate(zip.archive.get(), name.c_str(), 0);
  if (index < 0) return -1;
  const zip_stat_t st = member_stat(zip, index, name);
  MemberFile file(zip_fopen_index(zip.archive.get(), static_cast<zip_uint64_t>(index), 0));
  if (!file) fault(zip.path, "cannot open member " + quoted(name) + " (" + zip_strerror(zip.archive.get()) + ")");
  std::vector<unsigned char> head(static_cast<std::size_t>(std::min<std::uint64_t>(st.size, kSmallMemberMax)));
  std::size_t done = 0;
  while (done < head.size()) {
    const zip_int64_t got = zip_fread(file.get(), head.data() + done, head.size() - done);
    if (got < 0) fault(zip.path, "member " + quoted(name) + " is corrupt (" + zip_file_strerror(file.get()) + ")");
    if (got == 0) break;
    done += static_cast<std::size_t>(got);
  }
  try {
    const detail::NpyHeader header = detail::parse_npy_header(head.data(), done, name);
    return static_cast<std::int64_t>(detail::npy_element_count(header.shape, name));
  } catch (const IoError& e) {
    fault(zip.path, e.what());
  }
}

/// Count the stored entries (data.npy's header) against the memory before any member is read:
/// a small archive of many duplicate entries (deflate packs them 1000-fold) is refused naming
/// them, not read until the memory runs out. What reading takes at its peak: the index and
/// value arrays as int64/double (24 bytes an entry), the factory's result and temporaries
/// (28, charge_factory) and the member being read (8); the row pointers are charged as read.
void require_entries_fit(Reader& r, std::int64_t rows, std::int64_t cols) {
  const std::int64_t nnz = peek_count(r.zip, "data.npy");
  if (nnz < 0) return;  // missing: read_values says so
  const double entries = static_cast<double>(nnz);
  const double need = (24.0 + 28.0 + 8.0) * entries;
  const std::string what = "its " + std::to_string(nnz) + " stored entries for a (" + std::to_string(rows) + ", " +
                           std::to_string(cols) + ") matrix" +
                           (entries > static_cast<double>(rows) * static_cast<double>(cols) ? " (duplicates included)" : "");
  r.memory.charge(need, what);
  r.memory.refund(static_cast<std::uint64_t>(need));
}

/// Charge what a SparseMatrix factory allocates for `nnz` entries of a rows x cols matrix: its
/// result and its temporaries (bounded by 3 row-pointer arrays and 28 bytes per entry).
void charge_factory(Reader& r, std::int64_t rows, std::int64_t cols, std::size_t nnz) {
  const double bytes = 24.0 * static_cast<double>(rows + 1) + 28.0 * static_cast<double>(nnz);
  r.memory.charge(bytes, "the (" + std::to_string(rows) + ", " + std::to_string(cols) + ") matrix with " +
                             std::to_string(nnz) + " stored values");
}

SparseMatrix read_coo(Reader& r, std::int64_t rows, std::int64_t cols) {
  const std::string what = "'" + r.zip.path + "'";
  const bool has_coords = zip_name_locate(r.zip.archive.get(), "coords.npy", 0) >= 0;
  std::vector<std::int64_t> row, col;
  if (has_coords) {
    std::tie(row, col) = read_coords(r);
  } else {
    row = read_index_member(r, "row.npy", "the row of each value");
    col = read_index_member(r, "col.npy", "the column of each value");
  }
  const std::vector<double> values = read_values(r);
  charge_factory(r, rows, cols, values.size());
  return SparseMatrix::from_coo(rows, cols, row, col, values, what);
}

SparseMatrix read_compressed(Reader& r, const std::string& format, std::int64_t rows, std::int64_t cols) {
  const std::string what = "'" + r.zip.path + "'";
  if (format == "csr") {  // int32 columns (as SciPy writes them): read once and taken over, no copy
    std::vector<std::int64_t> indptr = read_index_member(r, "indptr.npy", "the index pointers");
    std::vector<std::int32_t> indices;
    {
      const Npy a = member(r, "indices.npy", "the index of each value");
      if (a.header.shape.size() != 1) {
        fault(r.zip.path, "member " + quoted("indices.npy") + " has shape " + shape_string(a.header.shape) +
                              "; expected a 1-d array");
      }
      if (index_values32(a, r.zip.path, r.memory, indices)) {
        r.memory.refund(a.bytes.size());
      } else {
        const std::vector<std::int64_t> wide = index_values(a, r.zip.path, r.memory);
        r.memory.refund(a.bytes.size());
        std::vector<double> values = read_values(r);
        charge_factory(r, rows, cols, values.size());
        return SparseMatrix::from_csr(rows, cols, indptr, wide, values, what);
      }
    }
    std::vector<double> values = read_values(r);
    charge_factory(r, rows, cols, values.size());
    return SparseMatrix::from_csr(rows, cols, std::move(indptr), std::move(indices), std::move(values), what);
  }
  const std::vector<std::int64_t> indptr = read_index_member(r, "indptr.npy", "the index pointers");
  const std::vector<std::int64_t> indices = read_index_member(r, "indices.npy", "the index of each value");
  const std::vector<double> values = read_values(r);
  charge_factory(r, rows, cols, values.size());
  return format == "csr" ? SparseMatrix::from_csr(rows, cols, indptr, indices, values, what)
                         : SparseMatrix::from_csc(rows, cols, indptr, indices, values, what);
}

/// Read the sparse matrix from the archive behind `source` (taken over) of `bytes` bytes.
SparseMatrix read_archive(zip_source_t* source, std::uint64_t bytes, const std::string& path, std::size_t memory_limit) {
  Reader r{Zip{open_archive(source, path), bytes, path}, MemoryLimit(effective_limit(memory_limit), path)};
  const std::string format = read_format(r);
  const auto [rows, cols] = read_shape(r);
  require_entries_fit(r, rows, cols);
  return format == "coo" ? read_coo(r, rows, cols) : read_compressed(r, format, rows, cols);
}

void require_little_endian_host(const std::string& path) {
  const std::uint16_t one = 1;
  unsigned char first = 0;
  std::memcpy(&first, &one, 1);
  if (first != 1) fault(path, "big-endian hosts are not supported");
}

}  // namespace

SparseMatrix parse_sparse_npz(const void* data, std::size_t size, const std::string& name, std::size_t memory_limit) {
  require_little_endian_host(name);
  if (size == 0) fault(name, "the file is empty; save_npz writes a zip archive");
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(data, size, 0, &error);
  if (!source) {
    const std::string why = zip_error_strerror(&error);
    zip_error_fini(&error);
    fault(name, "cannot read the archive (" + why + ")");
  }
  zip_error_fini(&error);
  return read_archive(source, size, name, memory_limit);
}

SparseMatrix load_sparse_npz(const std::string& path, std::size_t memory_limit) {
  require_little_endian_host(path);
  std::uint64_t bytes = 0;
  detail::OutputFile file = detail::open_regular_file(path, "an .npz file", 0, &bytes);
  if (bytes == 0) fault(path, "the file is empty; save_npz writes a zip archive");
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_filep_create(file.get(), 0, 0, &error);  // 0: to the end
  if (!source) {
    const std::string why = zip_error_strerror(&error);
    zip_error_fini(&error);
    throw IoError("cannot read '" + path + "': " + why);
  }
  zip_error_fini(&error);
  static_cast<void>(file.release());  // the source closes it now
  return read_archive(source, bytes, path, memory_limit);
}

#else  // !QIFSIM_HAVE_LIBZIP

namespace {
[[noreturn]] void not_built(const std::string& path) {
  throw IoError("cannot read '" + path + "': this qifsim was built without libzip, so it reads no .npz files "
                "(install libzip-dev and rebuild)");
}
}  // namespace

SparseMatrix parse_sparse_npz(const void*, std::size_t, const std::string& name, std::size_t) { not_built(name); }
SparseMatrix load_sparse_npz(const std::string& path, std::size_t) { not_built(path); }

#endif

}  // namespace qifsim
