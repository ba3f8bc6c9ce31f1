#pragma once
// GradientTape: reverse-mode automatic differentiation with TensorFlow's semantics. A tape
// records the ops run on its thread between its construction and its destruction (or
// stop()), for every op that touches a watched tensor. gradient() walks the record backwards
// applying each op's gradient rule; the rules are ops themselves, so an outer tape records an
// inner tape's gradient computation and nested tapes give higher derivatives.
#include <functional>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tenflowers/autograd/variable.hpp"
#include "tenflowers/core/dispatch.hpp"
#include "tenflowers/core/id_set.hpp"
#include "tenflowers/core/small_vector.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers {

// What gradient() returns for a source the targets do not depend on.
enum class Unconnected { None, Zero };

struct TapeOptions {
  bool persistent = false;               // allow several gradient() calls
  bool watch_accessed_variables = true;  // watch trainable variables when they are read
};

// Backward function of a custom node: output gradients in, one gradient per input out
// (undefined = none). It runs with the tape hidden, so outer tapes record it.
using CustomBackward = std::function<std::vector<Tensor>(const std::vector<Tensor>& output_grads)>;

class GradientTape : public DispatchHook {
 public:
  explicit GradientTape(TapeOptions options = {});
  ~GradientTape() override;
  GradientTape(const GradientTape&) = delete;
  GradientTape& operator=(const GradientTape&) = delete;

  void watch(const Tensor& t);
  void watch(const Variable& v);
  std::vector<Variable> watched_variables() const;

  // d(sum of targets)/d(source) for each source. output_gradients, when given, weight each
  // target (same shapes as the targets) instead of ones.
  std::vector<Tensor> gradient(const std::vector<Tensor>& targets,
                               const std::vector<Tensor>& sources,
                               const std::vector<Tensor>& output_gradients = {},
                               Unconnected unconnected = Unconnected::None);
  Tensor gradient(const Tensor& target, const Tensor& source,
                  Unconnected unconnected = Unconnected::None);
  std::vector<Tensor> gradient(const Tensor& target, const std::vector<Variable>& sources,
                               Unconnected unconnected = Unconnected::None);

  // Full Jacobian: shape target.shape + source.shape.
  Tensor jacobian(const Tensor& target, const Tensor& source,
                  Unconnected unconnected = Unconnected::None);
  // For target [B, ...] and source [B, ...] whose rows are independent: shape
  // [B] + target.shape[1:] + source.shape[1:].
  Tensor batch_jacobian(const Tensor& target, const Tensor& source,
                        Unconnected unconnected = Unconnected::None);

  // While the returned guard lives, nothing is recorded on this tape or tapes created inside
  // it; tapes outside it keep recording.
  [[nodiscard]] HiddenFrom stop_recording() const { return HiddenFrom(this); }
  // Forgets everything recorded and watched; the tape keeps recording.
  void reset();
  // Stops recording for good (the destructor does it too).
  void stop();
  bool recording() const { return hook_ != nullptr; }
  const TapeOptions& options() const { return options_; }

  // Records a node whose backward is a function (custom_gradient, checkpoint).
  void record_custom(const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs,
                     CustomBackward backward);
  bool is_tracked(const Tensor& t) const;
  size_t recorded_ops() const { return nodes_.size(); }

  // The tapes recording on this thread, outermost first.
  static std::vector<GradientTape*> active();

  void on_op(const OpDef& op, std::span<const Tensor> inputs, const Attrs& attrs,
             std::span<const Tensor> outputs) override;

 private:
  // Inline room for the operands of nearly every op: recording one costs no heap allocation
  // beyond the node array's growth.
  struct Node {
    const OpDef* op = nullptr;  // null for custom nodes
    SmallVector<Tensor, 2> inputs;
    SmallVector<Tensor, 1> outputs;
    SmallVector<uint64_t, 2> input_versions;  // storage versions when recorded
    Attrs attrs;
    CustomBackward custom;
  };
  std::vector<Tensor> backward(const std::vector<Tensor>& targets,
                               const std::vector<Tensor>& sources,
                               const std::vector<Tensor>& output_gradients, Unconnected unconnected,
                               bool release_as_we_go);
  void consume();
  static void exchange_spare_nodes(std::vector<Node>& nodes, bool give);
  Tensor stacked_backward(const Tensor& target, const Tensor& source, int64_t passes,
                          const std::function<Tensor(int64_t)>& seed_for, Dims result_shape,
                          Unconnected unconnected);

  TapeOptions options_;
  std::unique_ptr<ScopedHook> hook_;
  std::vector<Node> nodes_;
  IdSet tracked_;  // watched tensors and outputs of recorded nodes
  std::vector<Variable> watched_variables_;
  bool used_ = false;
};

// Identity whose gradient is zero: nothing flows back through it.
Tensor stop_gradient(const Tensor& x);

}  // namespace tenflowers
