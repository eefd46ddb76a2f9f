// host/model/host_device.hpp - QIFSIM_HD marks code compiled for both the CPU and the GPU.
#pragma once

#if defined(__CUDACC__)
#define QIFSIM_HD __host__ __device__
#else
#define QIFSIM_HD
#endif
