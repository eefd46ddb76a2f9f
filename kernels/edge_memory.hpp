// kernels/edge_memory.hpp - an edge's state on the GPU (launcher side): RectiPy's delays
// (LinearMemory), filter (LinearFilter) and both (LinearMemoryFilter), advanced once per step
// with the same arithmetic, in the same order, as the CPU engine's edge_input.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace qifsim::kernels {

/// One edge's state and settings, all in device memory.
template <class T>
struct EdgeMemoryArgs {
  std::int64_t n = 0;                    ///< source width
  std::int64_t columns = 0;              ///< max delay + 1; 0: a filter alone (y <- F y + x)
  const std::int64_t* delays = nullptr;  ///< n delays in steps (columns > 0)
  const T* filter = nullptr;             ///< n x n, row-major, or null
  bool rectipy_write = false;            ///< input j into column delays[j] of every row
  T* buffer = nullptr;                   ///< n x columns by source unit (or y: n values)
  T* scratch = nullptr;                  ///< as many values as buffer
  T* read = nullptr;                     ///< n values: the column the weights read
  std::int64_t* advances = nullptr;      ///< steps since the state was set; head = advances % columns
};

/// Advances the edge's state one step with the source's output x (n values) on `stream` and
/// returns what the weights read this step: `buffer` for a filter alone, else `read`. With
/// delays: logical column c of the buffer is physical column (head + c) % columns; the head
/// moves one column (RectiPy's roll by -1), F multiplies every column (with a filter), x goes
/// into column delays[j] of row j (of every row with rectipy_write; j ascending, so the last
/// unit wins where delays coincide) and column 0 is read. Products sum k = 0, 1, ... from 0 as
/// the CPU does. No host synchronisation: a CUDA Graph can capture it.
template <class T>
const T* launch_edge_memory_step(const EdgeMemoryArgs<T>& args, const T* x, cudaStream_t stream);

}  // namespace qifsim::kernels
