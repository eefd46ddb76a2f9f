// src/cuda/cuda_resources.hpp - one move-only owner per CUDA resource.
//
// Each class creates its resource in the constructor (throwing BackendError naming the
// failed call) and releases it in the destructor without throwing.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <string>
#include <utility>

#include "cuda_error.hpp"
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

/// A non-blocking stream (nothing runs on the legacy default stream).
class Stream {
 public:
  Stream() { QIFSIM_CUDA_TRY(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking)); }
  ~Stream() {
    if (stream_) QIFSIM_CUDA_TRY_NOEXCEPT(cudaStreamDestroy(stream_));
  }
  Stream(Stream&& o) noexcept : stream_(std::exchange(o.stream_, nullptr)) {}
  Stream& operator=(Stream&& o) noexcept { std::swap(stream_, o.stream_); return *this; }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  cudaStream_t get() const { return stream_; }
  void synchronize() const { QIFSIM_CUDA_TRY(cudaStreamSynchronize(stream_)); }

 private:
  cudaStream_t stream_ = nullptr;
};

/// An event without timing, for ordering streams.
class Event {
 public:
  Event() { QIFSIM_CUDA_TRY(cudaEventCreateWithFlags(&event_, cudaEventDisableTiming)); }
  ~Event() {
    if (event_) QIFSIM_CUDA_TRY_NOEXCEPT(cudaEventDestroy(event_));
  }
  Event(Event&& o) noexcept : event_(std::exchange(o.event_, nullptr)) {}
  Event& operator=(Event&& o) noexcept { std::swap(event_, o.event_); return *this; }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  cudaEvent_t get() const { return event_; }
  void record(cudaStream_t stream) { QIFSIM_CUDA_TRY(cudaEventRecord(event_, stream)); }
  /// Make `stream` wait for the work recorded in this event.
  void wait_in(cudaStream_t stream) const { QIFSIM_CUDA_TRY(cudaStreamWaitEvent(stream, event_, 0)); }
  void synchronize() const { QIFSIM_CUDA_TRY(cudaEventSynchronize(event_)); }

 private:
  cudaEvent_t event_ = nullptr;
};

/// A cuBLAS handle.
class BlasHandle {
 public:
  BlasHandle() { QIFSIM_CUBLAS_TRY(cublasCreate(&handle_)); }
  ~BlasHandle() {
    if (handle_) cublasDestroy(handle_);
  }
  BlasHandle(BlasHandle&& o) noexcept : handle_(std::exchange(o.handle_, nullptr)) {}
  BlasHandle& operator=(BlasHandle&& o) noexcept { std::swap(handle_, o.handle_); return *this; }
  BlasHandle(const BlasHandle&) = delete;
  BlasHandle& operator=(const BlasHandle&) = delete;
  cublasHandle_t get() const { return handle_; }

 private:
  cublasHandle_t handle_ = nullptr;
};

/// Throws BackendError for a failed allocation, saying how much was asked and is free.
[[noreturn]] void throw_allocation_error(cudaError_t error, const char* what, std::size_t bytes);

/// Device memory for n values of T (uninitialised).
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t n) : size_(n) {
    if (n == 0) return;
    const cudaError_t e = cudaMalloc(reinterpret_cast<void**>(&data_), n * sizeof(T));
    if (e != cudaSuccess) throw_allocation_error(e, "cudaMalloc", n * sizeof(T));
  }
  ~DeviceBuffer() {
    if (data_) QIFSIM_CUDA_TRY_NOEXCEPT(cudaFree(data_));
  }
  DeviceBuffer(DeviceBuffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  T* data() { return data_; }
  const T* data() const { return data_; }
  std::size_t size() const { return size_; }
  std::size_t bytes() const { return size_ * sizeof(T); }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

/// Page-locked host memory for n values of T, the end point of asynchronous copies.
template <class T>
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  explicit PinnedBuffer(std::size_t n) : size_(n) {
    if (n == 0) return;
    const cudaError_t e = cudaMallocHost(reinterpret_cast<void**>(&data_), n * sizeof(T));
    if (e != cudaSuccess) throw_allocation_error(e, "cudaMallocHost", n * sizeof(T));
  }
  ~PinnedBuffer() {
    if (data_) QIFSIM_CUDA_TRY_NOEXCEPT(cudaFreeHost(data_));
  }
  PinnedBuffer(PinnedBuffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  PinnedBuffer& operator=(PinnedBuffer&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    return *this;
  }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  T* data() { return data_; }
  const T* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

/// An instantiated CUDA Graph, replayed with launch().
class GraphExec {
 public:
  GraphExec() = default;
  /// Instantiate `graph` (and destroy the graph description).
  explicit GraphExec(cudaGraph_t graph) {
    const cudaError_t e = cudaGraphInstantiate(&exec_, graph, 0);
    cudaGraphDestroy(graph);
    if (e != cudaSuccess) throw_cuda_error(e, "cudaGraphInstantiate", __FILE__, __LINE__);
  }
  ~GraphExec() {
    if (exec_) QIFSIM_CUDA_TRY_NOEXCEPT(cudaGraphExecDestroy(exec_));
  }
  GraphExec(GraphExec&& o) noexcept : exec_(std::exchange(o.exec_, nullptr)) {}
  GraphExec& operator=(GraphExec&& o) noexcept { std::swap(exec_, o.exec_); return *this; }
  GraphExec(const GraphExec&) = delete;
  GraphExec& operator=(const GraphExec&) = delete;
  bool valid() const { return exec_ != nullptr; }
  void launch(cudaStream_t stream) const { QIFSIM_CUDA_TRY(cudaGraphLaunch(exec_, stream)); }

 private:
  cudaGraphExec_t exec_ = nullptr;
};

}  // namespace qifsim::cuda
