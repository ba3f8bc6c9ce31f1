#pragma once
// CudaGraph: records the device work of a function once (CUDA stream capture) and replays it
// with one launch, like torch.cuda.CUDAGraph. For launch-bound steps (small batches, many small
// kernels) a replay costs one launch instead of hundreds.
//
//   tf::Tensor x = tf::zeros({32, 784}, tf::DType::F32, gpu);  // static input, filled in place
//   train_step(x);                                  // warm-up: compiles, searches, makes slots
//   tf::CudaGraph step = tf::CudaGraph::capture(gpu, [&] { loss = train_step(x); });
//   for (...) { tf::copy_into(x, next_batch); step.replay(); }   // loss is rewritten each time
//
// Rules:
// - Warm up: run the function once eagerly before capturing, so that cuDNN's algorithm search,
//   NVRTC compilations, library handles and optimizer slots happen outside the capture.
// - Static shapes and addresses: a replay reruns the recorded kernels on the recorded memory.
//   Inputs are tensors made before the capture and refilled in place (copy_into); tensors made
//   during the capture (the loss, gradients) keep their memory and are rewritten by every
//   replay. Host code in the function runs once, at capture: its decisions and host values are
//   frozen (use an optimizer with `capturable`, which keeps its step on the device).
// - No host reads or synchronization inside: item(), to_vector(), cpu(), synchronize(), ops
//   whose output size depends on values (masked_select, nonzero), clipping by norm, random ops
//   (their seed would repeat) and cuDNN searches for unseen shapes throw UnsupportedError
//   naming what was attempted; the capture is then abandoned and the process stays usable.
// - Tensors the recorded work reads (variables, slots, static inputs) must outlive the graph.
//   Memory the capture allocates comes from a pool reserved for the graph, returned when the
//   graph and the tensors the capture made are gone.
// - One capture at a time per device; while it runs, only the capturing thread may use the
//   device.
#include <functional>
#include <memory>

#include "tenflowers/core/device.hpp"

namespace tenflowers {

class CudaGraph {
 public:
  // Runs fn with `device`'s work recorded instead of run, and returns the graph. Throws
  // UnsupportedError for a device that cannot record (the CPU) and whatever fn or the capture
  // raises, after abandoning the capture.
  static CudaGraph capture(Device device, const std::function<void()>& fn);
  // Queues the recorded work on the device (asynchronous, like any op). Runs the host callbacks
  // registered during the capture (before_each_replay) first, in order.
  void replay();
  Device device() const;

  // For code running inside a capture on `device` (optimizers): runs fn on the host before each
  // replay of the graph being captured, to refresh host-side values the graph reads. Throws
  // InvalidArgument when no capture runs on `device` on this thread.
  static void before_each_replay(Device device, std::function<void()> fn);

  CudaGraph(CudaGraph&&) noexcept;
  CudaGraph& operator=(CudaGraph&&) noexcept;
  ~CudaGraph();  // frees the graph; memory in flight is released in stream order

 private:
  struct State;
  explicit CudaGraph(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace tenflowers
