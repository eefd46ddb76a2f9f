// host/io/input_files.hpp - how qifsim opens the files it reads (configs, .npy arrays,
// checkpoints): regular files only, checked before the first read.
#pragma once

#include <cstdint>
#include <string>

#include "io/output_files.hpp"

namespace qifsim::detail {

/// Open `path` for reading (binary). Anything but a regular file is refused at once with an
/// IoError that says what it is: a FIFO would block forever, a device (/dev/zero) never end,
/// a folder read as garbage. With `max_bytes`, a longer file is refused too, naming both
/// sizes and `what` it should be. `*size` receives the file's size.
OutputFile open_regular_file(const std::string& path, const std::string& what, std::uint64_t max_bytes = 0,
                             std::uint64_t* size = nullptr);

/// The whole of a regular file of at most `max_bytes` (open_regular_file's checks), as text.
std::string read_regular_file(const std::string& path, const std::string& what, std::uint64_t max_bytes);

}  // namespace qifsim::detail
