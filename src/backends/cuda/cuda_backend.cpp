// The CUDA backend: device memory from cudaMalloc behind the core caching pool, transfers
// through pinned staging buffers (or straight from pinned tensors, pinned_memory.cpp), and
// synchronization. Every device's work is ordered on its
// one compute stream (runtime.hpp), so a block the pool hands out again is only touched by
// work queued after the work that used it before: the pool needs no events. Graph capture
// records that stream (cuda_graph.hpp): uploads then read snapshots the graph owns, and calls
// that would block the host are refused.
#include <algorithm>
#include <cstring>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "src/backends/cuda/pinned_memory.hpp"
#include "src/backends/cuda/register.hpp"
#include "src/backends/cuda/runtime.hpp"
#include "tenflowers/core/backend.hpp"
#include "tenflowers/core/error.hpp"

namespace tenflowers::cuda {
namespace {

class DeviceAllocator final : public RawAllocator {
 public:
  explicit DeviceAllocator(int index) : index_(index) {}
  void* allocate(size_t nbytes) override {
    use_device(index_);
    void* ptr = nullptr;
    RelaxedCaptureMode relaxed;  // a capture's pool may need fresh memory; it is not recorded
    check(cudaMalloc(&ptr, nbytes),
          "cudaMalloc of " + std::to_string(nbytes) + " bytes on " + Device::cuda(index_).str());
    return ptr;
  }
  void deallocate(void* ptr, size_t) override {
    use_device(index_);
    const cudaError_t status = cudaFree(ptr);
    // At process exit the runtime may unload before the pools are destroyed; the driver frees
    // the memory then anyway.
    if (status == cudaErrorCudartUnloading) return;
    check(status, "cudaFree");
  }
  Device device() const override { return Device::cuda(index_); }

 private:
  int index_;
};

// Host-to-device copies go through pinned buffers, so copy_bytes returns as soon as the DMA is
// queued (the caller may free or change its host buffer right away). Large copies alternate
// between two 8 MiB buffers, the source copied into one while the other's DMA runs. Small ones
// (scalars made by `x * 1.5`, shapes, labels) take the next of many small slots: a slot is only
// reused long after its DMA ran, so they almost never wait for the device.
// During a graph capture a slot would be read at every replay, long after it was reused: each
// upload then copies the bytes into pinned memory of its own (a snapshot), which the graph keeps.
class PinnedStaging {
 public:
  static constexpr size_t kChunk = size_t{8} << 20;
  static constexpr size_t kSmall = 4096;
  static constexpr size_t kSmallSlots = 512;

  ~PinnedStaging() {
    // At exit, only the snapshots of graphs destroyed during a capture can remain.
    for (void* p : retired_) cudaFreeHost(p);
  }

  void host_to_device(void* dst, const void* src, size_t nbytes, cudaStream_t stream) {
    std::lock_guard lock(mutex_);
    if (capturing(stream)) {
      void* snapshot = nullptr;
      {
        RelaxedCaptureMode relaxed;
        check(cudaHostAlloc(&snapshot, std::max<size_t>(nbytes, 1), cudaHostAllocDefault),
              "cudaHostAlloc (snapshot of an upload during a graph capture)");
      }
      snapshots_.push_back(snapshot);
      std::memcpy(snapshot, src, nbytes);
      check(cudaMemcpyAsync(dst, snapshot, nbytes, cudaMemcpyHostToDevice, stream),
            "cudaMemcpyAsync (host to device)");
      return;
    }
    if (buffers_.empty()) {
      buffers_ = make_buffers(2, kChunk);
      small_ = make_buffers(kSmallSlots, kSmall);
    }
    for (size_t done = 0; done < nbytes; done += kChunk) {
      const size_t n = std::min(kChunk, nbytes - done);
      Buffer& b = n <= kSmall ? small_[next_small_++ % kSmallSlots] : buffers_[next_++ % 2];
      check(cudaEventSynchronize(b.done), "waiting for a staging buffer");
      std::memcpy(b.data, static_cast<const char*>(src) + done, n);
      check(cudaMemcpyAsync(static_cast<char*>(dst) + done, b.data, n, cudaMemcpyHostToDevice,
                            stream),
            "cudaMemcpyAsync (host to device)");
      check(cudaEventRecord(b.done, stream), "cudaEventRecord");
    }
  }

