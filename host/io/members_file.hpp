// host/io/members_file.hpp - members.csv: one row per member of a sweep, its swept values, its
// status and its sample count.
#pragma once

#include <cstdint>
#include <string>

#include "model/sample_schedule.hpp"
#include "qifsim/observer.hpp"
#include "qifsim/sweep.hpp"

namespace qifsim::detail {

/// Write `path` (atomically): a header `member,<key>,...,status,samples,reason`, then one row
/// per member with its values (numbers, or the .npy file names they came from), its status and
/// samples: the run's `status` and the `samples` the files hold, or, for a member that stopped
/// (Observer::member_stops), "diverged", the samples of the steps before its stop (`schedule`)
/// and why.
void write_members_csv(const std::string& path, const Sweep& sweep, const std::string& status, const Observer& obs,
                       std::int64_t samples, const SampleSchedule& schedule);

}  // namespace qifsim::detail
