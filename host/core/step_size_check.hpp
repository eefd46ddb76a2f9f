// host/core/step_size_check.hpp - does dt suit the populations' time constants? The warnings
// a compile() gives for a step that is likely a unit mistake (dt = 1 for a model in seconds,
// dt = 1e-9): each a line naming the population.
#pragma once

#include <string>
#include <vector>

#include "core/graph.hpp"

namespace qifsim::detail {

/// dt / tau beyond which explicit Euler is no longer a simulation of the model (a decay
/// overshoots by half its distance in one step), and below which a run crawls.
inline constexpr double kMaxStepOverTau = 0.5;
inline constexpr double kMinStepOverTau = 1e-7;

/// One line per population where dt does not suit it: a time constant (a parameter whose name
/// starts with "tau") with dt / tau outside [kMinStepOverTau, kMaxStepOverTau], or QIF neurons
/// that spike again on the step after their reset (v_reset + dt (v_reset^2 + eta) / tau >=
/// v_threshold without any input: they would fire on every step).
std::vector<std::string> step_size_warnings(const Graph& graph, double dt);

}  // namespace qifsim::detail
