// host/cuda/cuda_resources.hpp - one move-only owner per CUDA resource.
//
// Each is one Handle<H, Release>: created in its constructor (throwing BackendError naming the
// failed call), released in the destructor without throwing, moved but never copied.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <string>
#include <utility>

#include "cuda_error.hpp"
#include "cuda/cuda_libraries.hpp"
#include "qifsim/error.hpp"
#include "core/text.hpp"

namespace qifsim::cuda {

/// Makes `device` the calling thread's current device for its lifetime and restores the
/// previous one (a no-op where they are the same): every entry point of the CUDA engine
/// holds one, so that a call from any thread reaches the engine's own GPU.
class DeviceScope {
 public:
  explicit DeviceScope(int device) {
    QIFSIM_CUDA_TRY(cudaGetDevice(&previous_));
    if (previous_ != device) {
      QIFSIM_CUDA_TRY(cudaSetDevice(device));
      changed_ = true;
    }
  }
  ~DeviceScope() {
    if (changed_) QIFSIM_CUDA_TRY_NOEXCEPT(cudaSetDevice(previous_));
  }
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

 private:
  int previous_ = 0;
  bool changed_ = false;
};

/// The device of an object that owns CUDA resources, current while the owner's members are
/// built and destroyed: declared as the owner's first member, it makes the device current
/// when constructed (release() gives the caller's device back at the end of the owner's
/// constructor), enter() makes it current again in the owner's destructor, and its own
/// destructor, which runs after every other member's, restores the caller's device.
class DeviceAnchor {
 public:
  explicit DeviceAnchor(int device) : device_(device) { enter(); }
  ~DeviceAnchor() { release(); }
  DeviceAnchor(const DeviceAnchor&) = delete;
  DeviceAnchor& operator=(const DeviceAnchor&) = delete;
  void enter() {
    QIFSIM_CUDA_TRY(cudaGetDevice(&previous_));
    if (previous_ != device_) {
      QIFSIM_CUDA_TRY(cudaSetDevice(device_));
      changed_ = true;
    }
  }
  void release() noexcept {
    if (changed_) QIFSIM_CUDA_TRY_NOEXCEPT(cudaSetDevice(previous_));
    changed_ = false;
  }
  int device() const { return device_; }

