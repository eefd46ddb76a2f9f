// host/io/spike_files.hpp - spike events (RecordSpec::spikes) written as they arrive: one file
// per population, `<population>.spikes.npy` (int64, shape (spikes, 2), rows (step, neuron); an
// ensemble's (spikes, 3), rows (step, member, neuron)) or `<population>.spikes.csv`
// (`step,time,neuron`; an ensemble's `step,time,member,neuron`). Valid at every moment, as the sample files
// are; continued from a checkpoint by cutting each file to the spikes it counted.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "qifsim/recording.hpp"

namespace qifsim::detail {

/// A sink writing `format` ("npy" or "csv") spike files into `dir`. `continue_counts`: null for
/// new files; else the spikes each population's file holds at the checkpoint (the files are
/// reopened and cut to them, IoError when one holds fewer or another header).
std::shared_ptr<FileSink> make_spike_file_sink(const std::string& dir, const std::string& format,
                                               const std::map<std::string, std::int64_t>* continue_counts);

/// `count` events as the rows the files hold, into `rows`: (step, neuron), or with `members`
/// (an ensemble's) (step, member, neuron). Returns the values per row.
inline std::size_t spike_rows(std::int64_t count, const std::int64_t* steps, const std::int64_t* members,
                              const std::int64_t* neurons, std::vector<std::int64_t>& rows) {
  const std::size_t w = members != nullptr ? 3 : 2;
  rows.resize(w * static_cast<std::size_t>(count));
  for (std::int64_t k = 0; k < count; ++k) {
    const std::size_t at = w * static_cast<std::size_t>(k);
    rows[at] = steps[k];
    if (members != nullptr) rows[at + 1] = members[k];
    rows[at + w - 1] = neurons[k];
  }
  return w;
}

/// The file name of population `pop`'s spikes in `format`.
inline std::string spike_file_name(const std::string& pop, const std::string& format) {
  return pop + ".spikes." + format;
}

}  // namespace qifsim::detail
