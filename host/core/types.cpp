// host/core/types.cpp - names of the public enumerations.
#include "qifsim/types.hpp"

#include "qifsim/error.hpp"

namespace qifsim {

std::string to_string(Precision p) { return p == Precision::Float32 ? "float32" : "float64"; }

std::string to_string(Backend b) {
  switch (b) {
    case Backend::Auto: return "auto";
    case Backend::Cpu: return "cpu";
    case Backend::Cuda: return "cuda";
  }
  return "?";
}

std::string to_string(Activation a) {
  switch (a) {
    case Activation::Identity: return "identity";
    case Activation::Tanh: return "tanh";
    case Activation::Sigmoid: return "sigmoid";
    case Activation::Softmax: return "softmax";
    case Activation::Softmin: return "softmin";
    case Activation::LogSoftmax: return "log_softmax";
  }
  return "?";
}

std::string to_string(CouplingMode c) {
  switch (c) {
    case CouplingMode::Auto: return "auto";
    case CouplingMode::Dense: return "dense";
    case CouplingMode::Sparse: return "sparse";
    case CouplingMode::Procedural: return "procedural";
    case CouplingMode::Events: return "events";
  }
  return "?";
}

CouplingMode parse_coupling(const std::string& name) {
  for (CouplingMode c : {CouplingMode::Auto, CouplingMode::Dense, CouplingMode::Sparse, CouplingMode::Procedural,
                         CouplingMode::Events}) {
    if (name == to_string(c)) return c;
  }
  throw InvalidArgument("unknown coupling '" + name + "' (use auto, dense, sparse, procedural or events)");
}

Precision parse_precision(const std::string& name) {
  if (name == "float64" || name == "f64" || name == "double") return Precision::Float64;
  if (name == "float32" || name == "f32" || name == "single" || name == "float") return Precision::Float32;
  throw InvalidArgument("unknown precision '" + name + "' (use 'float32' or 'float64')");
}

Backend parse_backend(const std::string& name) {
  if (name == "auto") return Backend::Auto;
  if (name == "cpu") return Backend::Cpu;
  if (name == "cuda" || name == "gpu") return Backend::Cuda;
  throw InvalidArgument("unknown backend '" + name + "' (use 'auto', 'cpu' or 'cuda')");
}

Activation parse_activation(const std::string& name) {
  for (Activation a : {Activation::Identity, Activation::Tanh, Activation::Sigmoid, Activation::Softmax,
                       Activation::Softmin, Activation::LogSoftmax}) {
    if (name == to_string(a)) return a;
  }
  throw InvalidArgument("unknown activation '" + name +
                        "' (use identity, tanh, sigmoid, softmax, softmin or log_softmax)");
}

}  // namespace qifsim
