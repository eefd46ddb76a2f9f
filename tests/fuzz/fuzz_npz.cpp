// tests/fuzz/fuzz_npz.cpp - libFuzzer target: the .npz sparse-matrix reader on arbitrary bytes.
// Any input must give a valid SparseMatrix or a qifsim::InvalidArgument; crashes, leaks,
// undefined behaviour, other exceptions and allocations past libFuzzer's limit are findings.
//
// Two kinds of input, so that mutations reach past the zip layer's CRC checks:
//   - starting with "PK": the bytes of an archive, read as they are;
//   - otherwise members, separated by "@@npz@@\n", each "<name>\n<NPY bytes>": packed here
//     into a fresh, valid (stored) zip archive, then read.
#include <zip.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "qifsim/error.hpp"
#include "qifsim/npz.hpp"

namespace {

constexpr std::size_t kMemoryLimit = std::size_t{256} << 20;  // well under -malloc_limit_mb
const std::string kSeparator = "@@npz@@\n";

/// The members of a members-kind input: (name, bytes) pairs.
std::vector<std::pair<std::string, std::string>> split_members(const std::string& input) {
  std::vector<std::pair<std::string, std::string>> members;
  std::size_t at = 0;
  while (at <= input.size() && members.size() < 16) {
    std::size_t end = input.find(kSeparator, at);
    if (end == std::string::npos) end = input.size();
    const std::string chunk = input.substr(at, end - at);
    const std::size_t newline = chunk.find('\n');
    if (newline != std::string::npos && newline > 0) members.emplace_back(chunk.substr(0, newline), chunk.substr(newline + 1));
    at = end + kSeparator.size();
  }
  return members;
}

/// A stored zip archive holding `members` (libzip writes it into memory); empty on failure.
std::string pack(const std::vector<std::pair<std::string, std::string>>& members) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* buffer = zip_source_buffer_create(nullptr, 0, 0, &error);
  zip_error_fini(&error);
  if (!buffer) return {};
  zip_t* archive = zip_open_from_source(buffer, ZIP_TRUNCATE, nullptr);
  if (!archive) {
    zip_source_free(buffer);
    return {};
  }
  zip_source_keep(buffer);  // read back after zip_close
  for (const auto& [name, bytes] : members) {
    zip_source_t* source = zip_source_buffer(archive, bytes.data(), bytes.size(), 0);
    if (!source) continue;
    const zip_int64_t index = zip_file_add(archive, name.c_str(), source, ZIP_FL_OVERWRITE | ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      zip_source_free(source);
      continue;
    }
    zip_set_file_compression(archive, static_cast<zip_uint64_t>(index), ZIP_CM_STORE, 0);
  }
  std::string out;
  if (zip_close(archive) != 0) {
    zip_discard(archive);
  } else if (zip_source_open(buffer) == 0) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_source_stat(buffer, &st) == 0 && (st.valid & ZIP_STAT_SIZE)) {
      out.resize(static_cast<std::size_t>(st.size));
      if (zip_source_read(buffer, out.data(), st.size) != static_cast<zip_int64_t>(st.size)) out.clear();
    }
    zip_source_close(buffer);
  }
  zip_source_free(buffer);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string archive(reinterpret_cast<const char*>(data), size);
  if (archive.compare(0, 2, "PK") != 0) archive = pack(split_members(archive));
  qifsim::SparseMatrix m;
  try {
    m = qifsim::parse_sparse_npz(archive.data(), archive.size(), "fuzz.npz", kMemoryLimit);
  } catch (const qifsim::InvalidArgument&) {
    return 0;
  }
  try {
    m.validate("fuzz.npz");  // the reader's own contract: canonical CSR, finite values
  } catch (const qifsim::Error&) {
    __builtin_trap();
  }
  return 0;
}
