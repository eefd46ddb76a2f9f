// qifsim/device.hpp - is a GPU usable by this build of qifsim?
#pragma once

#include <string>

namespace qifsim {

/// Whether the CUDA backend can run here, and what it would run on or why not.
struct DeviceStatus {
  bool usable = false;
  std::string description;  ///< "NVIDIA H100 80GB HBM3 (sm_90, 79.1 GiB)" or the reason
};

/// Probe GPU `device` (cudaGetDeviceCount's return code is checked; the reason is said in
/// plain words: no NVIDIA GPU, no or too old a driver, no such device). In a build without
/// CUDA the answer is "qifsim was built without CUDA".
DeviceStatus cuda_device_status(int device = 0);

/// Number of usable CUDA devices (0 without CUDA, a driver or a GPU).
int cuda_device_count();

/// True when this build contains the CUDA backend.
bool built_with_cuda();

}  // namespace qifsim
