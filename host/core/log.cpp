// host/core/log.cpp - the notice handler.
#include "qifsim/log.hpp"

#include <cstdio>
#include <mutex>

namespace qifsim {
namespace {

std::mutex& log_mutex() {
  static std::mutex m;
  return m;
}

LogHandler& handler() {
  static LogHandler h = [](const std::string& line) { std::fprintf(stderr, "qifsim: %s\n", line.c_str()); };
  return h;
}

}  // namespace

void set_log_handler(LogHandler h) {
  const std::lock_guard<std::mutex> lock(log_mutex());
  handler() = std::move(h);
}

void log_notice(const std::string& line) {
  const std::lock_guard<std::mutex> lock(log_mutex());
  if (handler()) handler()(line);
}

}  // namespace qifsim
