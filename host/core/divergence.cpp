// host/core/divergence.cpp - the message of a run whose state became NaN or Inf.
#include <sstream>

#include "core/engine.hpp"
#include "qifsim/error.hpp"

namespace qifsim::detail {

void throw_divergence_error(const std::string& node, const char* var, std::int64_t index, double value,
                            std::int64_t step, std::int64_t since) {
  std::ostringstream os;
  os << "the state diverged: node '" << node << "' variable '" << var << "' neuron " << index << " is "
     << value << " after step " << step;
  if (since > 0 && step - since >= 0) os << " (all values were finite after step " << step - since << ")";
  os << "; samples recorded before it are kept. A smaller dt or weaker coupling usually helps";
  throw DivergenceError(os.str());
}

}  // namespace qifsim::detail