 private:
  struct Buffer {
    void* data = nullptr;
    cudaEvent_t done = nullptr;
  };
  static std::vector<Buffer> make_buffers(size_t count, size_t bytes) {
    std::vector<Buffer> made(count);
    char* block = nullptr;
    check(cudaHostAlloc(reinterpret_cast<void**>(&block), count * bytes, cudaHostAllocDefault),
          "cudaHostAlloc");
    for (size_t i = 0; i < count; ++i) {
      made[i].data = block + i * bytes;
      check(cudaEventCreateWithFlags(&made[i].done, cudaEventDisableTiming), "cudaEventCreate");
    }
    return made;
  }
  std::mutex mutex_;
  std::vector<Buffer> buffers_, small_;
  size_t next_ = 0, next_small_ = 0;
  std::vector<void*> snapshots_;  // of the running capture
  std::vector<void*> retired_;    // of destroyed graphs, freed when no capture runs

 public:
  // The snapshots the running capture made, now owned by the caller (retire them).
  std::vector<void*> take_snapshots() {
    std::lock_guard lock(mutex_);
    return std::exchange(snapshots_, {});
  }
  // Frees `snapshots` once the work queued on `stream` (a replay may read them) has finished;
  // during a capture that wait is illegal, so they are kept until a later call.
  void retire(std::vector<void*> snapshots, cudaStream_t stream) {
    std::lock_guard lock(mutex_);
    retired_.insert(retired_.end(), snapshots.begin(), snapshots.end());
    if (retired_.empty() || capturing(stream)) return;
    check(cudaStreamSynchronize(stream), "waiting for the last replay of a graph");
    for (void* p : retired_) check(cudaFreeHost(p), "cudaFreeHost");
    retired_.clear();
  }
};

// A captured CUDA graph, instantiated, with the snapshots its uploads read.
class CudaRecordedWork final : public RecordedWork {
 public:
  CudaRecordedWork(int device, cudaGraph_t graph, std::vector<void*> snapshots,
                   PinnedStaging& staging)
      : device_(device), graph_(graph), snapshots_(std::move(snapshots)), staging_(staging) {
    const cudaError_t status = cudaGraphInstantiate(&exec_, graph_, 0);
    if (status != cudaSuccess) {
      release();
      check(status, "cudaGraphInstantiate");
    }
  }
  ~CudaRecordedWork() override {
    try {
      release();
    } catch (const TensorError&) {
      // A device fault surfacing here is reported by the next call that checks.
    }
  }
  void replay() override { check(cudaGraphLaunch(exec_, use_device(device_)), "cudaGraphLaunch"); }

 private:
  void release() {
    // An executable graph still running is freed by the driver when it finishes.
    if (exec_) cudaGraphExecDestroy(exec_);
    if (graph_) cudaGraphDestroy(graph_);
    exec_ = nullptr;
    graph_ = nullptr;
    staging_.retire(std::exchange(snapshots_, {}), use_device(device_));
  }
  int device_;
  cudaGraph_t graph_;
  cudaGraphExec_t exec_ = nullptr;
  std::vector<void*> snapshots_;
  PinnedStaging& staging_;
};

class CudaBackend final : public Backend {
 public:
  CudaBackend() : pinned_(make_pinned_memory(visible_device_count())) {
    for (int i = 0; i < visible_device_count(); ++i) {
      // Freed blocks stay cached up to the device's memory: cudaFree synchronizes the device, so
      // returning blocks is left to out-of-memory retries and release_cached_memory().
      pools_.push_back(std::make_unique<CachingAllocator>(std::make_unique<DeviceAllocator>(i),
                                                          properties(i).totalGlobalMem));
      staging_.push_back(std::make_unique<PinnedStaging>());
    }
  }
  DeviceType type() const override { return DeviceType::CUDA; }
  std::string name() const override { return "cuda"; }
  int device_count() const override { return static_cast<int>(pools_.size()); }
  CachingAllocator& pool(int index) override { return *pools_.at(static_cast<size_t>(index)); }

