// host/model/loss.hpp - per-step losses of test().
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "qifsim/error.hpp"

namespace qifsim::detail {

enum class LossKind { Mse, L1 };

inline LossKind parse_loss(const std::string& name) {
  if (name == "mse") return LossKind::Mse;
  if (name == "l1") return LossKind::L1;
  throw InvalidArgument("unknown loss '" + name + "' (losses: 'mse', 'l1')");
}

/// Loss of one step: the mean over the k outputs of (y - target)^2 or |y - target|.
template <class T>
double step_loss(LossKind kind, const T* y, const double* target, std::int64_t k) {
  double sum = 0.0;
  for (std::int64_t j = 0; j < k; ++j) {
    const double d = static_cast<double>(y[j]) - target[j];
    sum += kind == LossKind::Mse ? d * d : std::fabs(d);
  }
  return sum / static_cast<double>(k);
}

}  // namespace qifsim::detail
