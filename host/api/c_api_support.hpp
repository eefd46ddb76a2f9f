// host/api/c_api_support.hpp - the C API's internals: the handle, the status codes, thread-local errors.
//
// Every entry point runs its body inside guard(), which turns any exception into a status
// code and a message for qifsim_last_error(); no exception leaves the C API's files.
#pragma once

#include "qifsim/qifsim.h"

#include <cstring>
#include <new>
#include <optional>
#include <string>

#include "qifsim/config.hpp"
#include "qifsim/qifsim.hpp"

struct qifsim_sim {
  qifsim::RunConfig cfg;  // network, run options, inputs (config only), output folder, formats
  bool keep_in_memory = true;
  std::optional<qifsim::Observer> last;  // the last run's recording
  mutable qifsim::detail::CallOwner owner;  // one thread at a time (see qifsim.h)
};

namespace qifsim::c_api_detail {

/// The message for qifsim_last_error() (c_api_network.cpp).
extern thread_local std::string g_last_error;

template <class F>
int guard(const char* fn, F&& body) {
  try {
    body();
    return QIFSIM_OK;
  } catch (const qifsim::ConfigError& e) {
    g_last_error = e.what();
    return QIFSIM_ERR_CONFIG;
  } catch (const qifsim::GraphError& e) {
    g_last_error = e.what();
    return QIFSIM_ERR_GRAPH;
  } catch (const qifsim::DivergenceError& e) {
    g_last_error = e.what();
    return QIFSIM_ERR_DIVERGED;
  } catch (const qifsim::MemoryBudgetError& e) {
    g_last_error = e.what();
    return QIFSIM_ERR_MEMORY;
  } catch (const qifsim::BusyError& e) {
    g_last_error = e.what();
    return QIFSIM_ERR_BUSY;
  } catch (const qifsim::IoError& e) {
    g_last_error = e.what();
    return QIFSIM_ERR_IO;
  } catch (const qifsim::BackendError& e) {
    g_last_error = e.what();
    return QIFSIM_ERR_BACKEND;
  } catch (const qifsim::InvalidArgument& e) {
    g_last_error = e.what();
    return QIFSIM_ERR_ARGUMENT;
  } catch (const std::bad_alloc&) {
    g_last_error = std::string(fn) + ": out of memory";
    return QIFSIM_ERR_MEMORY;
  } catch (const std::exception& e) {
    g_last_error = std::string(fn) + ": " + e.what();
    return QIFSIM_ERR_INTERNAL;
  } catch (...) {
    g_last_error = std::string(fn) + ": unknown error";
    return QIFSIM_ERR_INTERNAL;
  }
}

/// Holds a handle for one call: a call from a second thread meanwhile is QIFSIM_ERR_BUSY.
class Hold {
 public:
  Hold(const qifsim_sim* sim, const char* fn) : owner_(sim->owner) {
    owner_.enter(fn, "this qifsim_sim handle");
  }
  ~Hold() { owner_.leave(); }
  Hold(const Hold&) = delete;
  Hold& operator=(const Hold&) = delete;

 private:
  qifsim::detail::CallOwner& owner_;
};

/// memcpy of n items that is also defined for n = 0 (an empty vector's data() may be NULL).
template <class T>
void copy_out(T* dst, const T* src, std::size_t n) {
  if (n > 0) std::memcpy(dst, src, n * sizeof(T));
}

[[noreturn]] inline void bad(const char* fn, const std::string& what) {
  throw qifsim::InvalidArgument(std::string(fn) + ": " + what);
}

inline void need(const void* p, const char* fn, const char* what) {
  if (!p) bad(fn, std::string(what) + " is NULL");
}

inline std::string str(const char* s, const char* fn, const char* what) {
  need(s, fn, what);
  return s;
}

inline void need_capacity(int64_t have, int64_t want, const char* fn) {
  if (have < want) {
    bad(fn, "the buffer holds " + std::to_string(have) + " values; " + std::to_string(want) + " are needed");
  }
}

}  // namespace qifsim::c_api_detail
