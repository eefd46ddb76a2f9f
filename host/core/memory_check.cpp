// host/core/memory_check.cpp - memory available and memory an engine needs (memory_check.hpp).
#include "core/memory_check.hpp"

#include "core/partition.hpp"

#include "core/coupling_choice.hpp"
#include "core/edge_state.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cerrno>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <limits>

#include "qifsim/error.hpp"
#include "core/text.hpp"
#include "model/qif_population.hpp"

namespace qifsim::detail {
namespace {

// MemAvailable from /proc/meminfo in bytes, or 0.
std::size_t mem_available() {
  std::FILE* f = std::fopen("/proc/meminfo", "r");
  if (!f) return 0;
  char line[256];
  std::size_t bytes = 0;
  constexpr char kKey[] = "MemAvailable:";
  while (std::fgets(line, sizeof line, f)) {
    if (std::strncmp(line, kKey, sizeof kKey - 1) != 0) continue;
    char* end = nullptr;
    errno = 0;
    const unsigned long long kib = std::strtoull(line + sizeof kKey - 1, &end, 10);
    if (errno == 0 && end != line + sizeof kKey - 1) bytes = static_cast<std::size_t>(kib) * 1024;
    break;
  }
  (void)std::fclose(f);  // read only: nothing to lose
  return bytes;
}

std::string count_text(std::int64_t n) { return std::to_string(n); }

// The process's address space in use now (VmSize, /proc/self/statm's first field), or 0.
std::size_t address_space_in_use() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  char line[128];
  const bool got = std::fgets(line, sizeof line, f) != nullptr;
  (void)std::fclose(f);  // read only: nothing to lose
  if (!got) return 0;
  char* end = nullptr;
  errno = 0;
  const unsigned long long pages = std::strtoull(line, &end, 10);
  const long page = sysconf(_SC_PAGE_SIZE);
  const bool read = errno == 0 && end != line;
  return read && page > 0 ? static_cast<std::size_t>(pages) * static_cast<std::size_t>(page) : 0;
}

}  // namespace

std::size_t available_host_memory() {
  std::size_t bytes = mem_available();
  if (bytes == 0) {
    const long pages = sysconf(_SC_AVPHYS_PAGES);
    const long page = sysconf(_SC_PAGE_SIZE);
    bytes = pages > 0 && page > 0 ? static_cast<std::size_t>(pages) * static_cast<std::size_t>(page)
                                  : std::numeric_limits<std::size_t>::max();
  }
  struct rlimit limit {};
  if (getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    // What is left of the limit: the address space already mapped counts against it.
    const auto cap = static_cast<std::size_t>(limit.rlim_cur);
    const std::size_t used = address_space_in_use();
    bytes = std::min<std::size_t>(bytes, cap > used ? cap - used : 0);
  }
  return bytes;
}

std::int64_t checked_product(std::int64_t a, std::int64_t b, const std::string& what) {
  std::int64_t out = 0;
  if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &out)) {
    throw InvalidArgument(what + ": " + std::to_string(a) + " x " + std::to_string(b) +
                          " values is more than any array can hold");
  }
  return out;
}

