#include "tenflowers/core/cuda_graph.hpp"

#include <map>
#include <mutex>
#include <vector>

#include "tenflowers/core/backend.hpp"
#include "tenflowers/core/error.hpp"

namespace tenflowers {

namespace {
using Callbacks = std::vector<std::function<void()>>;
}  // namespace

struct CudaGraph::State {
  Device device;
  uint64_t pool_id = 0;  // 0: none yet
  std::unique_ptr<RecordedWork> work;
  Callbacks before_replay;

  // The graph first, then its pool: no replay is queued after this.
  ~State() {
    work.reset();
    if (pool_id != 0) backend_for(device).pool(device.index).release_graph_pool(pool_id);
  }
};

namespace {

// The callbacks of the graphs being captured, by CUDA device, for before_each_replay. A capture
// belongs to the thread that runs it, so the map is per thread.
std::map<int, Callbacks*>& captures() {
  thread_local std::map<int, Callbacks*> running;
  return running;
}

}  // namespace

CudaGraph::CudaGraph(std::unique_ptr<State> state) : state_(std::move(state)) {}
CudaGraph::CudaGraph(CudaGraph&&) noexcept = default;
CudaGraph& CudaGraph::operator=(CudaGraph&&) noexcept = default;

CudaGraph::~CudaGraph() = default;

CudaGraph CudaGraph::capture(Device device, const std::function<void()>& fn) {
  Backend& backend = backend_for(device);
  CachingAllocator& pool = backend.pool(device.index);
  auto state = std::make_unique<State>();
  state->device = device;
  backend.begin_capture(device.index);  // throws for devices that cannot record
  try {
    state->pool_id = pool.begin_graph_pool();
  } catch (...) {
    backend.abandon_capture(device.index);
    throw;
  }
  captures()[device.index] = &state->before_replay;
  try {
    fn();
    state->work = backend.end_capture(device.index);
  } catch (...) {
    // Unwinding destroys `state`, which releases the pool.
    captures().erase(device.index);
    backend.abandon_capture(device.index);
    pool.end_graph_pool();
    throw;
  }
  captures().erase(device.index);
  pool.end_graph_pool();
  return CudaGraph(std::move(state));
}

void CudaGraph::replay() {
  TF_CHECK(state_, InvalidArgument, "replay of a moved-from CudaGraph");
  TF_CHECK(!capturing(state_->device), UnsupportedError,
           "replaying a CUDA graph during a capture on ", state_->device.str(),
           " (replay it before or after the capture)");
  for (const auto& fn : state_->before_replay) fn();
  state_->work->replay();
}

Device CudaGraph::device() const {
  TF_CHECK(state_, InvalidArgument, "device of a moved-from CudaGraph");
  return state_->device;
}

void CudaGraph::before_each_replay(Device device, std::function<void()> fn) {
  const auto it = captures().find(device.index);
  TF_CHECK(device.is_cuda() && it != captures().end(), InvalidArgument,
           "before_each_replay needs a graph capture running on ", device.str(), " in this thread");
  it->second->push_back(std::move(fn));
}

}  // namespace tenflowers
