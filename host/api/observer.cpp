// host/api/observer.cpp - host storage of recordings: batches in, arrays and files out.
#include "qifsim/observer.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <limits>
#include <memory>
#include <sstream>

#include "io/binary_io.hpp"
#include "model/reduction.hpp"
#include "model/sample_schedule.hpp"
#include "io/npy_writer.hpp"
#include "io/output_files.hpp"
#include "qifsim/error.hpp"
#include "core/text.hpp"

namespace qifsim {

std::size_t default_memory_budget() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0) return std::size_t{8} << 30;  // 8 GiB when unknown
  return static_cast<std::size_t>(pages) * static_cast<std::size_t>(page_size) / 2;
}

std::int64_t sample_count(std::int64_t steps, std::int64_t sampling_steps, std::int64_t cutoff) {
  if (sampling_steps < 1) throw InvalidArgument("sample_count: sampling_steps must be >= 1");
  return detail::SampleSchedule{sampling_steps, cutoff}.count(steps);
}

Observer::Observer(double dt, bool record_output, bool record_loss, std::vector<RecordVar> record_vars)
    : Observer(dt, RecordSpec{record_output, record_loss, std::move(record_vars)}) {}

Observer::Observer(double dt, RecordSpec spec)
    : dt_(dt), spec_(std::move(spec)), budget_(default_memory_budget()) {
  if (!(dt > 0.0)) throw InvalidArgument("Observer: dt = " + std::to_string(dt) + " must be > 0");
  if (spec_.members < 1) {
    throw InvalidArgument("Observer: members = " + std::to_string(spec_.members) + " must be >= 1");
  }
  const std::int64_t b = spec_.members;
  if (b > 1) stops_.assign(static_cast<std::size_t>(b), {});
  if (spec_.output) series_.push_back({"out", -1, {}});
  if (spec_.loss) series_.push_back({"loss", b, {}});
  for (const auto& v : spec_.vars) {
    const std::string key = v.node + "." + v.var;
    for (const auto& s : series_) {
      if (s.key == key) throw InvalidArgument("Observer: variable '" + key + "' is listed twice");
    }
    if (!v.neurons.empty() && v.mean) {
      throw InvalidArgument("Observer: variable '" + key +
                            "': chosen neurons are recorded as they are, not averaged (mean = false)");
    }
    series_.push_back({key, v.mean ? b : v.neurons.empty() ? -1 : b * static_cast<std::int64_t>(v.neurons.size()), {}});
  }
  for (std::size_t i = 0; i < spec_.spikes.size(); ++i) {
    if (spec_.spikes[i].empty()) throw InvalidArgument("Observer: spikes: a population name is empty");
    for (std::size_t j = 0; j < i; ++j) {
      if (spec_.spikes[j] == spec_.spikes[i]) {
        throw InvalidArgument("Observer: spikes: population '" + spec_.spikes[i] + "' is listed twice");
      }
    }
  }
  spikes_.resize(spec_.spikes.size());
}

std::vector<double> Observer::times() const {
  std::vector<double> t(steps_.size());
  for (std::size_t i = 0; i < steps_.size(); ++i) t[i] = static_cast<double>(steps_[i]) * dt_;
  return t;
}

std::vector<std::string> Observer::keys() const {
  std::vector<std::string> k;
  for (const auto& s : series_) k.push_back(s.key);
  return k;
}

std::vector<std::string> Observer::recorded_state_variables() const {
  std::vector<std::string> k;
  for (const auto& v : spec_.vars) k.push_back(v.node + "." + v.var);
  return k;
}

bool Observer::has(const std::string& key) const {
  for (const auto& s : series_) {
    if (s.key == key) return true;
  }
  return false;
}

const Observer::Series& Observer::find(const std::string& key) const {
  for (const auto& s : series_) {
    if (s.key == key) return s;
  }
  throw InvalidArgument("Observer: no series '" + key + "' was recorded (series: " +
                        (series_.empty() ? std::string("none") : detail::join(keys())) + ")");
}

const Observer::Series& Observer::stored(const std::string& key) const {
  const Series& s = find(key);
  if (!keep_in_memory_ && samples() > 0) {
    throw InvalidArgument("Observer: series '" + key +
                          "' went to the sinks only (set_keep_in_memory(false)); read it from there");
  }
  return s;
}