Footprint engine_footprint(const Graph& graph, Precision precision, int ranks, int rank) {
  const double value = precision == Precision::Float32 ? 4.0 : 8.0;
  Footprint f;
  auto add = [&](double bytes, const std::string& what) {
    f.bytes += bytes;
    if (bytes > f.largest_bytes) {
      f.largest_bytes = bytes;
      f.largest = what;
    }
  };
  const bool split = ranks > 1;
  // A split population's share of rows (the rank's neurons over all of them).
  const auto share = [&](const Node& node) {
    if (!split || node.kind != NodeKind::Population || node.size == 0) return 1.0;
    return static_cast<double>(partition_range(node.size, ranks, rank).size()) / static_cast<double>(node.size);
  };
  for (const Node& node : graph.nodes) {
    const double fraction = share(node);
    const double n = fraction * static_cast<double>(node.size);
    if (node.kind == NodeKind::Population) {
      // v, s, x, input, coupling input, 8 parameters per neuron, and the 8 parameters as
      // given (one value or one per neuron).
      double params = 0.0;
      for (std::size_t slot = 0; slot < model::kQif.param_count; ++slot) {
        const auto given = static_cast<double>(param_of(node.pop, param_var(static_cast<int>(slot))).values.size());
        params += given > 1.0 ? fraction * given : given;
      }
      add((13.0 * n + params) * value, "population '" + node.name + "': state and parameters of " +
                                           count_text(static_cast<std::int64_t>(std::llround(n))) + " neurons");
      if (split) {  // s (and an edge's source values) of every neuron, gathered each step
        add(static_cast<double>(node.size) * value,
            "population '" + node.name + "': the values of all " + count_text(node.size) + " neurons, gathered");
      }
      if (!node.pop.weights.empty()) {
        // The engine's operator as `auto` chooses it (the graph's float64 copy is counted as
        // allocated already; in float32 the engine holds its own values).
        const WeightsFacts facts = weights_facts(node.pop.weights);
        const CouplingChoice c = choose_coupling(node.name, facts, node.pop.tau_s.is_scalar(), CouplingMode::Auto);
        add(coupling_bytes(rows_share(facts, fraction), c, value),
            "population '" + node.name + "': its weights J (" + (split ? "a rank's rows of " : "") +
                shape(node.size, node.size) + ", " + describe(c) +
                (split && c.events && c.storage == CouplingMode::Sparse
                     ? "; the outgoing lists keep " + count_text(node.size + 1) + " pointers on every rank"
                     : "") +
                ")");
      }
    } else {
      add(2.0 * n * value, "function node '" + node.name + "' (" + count_text(node.size) + " units)");
    }
  }
  for (const Edge& e : graph.edges) {
    const Node& s = graph.nodes[static_cast<std::size_t>(e.source)];
    const Node& t = graph.nodes[static_cast<std::size_t>(e.target)];
    const WeightsFacts facts = weights_facts(e.weights);
    const CouplingChoice c{choose_edge_storage(facts, CouplingMode::Auto), false};
    add(coupling_bytes(rows_share(facts, share(t)), c, value), "edge '" + s.name + "' -> '" + t.name + "' (" + shape(e.weights.rows(), e.weights.cols()) + ")");
    if (e.memory.stateful()) {
      // The buffer and its scratch copy (n x (max delay + 1), or n for a filter alone), the
      // column read, the filter (n x n) and the delays.
      const auto n = static_cast<double>(e.weights.cols());
      const auto columns = static_cast<double>(std::max<std::int64_t>(edge_buffer_columns(e.memory), 1));
      add((2.0 * n * columns + n + static_cast<double>(e.memory.filter.data.size())) * value +
              8.0 * static_cast<double>(e.memory.delays.size()),
          "edge '" + s.name + "' -> '" + t.name + "': its delay buffer and filter");
    }
  }
  return f;
}

void require_memory(const Footprint& need, std::size_t available, const std::string& context,
                    const std::string& where) {
  if (need.bytes <= static_cast<double>(available)) return;
  throw MemoryBudgetError(context + ": the network needs " + format_bytes(need.bytes) + " (" + need.largest +
                          ": " + format_bytes(need.largest_bytes) + ") but " + where + " has " +
                          format_bytes(static_cast<double>(available)) +
                          " available; make it smaller, use float32, or use a larger machine");
}

void require_host_bytes(double bytes, const std::string& what) {
  const std::size_t available = available_host_memory();
  if (bytes <= static_cast<double>(available)) return;
  throw MemoryBudgetError(what + " would take " + format_bytes(bytes) + " but this machine has " +
                          format_bytes(static_cast<double>(available)) + " of memory available");
}

}  // namespace qifsim::detail