  void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device,
                  size_t nbytes) override {
    if (dst_device.is_cuda() && src_device.is_cpu()) {
      staging_.at(static_cast<size_t>(dst_device.index))
          ->host_to_device(dst, src, nbytes, use_device(dst_device.index));
    } else if (dst_device.is_cpu() && src_device.is_cuda()) {
      refuse_during_capture(src_device.index,
                            "copying device memory to the host (item, to_vector, cpu)");
      const cudaStream_t stream = use_device(src_device.index);
      check(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToHost, stream),
            "cudaMemcpyAsync (device to host)");
      check(cudaStreamSynchronize(stream), "synchronizing " + src_device.str());
    } else if (dst_device == src_device) {
      check(
          cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToDevice, use_device(dst_device.index)),
          "cudaMemcpyAsync (device to device)");
    } else if (dst_device.is_cuda() && src_device.is_cuda()) {
      // The source's pending writes finish first; the copy is then ordered on the target.
      refuse_during_capture(dst_device.index, "a copy between devices");
      synchronize(src_device.index);
      check(cudaMemcpyPeerAsync(dst, dst_device.index, src, src_device.index, nbytes,
                                use_device(dst_device.index)),
            "cudaMemcpyPeerAsync");
    } else {
      throw DeviceError("the CUDA backend cannot copy between " + src_device.str() + " and " +
                        dst_device.str());
    }
  }

  void synchronize(int index) override {
    refuse_during_capture(index, "synchronize");
    check(cudaStreamSynchronize(use_device(index)), "synchronizing " + Device::cuda(index).str());
  }

  PinnedMemory* pinned_memory() override { return pinned_.get(); }

  // Thread-local mode: calls this thread makes that capture counts as unsafe invalidate it (and
  // are reported), while other threads keep using other devices.
  void begin_capture(int index) override {
    const cudaStream_t stream = use_device(index);
    TF_CHECK(!cuda::capturing(stream), InvalidArgument, "a graph capture is already running on ",
             Device::cuda(index).str(), " (captures do not nest)");
    check(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal),
          "cudaStreamBeginCapture");
  }

  std::unique_ptr<RecordedWork> end_capture(int index) override {
    PinnedStaging& staging = *staging_.at(static_cast<size_t>(index));
    const cudaStream_t stream = use_device(index);
    cudaGraph_t graph = nullptr;
    const cudaError_t status = cudaStreamEndCapture(stream, &graph);
    std::vector<void*> snapshots = staging.take_snapshots();
    if (status != cudaSuccess || !graph) {
      if (graph) cudaGraphDestroy(graph);
      staging.retire(std::move(snapshots), stream);
      check(status == cudaSuccess ? cudaErrorStreamCaptureInvalidated : status,
            "cudaStreamEndCapture (the capture was invalidated by a call that may not run during "
            "it, such as one from a library that synchronizes)");
    }
    return std::make_unique<CudaRecordedWork>(index, graph, std::move(snapshots), staging);
  }

  void abandon_capture(int index) noexcept override {
    try {
      const cudaStream_t stream = use_device(index);
      cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
      if (cudaStreamIsCapturing(stream, &status) == cudaSuccess &&
          status != cudaStreamCaptureStatusNone) {
        cudaGraph_t graph = nullptr;
        cudaStreamEndCapture(stream, &graph);
        if (graph) cudaGraphDestroy(graph);
      }
      cudaGetLastError();  // the abandoned capture's error is not the next call's
      PinnedStaging& staging = *staging_.at(static_cast<size_t>(index));
      staging.retire(staging.take_snapshots(), stream);
    } catch (const TensorError&) {
      // Runs on an error path: leaking a snapshot beats replacing the error being raised.
    }
  }

  bool capturing(int index) const override { return cuda::capturing(use_device(index)); }

 private:
  std::unique_ptr<PinnedMemory> pinned_;
  std::vector<std::unique_ptr<CachingAllocator>> pools_;
  std::vector<std::unique_ptr<PinnedStaging>> staging_;
};

}  // namespace

bool register_cuda_backend(OpRegistry& r) {
  if (visible_device_count() == 0) return false;
  register_backend(std::make_unique<CudaBackend>());
  register_cuda_elementwise_kernels(r);
  register_cuda_linalg_kernels(r);
  register_cuda_linear_kernels(r);
  register_cuda_optimizer_kernels(r);
  register_cuda_conv_kernels(r);
  register_cuda_pool_kernels(r);
  register_cuda_fused_kernels(r);
  register_cuda_reduction_kernels(r);
  register_cuda_index_kernels(r);
  register_cuda_shape_kernels(r);
  register_cuda_creation_kernels(r);
  register_cuda_random_kernels(r);
  register_cuda_normalization_kernels(r);
  register_cuda_batch_norm_kernels(r);
  return true;
}

}  // namespace tenflowers::cuda