std::int64_t Observer::width(const std::string& key) const {
  return std::max<std::int64_t>(find(key).width, 0) / spec_.members;
}

void Observer::stop_member(std::int64_t member, std::int64_t step, const std::string& reason) {
  stops_.at(static_cast<std::size_t>(member)) = MemberStop{step, reason};
}

bool Observer::stopped_member_value(std::int64_t c, std::int64_t step, double value) const {
  if (!std::isnan(value)) return false;
  std::int64_t offset = 0;
  for (const Series& s : series_) {
    const std::int64_t w = std::max<std::int64_t>(s.width, 0);
    if (c < offset + w) {
      const std::int64_t member = (c - offset) / (w / spec_.members);
      const MemberStop& stop = stops_[static_cast<std::size_t>(member)];
      return stop.step >= 0 && step >= stop.step;
    }
    offset += w;
  }
  return false;
}

std::int64_t Observer::member_samples(std::int64_t member) const {
  if (member < 0 || member >= spec_.members) {
    throw InvalidArgument("Observer::member_samples: member " + std::to_string(member) + " is not one of the " +
                          std::to_string(spec_.members) + " members");
  }
  const std::int64_t stop = stops_.empty() ? -1 : stops_[static_cast<std::size_t>(member)].step;
  if (stop < 0) return samples();
  return static_cast<std::int64_t>(std::lower_bound(steps_.begin(), steps_.end(), stop) - steps_.begin());
}

Matrix Observer::member_matrix(const std::string& key, std::int64_t member) const {
  const Series& s = stored(key);
  if (member < 0 || member >= spec_.members) {
    throw InvalidArgument("Observer::member_matrix: member " + std::to_string(member) + " is not one of the " +
                          std::to_string(spec_.members) + " members");
  }
  const std::int64_t w = std::max<std::int64_t>(s.width, 0) / spec_.members;
  std::vector<double> part(static_cast<std::size_t>(samples() * w));
  for (std::int64_t r = 0; r < samples(); ++r) {
    const double* src = s.data.data() + r * s.width + member * w;
    std::copy(src, src + w, part.begin() + r * w);
  }
  return Matrix(samples(), w, std::move(part));
}

Matrix Observer::to_matrix(const std::string& key) const {
  const Series& s = stored(key);
  return Matrix(samples(), std::max<std::int64_t>(s.width, 0), s.data);
}

Matrix Observer::to_matrix(const std::string& node, const std::string& var) const {
  return to_matrix(node + "." + var);
}

