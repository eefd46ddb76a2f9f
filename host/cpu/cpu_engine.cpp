// host/cpu/cpu_engine.cpp - the CPU backend's engine for one network (cpu/cpu_engine.hpp).
#include "cpu/cpu_engine.hpp"

namespace qifsim::detail {

std::unique_ptr<Engine> make_cpu_engine(const Graph& graph, Precision precision, double dt, Exchange* exchange) {
  if (precision == Precision::Float32) return std::make_unique<CpuEngine<float>>(graph, dt, nullptr, exchange);
  return std::make_unique<CpuEngine<double>>(graph, dt, nullptr, exchange);
}

}  // namespace qifsim::detail
