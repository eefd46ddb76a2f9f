// host/io/members_file.cpp - members.csv (io/members_file.hpp).
#include "io/members_file.hpp"

#include <algorithm>
#include <cstdio>

#include "io/output_files.hpp"

namespace qifsim::detail {

namespace {

// A CSV field: quoted where it holds a comma, a quote or a line break.
std::string field(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

void write_members_csv(const std::string& path, const Sweep& sweep, const std::string& status, const Observer& obs,
                       std::int64_t samples, const SampleSchedule& schedule) {
  const std::int64_t members = sweep.members();
  const std::vector<Observer::MemberStop>& stops = obs.member_stops();
  write_file_atomically(path, [&](std::FILE* f) {
    std::fputs("member", f);
    for (const SweepKey& k : sweep.keys) std::fprintf(f, ",%s", field(k.key).c_str());
    std::fputs(",status,samples,reason\n", f);
    for (std::int64_t b = 0; b < members; ++b) {
      std::fprintf(f, "%lld", static_cast<long long>(b));
      const std::vector<std::size_t> at = sweep.member_values(b);
      for (std::size_t k = 0; k < sweep.keys.size(); ++k) {
        std::fprintf(f, ",%s", field(sweep_value_text(sweep.keys[k].values[at[k]])).c_str());
      }
      const bool stopped = static_cast<std::size_t>(b) < stops.size() && stops[static_cast<std::size_t>(b)].step >= 0;
      std::fprintf(f, ",%s,%lld,%s\n", stopped ? "diverged" : status.c_str(),
                   static_cast<long long>(stopped ? std::min(samples, schedule.count(stops[static_cast<std::size_t>(b)].step))
                                                  : samples),
                   stopped ? field(stops[static_cast<std::size_t>(b)].reason).c_str() : "");
    }
  });
}

}  // namespace qifsim::detail
