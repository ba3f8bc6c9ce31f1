#include "tenflowers/core/backend.hpp"

#include <array>
#include <atomic>
#include <mutex>

#include "tenflowers/core/error.hpp"

namespace tenflowers {

void store_default_device(Device device);  // device.cpp

namespace {
std::array<std::unique_ptr<Backend>, kNumDeviceTypes>& backends() {
  static std::array<std::unique_ptr<Backend>, kNumDeviceTypes> table;
  return table;
}
std::mutex g_backend_mutex;
std::atomic<bool> g_allow_tf32{false};
}  // namespace

void set_matmul_allow_tf32(bool allow) {
  g_allow_tf32.store(allow, std::memory_order_relaxed);
}
bool matmul_allow_tf32() {
  return g_allow_tf32.load(std::memory_order_relaxed);
}

void register_backend(std::unique_ptr<Backend> backend) {
  std::lock_guard lock(g_backend_mutex);
  auto& slot = backends()[static_cast<int>(backend->type())];
  if (!slot) slot = std::move(backend);
}

bool has_backend(DeviceType type) {
  return backends()[static_cast<int>(type)] != nullptr;
}

Backend& backend_for(Device device) {
  Backend* backend = backends()[static_cast<int>(device.type)].get();
  if (!backend) {
    throw DeviceError("no backend is registered for device " + device.str() +
                      (device.is_cpu()
                           ? std::string("; include <tenflowers/tenflowers.hpp> or call "
                                         "tenflowers::init() first")
                           : std::string("; this build has no CUDA support or no GPU "
                                         "was found")));
  }
  if (device.index < 0 || device.index >= backend->device_count()) {
    throw DeviceError("device " + device.str() + " does not exist; " + backend->name() + " has " +
                      std::to_string(backend->device_count()) + " device(s)");
  }
  return *backend;
}

void set_default_device(Device device) {
  backend_for(device);  // validates
  store_default_device(device);
}

int device_count(DeviceType type) {
  const Backend* backend = backends()[static_cast<int>(type)].get();
  return backend ? backend->device_count() : 0;
}

void synchronize(Device device) {
  backend_for(device).synchronize(device.index);
}

bool capturing(Device device) {
  return !device.is_cpu() && backend_for(device).capturing(device.index);
}

void Backend::begin_capture(int index) {
  throw UnsupportedError("graph capture is not supported on " + Device{type(), index}.str() +
                         " (expected a CUDA device)");
}

std::unique_ptr<RecordedWork> Backend::end_capture(int index) {
  throw InternalError("end_capture on " + Device{type(), index}.str() +
                      ", which never began a capture");
}

MemoryStats memory_stats(Device device) {
  return backend_for(device).pool(device.index).stats();
}
void reset_peak_memory(Device device) {
  backend_for(device).pool(device.index).reset_peak();
}
void release_cached_memory(Device device) {
  backend_for(device).pool(device.index).release_cache();
}

PinnedMemory& pinned_memory() {
  for (const std::unique_ptr<Backend>& backend : backends()) {
    if (PinnedMemory* pinned = backend ? backend->pinned_memory() : nullptr) return *pinned;
  }
  throw DeviceError(
      "pinned (page-locked) host memory needs a CUDA device, and this process has none (a build "
      "without CUDA, or no GPU found); use ordinary CPU tensors here");
}
MemoryStats pinned_memory_stats() {
  return pinned_memory().stats();
}
void release_cached_pinned_memory() {
  pinned_memory().release_cache();
}

}  // namespace tenflowers