void Observer::record(std::int64_t step, const std::vector<double>& output, double loss,
                      const std::vector<std::vector<double>>& vars) {
  if (spec_.members > 1) throw InvalidArgument("Observer::record: an ensemble's observer is filled by run()");
  if (vars.size() != spec_.vars.size()) {
    throw InvalidArgument("Observer::record: got " + std::to_string(vars.size()) +
                          " variables; the observer records " + std::to_string(spec_.vars.size()));
  }
  std::vector<std::int64_t> widths;
  std::vector<std::vector<double>> chosen(vars.size());  // the chosen neurons' values
  for (std::size_t i = 0; i < vars.size(); ++i) {
    const std::vector<std::int64_t>& pick = spec_.vars[i].neurons;
    widths.push_back(spec_.vars[i].mean ? 1 : pick.empty() ? static_cast<std::int64_t>(vars[i].size())
                                                           : static_cast<std::int64_t>(pick.size()));
    if (vars[i].empty()) {
      throw InvalidArgument("Observer::record: variable '" + recorded_state_variables()[i] + "' is empty");
    }
    for (const std::int64_t j : pick) {
      if (j < 0 || j >= static_cast<std::int64_t>(vars[i].size())) {
        throw InvalidArgument("Observer::record: variable '" + recorded_state_variables()[i] + "' has " +
                              std::to_string(vars[i].size()) + " values; neuron " + std::to_string(j) +
                              " is to be recorded");
      }
      chosen[i].push_back(vars[i][static_cast<std::size_t>(j)]);
    }
  }
  bind(static_cast<std::int64_t>(output.size()), widths);
  auto finite = [&](const std::vector<double>& values, const std::string& what) {
    for (std::size_t j = 0; j < values.size(); ++j) {
      if (!std::isfinite(values[j])) {
        throw InvalidArgument("Observer::record: " + what + "[" + std::to_string(j) + "] is not finite (step " +
                              std::to_string(step) + ")");
      }
    }
  };
  if (spec_.output) finite(output, "output");
  if (spec_.loss) finite({loss}, "loss");
  for (std::size_t i = 0; i < vars.size(); ++i) {
    finite(spec_.vars[i].neurons.empty() ? vars[i] : chosen[i], "'" + recorded_state_variables()[i] + "'");
  }
  std::vector<double> row(static_cast<std::size_t>(row_width()));
  if (spec_.output) std::copy(output.begin(), output.end(), row.begin());
  if (spec_.loss) row[static_cast<std::size_t>(loss_offset())] = loss;
  for (std::size_t i = 0; i < vars.size(); ++i) {
    double* dst = row.data() + var_offset(i);
    if (spec_.vars[i].mean) {  // in the one reduction order, as run() records means
      const double* x = vars[i].data();
      *dst = model::ordered_sum(static_cast<std::int64_t>(vars[i].size()), [x](std::int64_t k) { return x[k]; }) /
             static_cast<double>(vars[i].size());
    } else {
      const std::vector<double>& values = spec_.vars[i].neurons.empty() ? vars[i] : chosen[i];
      std::copy(values.begin(), values.end(), dst);
    }
  }
  append_batch(row.data(), &step, 1);
}

void Observer::bind(std::int64_t output_width, const std::vector<std::int64_t>& var_widths) {
  if (var_widths.size() != spec_.vars.size()) {
    throw InvalidArgument("Observer: " + std::to_string(var_widths.size()) +
                          " variable widths for " + std::to_string(spec_.vars.size()) + " variables");
  }
  // Check everything before changing anything.
  std::vector<std::int64_t> wanted;
  if (spec_.output) wanted.push_back(output_width);
  if (spec_.loss) wanted.push_back(1);
  wanted.insert(wanted.end(), var_widths.begin(), var_widths.end());
  for (std::int64_t& w : wanted) w *= spec_.members;  // every member's values in a row
  for (std::size_t i = 0; i < series_.size(); ++i) {
    if (wanted[i] <= 0) {
      throw InvalidArgument("Observer: series '" + series_[i].key + "' would have width " +
                            std::to_string(wanted[i]));
    }
    if (series_[i].width >= 0 && series_[i].width != wanted[i] && samples() > 0) {
      throw InvalidArgument("Observer: series '" + series_[i].key + "' holds samples of width " +
                            std::to_string(series_[i].width) + "; new samples have width " +
                            std::to_string(wanted[i]));
    }
  }
  for (std::size_t i = 0; i < series_.size(); ++i) series_[i].width = wanted[i];
}

std::int64_t Observer::row_width() const {
  std::int64_t w = 0;
  for (const auto& s : series_) w += std::max<std::int64_t>(s.width, 0);
  return w;
}

std::int64_t Observer::loss_offset() const {
  if (!spec_.loss) return -1;
  return spec_.output ? std::max<std::int64_t>(series_[0].width, 0) : 0;
}

std::int64_t Observer::var_offset(std::size_t i) const {
  const std::size_t first = (spec_.output ? 1 : 0) + (spec_.loss ? 1 : 0);
  std::int64_t offset = 0;
  for (std::size_t j = 0; j < first + i; ++j) offset += std::max<std::int64_t>(series_[j].width, 0);
  return offset;
}

std::size_t Observer::bytes_per_sample() const {
  const std::size_t values = keep_in_memory_ ? static_cast<std::size_t>(row_width()) : 0;
  return values * sizeof(double) + sizeof(std::int64_t);
}

std::size_t Observer::bytes_held() const {
  std::size_t bytes = steps_.size() * sizeof(std::int64_t);
  for (const auto& s : series_) bytes += s.data.size() * sizeof(double);
  for (const auto& e : spikes_) bytes += (e.steps.size() + e.neurons.size() + e.members.size()) * sizeof(std::int64_t);
  return bytes;
}

