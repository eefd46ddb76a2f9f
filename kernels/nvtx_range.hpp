// kernels/nvtx_range.hpp - a named NVTX range for as long as the object lives, so that a
// profiler (Nsight Systems) shows where a run spends its time: the run, its input chunks, its
// sample drains and each kernel launcher. NVTX 3 is header-only and ships with the toolkit;
// without a profiler attached a range costs a few nanoseconds.
#pragma once

#include <nvtx3/nvToolsExt.h>

namespace qifsim::cuda {

class NvtxRange {
 public:
  explicit NvtxRange(const char* name) { nvtxRangePushA(name); }
  ~NvtxRange() { nvtxRangePop(); }
  NvtxRange(const NvtxRange&) = delete;
  NvtxRange& operator=(const NvtxRange&) = delete;
};

}  // namespace qifsim::cuda
