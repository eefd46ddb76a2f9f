// qifsim/log.hpp - where qifsim's one-line notices go (e.g. which backend `auto` chose).
#pragma once

#include <functional>
#include <string>

namespace qifsim {

/// Receives each notice line (without newline). The default writes "qifsim: <line>" to
/// stderr; an empty handler silences qifsim.
using LogHandler = std::function<void(const std::string&)>;
void set_log_handler(LogHandler handler);

/// Send one notice to the current handler.
void log_notice(const std::string& line);

}  // namespace qifsim