void Observer::start_sinks() const {
  for (const auto& sink : sinks_) sink->start(*this);
}

void Observer::prepare(std::int64_t more_samples, std::size_t extra_bytes) {
  const double need = static_cast<double>(bytes_held()) +
                      static_cast<double>(more_samples) * static_cast<double>(bytes_per_sample()) +
                      static_cast<double>(extra_bytes);
  if (need > static_cast<double>(budget_)) {
    throw MemoryBudgetError(
        "recording needs " + detail::format_bytes(need) + " (" + std::to_string(more_samples) +
        " new samples x " + std::to_string(row_width()) + " values x 8 bytes, " +
        detail::format_bytes(static_cast<double>(bytes_held())) + " already held, " +
        detail::format_bytes(static_cast<double>(extra_bytes)) + " staging) but the memory budget is " +
        detail::format_bytes(static_cast<double>(budget_)) +
        "; record fewer or neuron-averaged variables, raise sampling_steps, or raise the budget "
        "(RunOptions::memory_budget, Observer::set_memory_budget)");
  }
  const auto total = static_cast<std::size_t>(samples() + more_samples);
  pending_samples_ = more_samples;  // the room spike events leave them (append_spikes)
  try {
    steps_.reserve(total);
    if (!keep_in_memory_) return;
    for (auto& s : series_) s.data.reserve(total * static_cast<std::size_t>(std::max<std::int64_t>(s.width, 0)));
  } catch (const std::exception&) {  // bad_alloc, length_error: the budget allowed more than there is
    throw MemoryBudgetError("recording needs " + detail::format_bytes(need) +
                            " of host memory, within the budget but more than can be allocated");
  }
}

void Observer::write_state(std::ostream& out) const {
  if (!keep_in_memory_ && samples() > 0) {
    throw InvalidArgument("Observer: samples went to the sinks only; a checkpoint cannot hold them");
  }
  detail::BinaryWriter w(out);
  w.pod<double>(dt_);
  w.pod<std::uint64_t>(series_.size());
  for (const auto& s : series_) {
    w.str(s.key);
    w.pod<std::int64_t>(s.width);
    w.vec(s.data);
  }
  w.vec(steps_);
  if (!spikes_.empty()) write_spike_state(out);  // (absent where no spikes are recorded)
  if (spec_.members > 1) {  // an ensemble's member stops (never in a single network's)
    for (const MemberStop& stop : stops_) {
      w.pod<std::int64_t>(stop.step);
      w.str(stop.reason);
    }
  }
}

void Observer::read_state(std::istream& in, const std::string& source) {
  detail::BinaryReader r(in, source);
  const double dt = r.pod<double>();
  const auto count = r.pod<std::uint64_t>();
  if (dt != dt_ || count != series_.size()) {
    throw InvalidArgument(source + ": the saved observer records " + std::to_string(count) +
                          " series at dt " + std::to_string(dt) + "; this one records " +
                          std::to_string(series_.size()) + " at dt " + std::to_string(dt_));
  }
  std::vector<Series> loaded;
  for (std::uint64_t i = 0; i < count; ++i) {
    Series s;
    s.key = r.str();
    s.width = r.pod<std::int64_t>();
    s.data = r.vec<double>();
    if (s.key != series_[i].key) {
      throw InvalidArgument(source + ": saved series " + std::to_string(i) + " is '" + s.key +
                            "', this observer's is '" + series_[i].key + "'");
    }
    loaded.push_back(std::move(s));
  }
  std::vector<std::int64_t> steps = r.vec<std::int64_t>();
  for (std::size_t i = 0; i < loaded.size(); ++i) {
    const Series& s = loaded[i];
    if (s.width == 0 || s.width < -1 || (s.width == -1 && !steps.empty())) {
      r.fail("series '" + s.key + "' has width " + std::to_string(s.width));
    }
    if (series_[i].width > 0 && s.width != series_[i].width) {
      throw InvalidArgument(source + ": saved series '" + s.key + "' has width " + std::to_string(s.width) +
                            "; this observer's has " + std::to_string(series_[i].width));
    }
    if (s.width > 0 ? s.data.size() / static_cast<std::size_t>(s.width) != steps.size() ||
                          s.data.size() % static_cast<std::size_t>(s.width) != 0
                    : !s.data.empty()) {
      r.fail("series '" + s.key + "' holds " + std::to_string(s.data.size()) + " values for " +
             std::to_string(steps.size()) + " samples");
    }
  }
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (steps[i] < 0 || (i > 0 && steps[i] <= steps[i - 1])) r.fail("corrupt step index at sample " + std::to_string(i));
  }
  // (Read and checked before anything changes.)
  std::vector<Spikes> spikes = spikes_.empty() ? std::vector<Spikes>{} : read_spike_state(in, source);
  std::vector<MemberStop> stops = stops_;
  if (spec_.members > 1) {
    for (MemberStop& stop : stops) {
      stop.step = r.pod<std::int64_t>();
      stop.reason = r.str();
      if (stop.step < -1) r.fail("corrupt member stop at step " + std::to_string(stop.step));
    }
  }
  if (!spikes_.empty()) spikes_ = std::move(spikes);
  stops_ = std::move(stops);
  series_ = std::move(loaded);
  steps_ = std::move(steps);
}

