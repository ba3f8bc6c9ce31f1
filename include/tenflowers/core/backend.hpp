#pragma once
// The narrow interface a device backend implements. Kernels are registered per op in the
// OpRegistry (see op_registry.hpp); this class covers memory, copies and synchronization.
#include <memory>
#include <string>

#include "tenflowers/core/device.hpp"
#include "tenflowers/core/memory.hpp"

namespace tenflowers {

// Page-locked ("pinned") host memory, which a backend's devices read by DMA (CUDA: cudaHostAlloc).
// Its storages are ordinary CPU storages whose blocks come from a caching pool; a block that an
// asynchronous copy may still be reading is not handed out again until that copy has run.
class PinnedMemory {
 public:
  virtual ~PinnedMemory() = default;
  virtual std::shared_ptr<Storage> allocate(size_t nbytes) = 0;
  // Queues a copy of nbytes from `src`, inside `storage` (from allocate()), to `dst` on `device`
  // and returns without waiting: the source must not be written until the device has run it.
  virtual void copy_to_device_async(void* dst, Device device, const Storage& storage,
                                    const void* src, size_t nbytes) = 0;
  // Blocks held by storages or by copies still reading them count as in use.
  virtual MemoryStats stats() = 0;
  virtual void release_cache() = 0;
};

// Work a backend recorded during a graph capture (cuda_graph.hpp), replayed as a whole.
class RecordedWork {
 public:
  virtual ~RecordedWork() = default;
  virtual void replay() = 0;  // queues the recorded work on the device, in order
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual DeviceType type() const = 0;
  virtual std::string name() const = 0;
  virtual int device_count() const = 0;
  // The caching pool of device `index`.
  virtual CachingAllocator& pool(int index) = 0;
  // Copies nbytes between two contiguous buffers; one side is on this backend's device type,
  // the other on it or on the CPU. Returns when the destination may be read from the host.
  virtual void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device,
                          size_t nbytes) = 0;
  virtual void synchronize(int index) { (void)index; }
  // The pinned host memory this backend's devices copy from directly; null when it has none.
  virtual PinnedMemory* pinned_memory() { return nullptr; }

  // Graph capture: between begin_capture and end_capture the device's work is recorded instead
  // of run. Backends that cannot record throw UnsupportedError from begin_capture.
  virtual void begin_capture(int index);
  virtual std::unique_ptr<RecordedWork> end_capture(int index);
  // Ends a failed capture and discards what it recorded; safe when none is running.
  virtual void abandon_capture(int index) noexcept { (void)index; }
  virtual bool capturing(int index) const {
    (void)index;
    return false;
  }
};

// Backends are registered by tenflowers::init() (see tenflowers/tenflowers.hpp).
void register_backend(std::unique_ptr<Backend> backend);
bool has_backend(DeviceType type);
// Throws DeviceError when no backend of that type is registered or the index is out of range.
Backend& backend_for(Device device);

// Devices of this type the process can use: 0 when the backend is absent (a build without CUDA,
// or no GPU found).
int device_count(DeviceType type);
// Waits until all work queued on `device` has finished. Ops run asynchronously on a GPU; reading
// a tensor's values (to_vector, item, cpu()) waits by itself, so this is for timing and for
// handing device memory to other code.
void synchronize(Device device);
// Whether a graph capture (cuda_graph.hpp) is recording `device`'s work now.
bool capturing(Device device);

// Whether f32 matmuls on GPUs may round their inputs to TF32 (a 10-bit mantissa) to use the
// tensor cores: off by default, as in PyTorch, so f32 means f32; opt in for speed.
void set_matmul_allow_tf32(bool allow);
bool matmul_allow_tf32();

MemoryStats memory_stats(Device device = Device::cpu());
void reset_peak_memory(Device device = Device::cpu());
void release_cached_memory(Device device = Device::cpu());

// The pinned host memory of the process (Tensor::pin_memory allocates from it). Throws
// DeviceError when no registered backend has one: a build without CUDA, or no GPU found.
PinnedMemory& pinned_memory();
MemoryStats pinned_memory_stats();
// Returns the cached pinned blocks to the system; blocks that a copy may still read stay.
void release_cached_pinned_memory();

}  // namespace tenflowers
