// host/model/activation.hpp - function-node activations on a vector.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "model/reduction.hpp"
#include "qifsim/types.hpp"

namespace qifsim::detail {

/// out = activation(in) for n values (softmax, softmin and log_softmax over the vector: the
/// exponentials summed in double in the one reduction order, model/reduction.hpp, as the GPU's
/// kernels/node_kernels.cu sums them).
template <class T>
void apply_activation(Activation act, const T* in, T* out, std::int64_t n) {
  switch (act) {
    case Activation::Identity:
      std::copy(in, in + n, out);
      return;
    case Activation::Tanh:
      for (std::int64_t i = 0; i < n; ++i) out[i] = std::tanh(in[i]);
      return;
    case Activation::Sigmoid:
      for (std::int64_t i = 0; i < n; ++i) out[i] = T(1) / (T(1) + std::exp(-in[i]));
      return;
    case Activation::Softmax:
    case Activation::Softmin: {
      const T sign = act == Activation::Softmax ? T(1) : T(-1);
      T top = sign * in[0];
      for (std::int64_t i = 1; i < n; ++i) top = std::max(top, sign * in[i]);
      for (std::int64_t i = 0; i < n; ++i) out[i] = std::exp(sign * in[i] - top);
      const double sum = model::ordered_sum(n, [out](std::int64_t i) { return static_cast<double>(out[i]); });
      for (std::int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(static_cast<double>(out[i]) / sum);
      return;
    }
    case Activation::LogSoftmax: {
      T top = in[0];
      for (std::int64_t i = 1; i < n; ++i) top = std::max(top, in[i]);
      const double sum =
          model::ordered_sum(n, [in, top](std::int64_t i) { return static_cast<double>(std::exp(in[i] - top)); });
      const T log_sum = top + static_cast<T>(std::log(sum));
      for (std::int64_t i = 0; i < n; ++i) out[i] = in[i] - log_sum;
      return;
    }
  }
}

}  // namespace qifsim::detail
