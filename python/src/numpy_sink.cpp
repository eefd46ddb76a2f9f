// python/src/numpy_sink.cpp - batches from the engine into NumPy-shareable blocks.
#include "numpy_sink.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#include "arguments.hpp"
#include "qifsim/error.hpp"

namespace qifsim::python {

NumpySink::NumpySink(const Observer& obs) : keys_(obs.keys()), columns_(keys_.size()) {
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    const std::int64_t w = obs.width(keys_[i]) * obs.members();  // every member's values
    columns_[i].width = w > 0 ? w : -1;
  }
  steps_.width = 1;
}

namespace {

// `bytes` of uninitialised memory. From 4 MiB on, aligned to 2 MiB and marked for transparent
// huge pages (as NumPy marks its own large arrays): a recording of N values per step then
// takes one page fault per 2 MiB instead of one per 4 KiB as the run first writes it.
void* allocate_block(std::size_t bytes) {
  constexpr std::size_t kHuge = std::size_t{2} << 20;
  bytes = std::max<std::size_t>(bytes, 16);
  if (bytes < 2 * kHuge) {
    void* p = std::malloc(bytes);
    if (!p) throw std::bad_alloc();
    return p;
  }
  const std::size_t rounded = (bytes + kHuge - 1) / kHuge * kHuge;
  void* p = std::aligned_alloc(kHuge, rounded);
  if (!p) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  (void)::madvise(p, rounded, MADV_HUGEPAGE);  // advice only: without it the pages are 4 KiB
#endif
  return p;
}

}  // namespace

template <class T>
void NumpySink::grow(Column<T>& c, std::int64_t rows, std::int64_t used) {
  if (c.block && c.block->capacity >= rows) return;
  auto block = std::make_shared<Block<T>>();
  const auto values = static_cast<std::size_t>(rows * std::max<std::int64_t>(c.width, 0));
  block->owned.reset(static_cast<T*>(allocate_block(values * sizeof(T))));  // uninitialised on purpose
  block->data = block->owned.get();
  block->capacity = rows;
  if (c.block && used > 0) {
    std::memcpy(block->data, c.block->data, static_cast<std::size_t>(used * c.width) * sizeof(T));
  }
  c.block = std::move(block);  // arrays that view the old block keep it alive
}

void NumpySink::fix_widths(const std::vector<std::int64_t>& widths) {
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].width < 0) columns_[i].width = widths[i];
  }
}

void NumpySink::ensure(std::int64_t rows) {
  const std::int64_t capacity = steps_.block ? steps_.block->capacity : 0;
  // Manual recording grows by doubling; run() reserves the exact count beforehand.
  const std::int64_t target = rows <= capacity ? capacity : std::max({rows, 2 * capacity, std::int64_t{256}});
  for (auto& c : columns_) grow(c, target, rows_);
  grow(steps_, target, rows_);
}

void NumpySink::write_spikes(const Observer& obs, std::size_t pop, std::int64_t count, const std::int64_t* steps,
                             const std::int64_t* neurons) {
  {  // the budget counts them (nothing appended when they do not fit)
    const std::size_t held = bytes_held();
    const double need = static_cast<double>(held) + 16.0 * static_cast<double>(count);
    if (need > static_cast<double>(obs.memory_budget())) {
      throw MemoryBudgetError("recording the spikes of '" + obs.spec().spikes.at(pop) + "' needs " +
                              format_bytes(need) + " (16 bytes a spike, and the samples held) but the "
                              "memory budget is " + format_bytes(static_cast<double>(obs.memory_budget())) +
                              "; the spikes before these are kept. Raise the budget (memory_budget)");
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  const std::size_t pops = obs.spec().spikes.size();
  if (spike_steps_.size() != pops) {
    spike_steps_.resize(pops);
    spike_neurons_.resize(pops);
  }
  spike_steps_.at(pop).insert(spike_steps_[pop].end(), steps, steps + count);
  spike_neurons_.at(pop).insert(spike_neurons_[pop].end(), neurons, neurons + count);
}

void NumpySink::write_member_spikes(const Observer& obs, std::size_t pop, std::int64_t count,
                                    const std::int64_t* steps, const std::int64_t* members,
                                    const std::int64_t* neurons) {
  write_spikes(obs, pop, count, steps, neurons);  // the budget, the steps and neurons
  std::lock_guard<std::mutex> lock(mutex_);
  if (spike_members_.size() != spike_steps_.size()) spike_members_.resize(spike_steps_.size());
  spike_members_.at(pop).insert(spike_members_[pop].end(), members, members + count);
}

std::vector<std::int64_t> NumpySink::spike_members(std::size_t pop) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (pop >= spike_members_.size()) return {};
  return spike_members_[pop];
}

std::pair<std::vector<std::int64_t>, std::vector<std::int64_t>> NumpySink::spikes(std::size_t pop) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (pop >= spike_steps_.size()) return {};
  return {spike_steps_[pop], spike_neurons_[pop]};
}