 private:
  int device_;
  int previous_ = 0;
  bool changed_ = false;
};

/// The one owner of a CUDA handle: move-only, released by Release::release(handle) (which
/// must not throw) when it goes out of scope. Stream, Event, BlasHandle, GraphExec and the
/// buffers below are this template with their own create call.
template <class H, class Release>
class Handle {
 public:
  Handle() = default;
  ~Handle() {
    if (handle_) Release::release(handle_);
  }
  Handle(Handle&& o) noexcept : handle_(std::exchange(o.handle_, H{})) {}
  Handle& operator=(Handle&& o) noexcept {
    std::swap(handle_, o.handle_);  // the old handle goes with `o`
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  H get() const { return handle_; }

 protected:
  H handle_{};
};

struct StreamRelease {
  static void release(cudaStream_t s) noexcept { QIFSIM_CUDA_TRY_NOEXCEPT(cudaStreamDestroy(s)); }
};
struct EventRelease {
  static void release(cudaEvent_t e) noexcept { QIFSIM_CUDA_TRY_NOEXCEPT(cudaEventDestroy(e)); }
};
struct BlasRelease {
  static void release(cublasHandle_t h) noexcept { cublas().cublasDestroy(h); }
};
struct GraphExecRelease {
  static void release(cudaGraphExec_t g) noexcept { QIFSIM_CUDA_TRY_NOEXCEPT(cudaGraphExecDestroy(g)); }
};
struct DeviceFree {
  static void release(void* p) noexcept { QIFSIM_CUDA_TRY_NOEXCEPT(cudaFree(p)); }
};
struct PinnedFree {
  static void release(void* p) noexcept { QIFSIM_CUDA_TRY_NOEXCEPT(cudaFreeHost(p)); }
};

/// A non-blocking stream (nothing runs on the legacy default stream).
class Stream : public Handle<cudaStream_t, StreamRelease> {
 public:
  Stream() { QIFSIM_CUDA_TRY(cudaStreamCreateWithFlags(&handle_, cudaStreamNonBlocking)); }
  void synchronize() const { QIFSIM_CUDA_TRY(cudaStreamSynchronize(handle_)); }
};

/// An event without timing, for ordering streams.
class Event : public Handle<cudaEvent_t, EventRelease> {
 public:
  Event() { QIFSIM_CUDA_TRY(cudaEventCreateWithFlags(&handle_, cudaEventDisableTiming)); }
  void record(cudaStream_t stream) { QIFSIM_CUDA_TRY(cudaEventRecord(handle_, stream)); }
  /// Make `stream` wait for the work recorded in this event.
  void wait_in(cudaStream_t stream) const { QIFSIM_CUDA_TRY(cudaStreamWaitEvent(stream, handle_, 0)); }
  void synchronize() const { QIFSIM_CUDA_TRY(cudaEventSynchronize(handle_)); }
};

/// A cuBLAS handle.
class BlasHandle : public Handle<cublasHandle_t, BlasRelease> {
 public:
  BlasHandle() { QIFSIM_CUBLAS_TRY(cublas().cublasCreate(&handle_)); }
};

/// Throws BackendError for a failed allocation, saying how much was asked and is free.
[[noreturn]] void throw_allocation_error(cudaError_t error, const char* what, std::size_t bytes);

/// Memory for n values of T, owned as one Handle (released by DeviceFree or PinnedFree).
template <class T, class Release>
class Buffer : public Handle<void*, Release> {
 public:
  Buffer() = default;
  T* data() { return static_cast<T*>(this->handle_); }
  const T* data() const { return static_cast<const T*>(this->handle_); }
  std::size_t size() const { return size_; }
  std::size_t bytes() const { return size_ * sizeof(T); }
  Buffer(Buffer&& o) noexcept { *this = std::move(o); }  // swaps with an empty buffer
  Buffer& operator=(Buffer&& o) noexcept {
    std::swap(size_, o.size_);  // first: `o` is not used once moved from
    Handle<void*, Release>::operator=(std::move(o));
    return *this;
  }

 protected:
  std::size_t size_ = 0;
};

/// Device memory for n values of T (uninitialised).
template <class T>
class DeviceBuffer : public Buffer<T, DeviceFree> {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t n) {
    this->size_ = n;
    if (n == 0) return;
    const cudaError_t e = cudaMalloc(&this->handle_, n * sizeof(T));
    if (e != cudaSuccess) throw_allocation_error(e, "cudaMalloc", n * sizeof(T));
  }
};

/// Page-locked host memory for n values of T, the end point of asynchronous copies.
template <class T>
class PinnedBuffer : public Buffer<T, PinnedFree> {
 public:
  PinnedBuffer() = default;
  explicit PinnedBuffer(std::size_t n) {
    this->size_ = n;
    if (n == 0) return;
    const cudaError_t e = cudaMallocHost(&this->handle_, n * sizeof(T));
    if (e != cudaSuccess) throw_allocation_error(e, "cudaMallocHost", n * sizeof(T));
  }
};

/// An instantiated CUDA Graph, replayed with launch().
class GraphExec : public Handle<cudaGraphExec_t, GraphExecRelease> {
 public:
  GraphExec() = default;
  /// Instantiate `graph` (and destroy the graph description).
  explicit GraphExec(cudaGraph_t graph) {
    const cudaError_t e = cudaGraphInstantiate(&handle_, graph, 0);
    cudaGraphDestroy(graph);
    if (e != cudaSuccess) throw_cuda_error(e, "cudaGraphInstantiate", __FILE__, __LINE__);
  }
  bool valid() const { return handle_ != nullptr; }
  void launch(cudaStream_t stream) const { QIFSIM_CUDA_TRY(cudaGraphLaunch(handle_, stream)); }
};

}  // namespace qifsim::cuda
