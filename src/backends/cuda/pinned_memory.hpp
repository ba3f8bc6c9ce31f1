#pragma once
// The CUDA backend's pinned host memory (PinnedMemory in tenflowers/core/backend.hpp): one pool
// for the process, shared by every device.
#include <memory>

#include "tenflowers/core/backend.hpp"

namespace tenflowers::cuda {

std::unique_ptr<PinnedMemory> make_pinned_memory(int device_count);

}  // namespace tenflowers::cuda
