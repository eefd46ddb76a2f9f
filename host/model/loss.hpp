// host/model/loss.hpp - per-step losses of test().
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "model/reduction.hpp"
#include "qifsim/error.hpp"

namespace qifsim::detail {

enum class LossKind { Mse, L1 };

inline LossKind parse_loss(const std::string& name) {
  if (name == "mse") return LossKind::Mse;
  if (name == "l1") return LossKind::L1;
  throw InvalidArgument("unknown loss '" + name + "' (losses: 'mse', 'l1')");
}

/// Loss of one step: the mean over the k outputs of (y - target)^2 or |y - target|, the terms
/// summed in double in the one reduction order (model/reduction.hpp), as the GPU sums them.
template <class T>
double step_loss(LossKind kind, const T* y, const double* target, std::int64_t k) {
  const double sum = model::ordered_sum(k, [&](std::int64_t j) {
    const double d = static_cast<double>(y[j]) - target[j];
    return kind == LossKind::Mse ? d * d : std::fabs(d);
  });
  return sum / static_cast<double>(k);
}

}  // namespace qifsim::detail