void NumpySink::write(const Observer& obs, std::int64_t count, const std::int64_t* steps,
                      const std::vector<const double*>& series) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (series.size() != columns_.size()) {
    throw InvalidArgument("qifsim (Python): a batch has " + std::to_string(series.size()) +
                          " series; the observer records " + std::to_string(columns_.size()));
  }
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    const std::int64_t w = obs.width(keys_[i]) * obs.members();  // every member's values
    if (columns_[i].width == w) continue;
    if (rows_ > 0 && columns_[i].width >= 0) {
      throw InvalidArgument("qifsim (Python): series '" + keys_[i] + "' holds samples of width " +
                            std::to_string(columns_[i].width) + "; new samples have width " +
                            std::to_string(w));
    }
    columns_[i] = Column<double>{w, nullptr};  // a reservation made for other widths
  }
  ensure(rows_ + count);
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    Column<double>& c = columns_[i];
    std::memcpy(c.block->data + rows_ * c.width, series[i],
                static_cast<std::size_t>(count * c.width) * sizeof(double));
  }
  std::memcpy(steps_.block->data + rows_, steps, static_cast<std::size_t>(count) * sizeof(std::int64_t));
  rows_ += count;
  ++batches_;
}

void NumpySink::reserve(std::int64_t total, const std::vector<std::int64_t>& widths) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (widths.size() != columns_.size()) return;
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].width >= 0 && columns_[i].width != widths[i]) return;
  }
  fix_widths(widths);
  for (auto& c : columns_) grow(c, total, rows_);
  grow(steps_, total, rows_);
}

std::int64_t NumpySink::samples() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return rows_;
}

std::int64_t NumpySink::batches() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return batches_;
}

std::int64_t NumpySink::width(std::size_t i) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return std::max<std::int64_t>(columns_.at(i).width, 0);
}

std::size_t NumpySink::bytes_held() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::size_t bytes = static_cast<std::size_t>(rows_) * sizeof(std::int64_t);
  for (const auto& c : columns_) {
    bytes += static_cast<std::size_t>(rows_ * std::max<std::int64_t>(c.width, 0)) * sizeof(double);
  }
  for (const auto& e : spike_steps_) bytes += 2 * e.size() * sizeof(std::int64_t);
  return bytes;
}

SeriesView NumpySink::series(std::size_t i) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const Column<double>& c = columns_.at(i);
  SeriesView v;
  v.rows = rows_;
  v.width = std::max<std::int64_t>(c.width, 0);
  if (c.block) {
    v.owner = c.block;
    v.data = c.block->data;
  }
  return v;
}

SeriesView NumpySink::steps() const {
  std::lock_guard<std::mutex> lock(mutex_);
  SeriesView v;
  v.rows = rows_;
  v.width = 1;
  if (steps_.block) {
    v.owner = steps_.block;
    v.data = steps_.block->data;
  }
  return v;
}

PyObserver::PyObserver(double dt, bool record_output, bool record_loss, std::vector<RecordVar> vars,
                       std::vector<std::string> spikes, std::int64_t members)
    : obs(dt, RecordSpec{record_output, record_loss, std::move(vars), std::move(spikes), members}),
      sink(std::make_shared<NumpySink>(obs)) {
  obs.add_sink(sink);
  obs.set_keep_in_memory(false);
}

}  // namespace qifsim::python