template <class T>
void Observer::append_batch(const T* rows, const std::int64_t* steps, std::int64_t count) {
  // No value that is not finite is ever stored or written: the rows before the first such
  // row are kept, then the run stops with the series, index and step named. (The state check
  // of a run comes every divergence_check_steps steps; what was recorded between two checks
  // is checked here.)
  const std::int64_t width = row_width();
  for (std::int64_t r = 0; r < count; ++r) {
    const T* row = rows + r * width;
    for (std::int64_t c = 0; c < width; ++c) {
      if (std::isfinite(row[c])) continue;
      if (!stops_.empty() && stopped_member_value(c, steps[r], static_cast<double>(row[c]))) continue;
      if (r > 0) append_rows(rows, steps, r);
      std::int64_t offset = 0;
      std::size_t k = 0;
      while (k + 1 < series_.size() && c >= offset + std::max<std::int64_t>(series_[k].width, 0)) {
        offset += std::max<std::int64_t>(series_[k].width, 0);
        ++k;
      }
      const std::string& key = series_[k].key;
      const std::size_t dot = key.find('.');
      std::ostringstream os;
      os << "the state diverged: ";
      if (dot == std::string::npos) {
        const std::int64_t member_width = series_[k].width / spec_.members;
        if (spec_.members > 1) os << "member " << (c - offset) / member_width << ": ";
        os << "the " << (key == "out" ? "network output" : key) << "[" << (c - offset) % member_width << "]";
      } else {
        // The neuron: its column, or the chosen neuron in that column; a width-1 series of a
        // variable without chosen neurons is its mean.
        const std::size_t var = k - (spec_.output ? 1 : 0) - (spec_.loss ? 1 : 0);
        const std::vector<std::int64_t>& chosen = spec_.vars[var].neurons;
        const std::int64_t member_width = series_[k].width / spec_.members;
        const std::int64_t column = (c - offset) % member_width;
        if (spec_.members > 1) os << "member " << (c - offset) / member_width << ": ";
        os << "node '" << key.substr(0, dot) << "' variable '" << key.substr(dot + 1) << "' "
           << (spec_.vars[var].mean ? std::string("mean")
                                    : "neuron " + std::to_string(chosen.empty() ? column
                                                                                : chosen[static_cast<std::size_t>(column)]));
      }
      os << " is " << static_cast<double>(row[c]) << " in the sample of step " << steps[r]
         << " (recorded between two checks of the state); the " << samples()
         << " samples before it are kept. A smaller dt or weaker coupling usually helps";
      throw DivergenceError(os.str());
    }
  }
  append_rows(rows, steps, count);
}

