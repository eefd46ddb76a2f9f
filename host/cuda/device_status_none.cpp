// host/cuda/device_status_none.cpp - device probing in a build without CUDA.
#include "core/memory_check.hpp"
#include "qifsim/device.hpp"

namespace qifsim {

DeviceStatus cuda_device_status(int) { return {false, "qifsim was built without CUDA"}; }
int cuda_device_count() { return 0; }
bool built_with_cuda() { return false; }

namespace detail {
std::size_t available_device_memory(int) { return 0; }
}  // namespace detail

}  // namespace qifsim
