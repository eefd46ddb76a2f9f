// host/io/spike_files.hpp - spike events (RecordSpec::spikes) written as they arrive: one file
// per population, `<population>.spikes.npy` (int64, shape (spikes, 2), rows (step, neuron)) or
// `<population>.spikes.csv` (`step,time,neuron`). Valid at every moment, as the sample files
// are; continued from a checkpoint by cutting each file to the spikes it counted.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "qifsim/recording.hpp"

namespace qifsim::detail {

/// A sink writing `format` ("npy" or "csv") spike files into `dir`. `continue_counts`: null for
/// new files; else the spikes each population's file holds at the checkpoint (the files are
/// reopened and cut to them, IoError when one holds fewer or another header).
std::shared_ptr<FileSink> make_spike_file_sink(const std::string& dir, const std::string& format,
                                               const std::map<std::string, std::int64_t>* continue_counts);

/// The file name of population `pop`'s spikes in `format`.
inline std::string spike_file_name(const std::string& pop, const std::string& format) {
  return pop + ".spikes." + format;
}

}  // namespace qifsim::detail