template <class T>
void Observer::append_rows(const T* rows, const std::int64_t* steps, std::int64_t count) {
  const std::int64_t width = row_width();
  if (!sinks_.empty()) {
    // Regroup the rows series by series for the sinks.
    scratch_.resize(static_cast<std::size_t>(count * width));
    std::vector<const double*> parts;
    double* dst = scratch_.data();
    std::int64_t offset = 0;
    for (const auto& s : series_) {
      parts.push_back(dst);
      for (std::int64_t r = 0; r < count; ++r) {
        const T* src = rows + r * width + offset;
        for (std::int64_t j = 0; j < s.width; ++j) *dst++ = static_cast<double>(src[j]);
      }
      offset += s.width;
    }
    for (const auto& sink : sinks_) sink->write(*this, count, steps, parts);
  }
  if (keep_in_memory_) {
    for (std::int64_t r = 0; r < count; ++r) {
      const T* row = rows + r * width;
      std::int64_t offset = 0;
      for (auto& s : series_) {
        s.data.insert(s.data.end(), row + offset, row + offset + s.width);
        offset += s.width;
      }
    }
  }
  steps_.insert(steps_.end(), steps, steps + count);
  pending_samples_ = std::max<std::int64_t>(0, pending_samples_ - count);
}

template void Observer::append_batch<float>(const float*, const std::int64_t*, std::int64_t);
template void Observer::append_batch<double>(const double*, const std::int64_t*, std::int64_t);
template void Observer::append_rows<float>(const float*, const std::int64_t*, std::int64_t);
template void Observer::append_rows<double>(const double*, const std::int64_t*, std::int64_t);

void Observer::write_npy(const std::string& key, const std::string& path) const {
  const Series& s = stored(key);
  const std::int64_t w = std::max<std::int64_t>(s.width, 0);
  if (spec_.members > 1) {
    detail::write_npy(path, s.data.data(), {samples(), spec_.members, w / spec_.members});
  } else {
    detail::write_npy(path, s.data.data(), {samples(), w});
  }
}

void Observer::write_csv(const std::string& key, const std::string& path) const {
  const Series& s = stored(key);
  detail::OutputFile file = detail::create_output_file(path);
  std::FILE* f = file.get();
  const std::int64_t b = spec_.members;
  const std::int64_t w = std::max<std::int64_t>(s.width, 0) / b;  // per member
  std::fprintf(f, b > 1 ? "step,time,member" : "step,time");
  for (std::int64_t j = 0; j < w; ++j) std::fprintf(f, ",%s[%lld]", key.c_str(), static_cast<long long>(j));
  std::fputc('\n', f);
  for (std::int64_t r = 0; r < samples(); ++r) {
    const std::int64_t step = steps_[static_cast<std::size_t>(r)];
    for (std::int64_t m = 0; m < b; ++m) {  // long form: one line per member
      std::fprintf(f, "%lld,%.17g", static_cast<long long>(step), static_cast<double>(step) * dt_);
      if (b > 1) std::fprintf(f, ",%lld", static_cast<long long>(m));
      const double* v = s.data.data() + r * s.width + m * w;
      for (std::int64_t j = 0; j < w; ++j) std::fprintf(f, ",%.17g", v[j]);
      std::fputc('\n', f);
    }
  }
  detail::close_output_file(file, path);
}

std::vector<std::string> Observer::save(const std::string& dir, const std::vector<std::string>& formats,
                                        bool allow_symlink) const {
  for (const auto& fmt : formats) {
    if (fmt != "npy" && fmt != "csv") {
      throw InvalidArgument("Observer::save: unknown format '" + fmt + "' (formats: 'npy', 'csv')");
    }
  }
  detail::prepare_output_dir(dir, allow_symlink);
  std::vector<std::string> written;
  for (const auto& fmt : formats) {
    for (const auto& s : series_) {
      const std::string path = (std::filesystem::path(dir) / (s.key + "." + fmt)).string();
      if (fmt == "npy") {
        write_npy(s.key, path);
      } else {
        write_csv(s.key, path);
      }
      written.push_back(path);
    }
    if (fmt == "npy") {
      const std::string steps_path = (std::filesystem::path(dir) / "steps.npy").string();
      const std::string time_path = (std::filesystem::path(dir) / "time.npy").string();
      detail::write_npy(steps_path, steps_.data(), {samples()});
      const std::vector<double> t = times();
      detail::write_npy(time_path, t.data(), {samples()});
      written.push_back(steps_path);
      written.push_back(time_path);
    }
    save_spikes(dir, fmt, written);
  }
  return written;
}

}  // namespace qifsim
