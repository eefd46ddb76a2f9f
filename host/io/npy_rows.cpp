// host/io/npy_rows.cpp - rows of a .npy file read as they are needed (npy_rows.hpp).
#include "io/npy_rows.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "io/input_files.hpp"
#include "io/npy_header.hpp"
#include "qifsim/error.hpp"
#include "qifsim/npy.hpp"

namespace qifsim::detail {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw IoError("'" + path + "' is not a valid .npy file: " + what);
}

// n bytes at `offset` of `fd` into dst; false where the file ends first.
bool read_at(int fd, unsigned char* dst, std::size_t n, std::uint64_t offset) {
  while (n > 0) {
    const ssize_t got = ::pread(fd, dst, n, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    dst += got;
    n -= static_cast<std::size_t>(got);
    offset += static_cast<std::uint64_t>(got);
  }
  return true;
}

}  // namespace

NpyRowReader::NpyRowReader(const std::string& path) : path_(path) {
  std::uint64_t bytes = 0;
  file_ = open_regular_file(path, "a .npy file", 0, &bytes);
  const int fd = ::fileno(file_.get());
  const auto size = static_cast<std::size_t>(bytes);
  std::vector<unsigned char> head(std::min<std::size_t>(size, 12));
  if (!read_at(fd, head.data(), head.size(), 0)) fail(path, "cannot read the header");
  const std::size_t end = npy_header_end(head.data(), size, path);
  head.resize(end);
  if (!read_at(fd, head.data(), end, 0)) fail(path, "cannot read the header");
  NpyHeader h = parse_npy_header(head.data(), head.size(), path);
  if (h.fortran_order) fail(path, "the array is stored in Fortran order; save it in C order (numpy.ascontiguousarray)");
  item_ = npy_item_size(h.descr, path);
  descr_ = std::move(h.descr);
  shape_ = std::move(h.shape);
  data_offset_ = h.data_offset;
  const std::size_t count = npy_element_count(shape_, path);
  if (size - end != count * item_) {
    fail(path, std::string(size - end < count * item_ ? "truncated" : "trailing bytes") + ": shape " + shape_string(shape_) +
                   " of '" + descr_ + "' needs " + std::to_string(count * item_) + " data bytes, the file has " +
                   std::to_string(size - end));
  }
  if (shape_.size() == 2) {
    rows_ = shape_[0];
    cols_ = shape_[1];
  } else if (shape_.size() == 1) {
    rows_ = shape_[0];
    cols_ = 1;
  } else if (shape_.size() == 3) {  // steps x members x width: a row holds every member's
    rows_ = shape_[0];
    cols_ = shape_[1] * shape_[2];
  } else {
    rows_ = shape_.empty() ? 1 : 0;  // a 0-d array: one value; more dimensions: the caller refuses the shape
    cols_ = 1;
  }
}

void NpyRowReader::read(std::int64_t first, std::int64_t count, double* dst) const {
  if (first < 0 || count < 0 || first + count > rows_) {
    throw IoError("reading rows " + std::to_string(first) + " .. " + std::to_string(first + count - 1) + " of '" + path_ +
                  "', which has " + std::to_string(rows_));
  }
  read_values(static_cast<std::size_t>(first) * static_cast<std::size_t>(cols_),
              static_cast<std::size_t>(count) * static_cast<std::size_t>(cols_), dst);
}

void NpyRowReader::read_values(std::size_t first, std::size_t count, double* dst) const {
  raw_.resize(count * item_);
  if (!read_at(::fileno(file_.get()), raw_.data(), raw_.size(), data_offset_ + first * item_)) {
    throw IoError("reading '" + path_ + "' (values " + std::to_string(first) + " .. " + std::to_string(first + count - 1) +
                  "): the file ended early; was it changed since it was opened?");
  }
  npy_convert(descr_, raw_.data(), count, dst, path_, first);
}

}  // namespace qifsim::detail

namespace qifsim {

Matrix read_npy_rows(const std::string& path, std::int64_t lo, std::int64_t hi) {
  const detail::NpyRowReader reader(path);
  if (reader.shape().size() != 1 && reader.shape().size() != 2) {
    throw IoError("'" + path + "' holds an array of shape " + shape_string(reader.shape()) +
                  "; read_npy_rows reads a 1-d or 2-d array");
  }
  if (lo < 0 || lo > hi || hi > reader.rows()) {
    throw IoError("read_npy_rows: rows [" + std::to_string(lo) + ", " + std::to_string(hi) + ") of '" + path +
                  "', which has " + std::to_string(reader.rows()));
  }
  Matrix m(hi - lo, reader.cols());
  if (hi > lo) reader.read(lo, hi - lo, m.data.data());
  return m;
}

}  // namespace qifsim
