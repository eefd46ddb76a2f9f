// host/io/members_file.hpp - members.csv: one row per member of a sweep, its swept values, its
// status and its sample count.
#pragma once

#include <cstdint>
#include <string>

#include "qifsim/sweep.hpp"

namespace qifsim::detail {

/// Write `path` (atomically): a header `member,<key>,...,status,samples`, then one row per
/// member with its values (numbers, or the .npy file names they came from), `status` and
/// `samples`.
void write_members_csv(const std::string& path, const Sweep& sweep, const std::string& status, std::int64_t samples);

}  // namespace qifsim::detail
