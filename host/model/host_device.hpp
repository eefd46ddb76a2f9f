// host/model/host_device.hpp - QIFSIM_HD marks code compiled for both the CPU and the GPU.
#pragma once

#if defined(__CUDACC__)
#define QIFSIM_HD __host__ __device__
#else
#define QIFSIM_HD
#endif

// A small function of a vector loop's body, always inlined (the loop vectorises only then).
#if defined(__CUDACC__)
#define QIFSIM_HD_INLINE __host__ __device__ __forceinline__
#elif defined(__GNUC__)
#define QIFSIM_HD_INLINE __attribute__((always_inline)) inline
#else
#define QIFSIM_HD_INLINE inline
#endif
