// qifsim/error.hpp - the exceptions qifsim throws.
//
// Every error names what is wrong and where (the node, the variable, the file, the
// failing call). Library code never calls exit(); it throws one of these types.
#pragma once

#include <stdexcept>
#include <string>

namespace qifsim {

/// Base of every qifsim exception.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

/// A caller passed a value the model or the API cannot accept (shape, range, name).
class InvalidArgument : public Error {
 public:
  explicit InvalidArgument(const std::string& what) : Error(what) {}
};

/// The network graph does not compile (input/output-node rule, cycles, widths).
class GraphError : public Error {
 public:
  explicit GraphError(const std::string& what) : Error(what) {}
};

/// A recording would need more memory than the budget allows; nothing was allocated.
class MemoryBudgetError : public Error {
 public:
  explicit MemoryBudgetError(const std::string& what) : Error(what) {}
};

/// Reading or writing a file failed.
class IoError : public Error {
 public:
  explicit IoError(const std::string& what) : Error(what) {}
};

/// A backend (BLAS, CUDA, cuBLAS) reported a failure; the message names the call.
class BackendError : public Error {
 public:
  explicit BackendError(const std::string& what) : Error(what) {}
};

/// The state became NaN or Inf during a run; the message names the node, the variable,
/// the first neuron and the step. Samples recorded before it stay in the Observer.
class DivergenceError : public Error {
 public:
  explicit DivergenceError(const std::string& what) : Error(what) {}
};

/// An object that serves one thread at a time (a Network, a C API handle) was called from
/// a second thread while a call was in progress; nothing was changed.
class BusyError : public Error {
 public:
  explicit BusyError(const std::string& what) : Error(what) {}
};

}  // namespace qifsim
