// host/core/memory_check.hpp - will a network fit? Checked before anything large is allocated,
// so that a size typed one digit too long is a clear error and not the kernel's OOM killer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/graph.hpp"
#include "qifsim/types.hpp"

namespace qifsim::detail {

/// Bytes of host memory available to this process now: the kernel's MemAvailable (or the
/// free physical pages where that is unknown), lowered to what is left of RLIMIT_AS (the limit
/// less the address space mapped now) where one is set.
std::size_t available_host_memory();

/// Bytes free on CUDA device `device` (0 when it is not usable or there is no CUDA in this build).
std::size_t available_device_memory(int device);

/// a * b for sizes and counts; InvalidArgument naming `what` when it does not fit in int64.
std::int64_t checked_product(std::int64_t a, std::int64_t b, const std::string& what);

/// What an engine for `graph` allocates: its total and its largest single part.
struct Footprint {
  double bytes = 0.0;
  double largest_bytes = 0.0;
  std::string largest;  ///< "population 'qif': J (N x N)", "population 'qif': state of 1e9 neurons"
};
/// `ranks` > 1: what rank `rank` of a network split over `ranks` ranks allocates (its neurons of
/// partition_range, its share of each J and of the edges into them, the whole s it gathers, and
/// the event lists' pointers, one per neuron of the whole population on every rank).
Footprint engine_footprint(const Graph& graph, Precision precision, int ranks = 1, int rank = 0);

/// Refuse (MemoryBudgetError) an engine whose footprint exceeds `available` bytes; the
/// message names the largest part, the total and `where` ("this machine's memory", ...).
void require_memory(const Footprint& need, std::size_t available, const std::string& context,
                    const std::string& where);

/// Refuse (MemoryBudgetError) to copy `bytes` of `what` when the host cannot hold them.
void require_host_bytes(double bytes, const std::string& what);

}  // namespace qifsim::detail
