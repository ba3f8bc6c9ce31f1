#pragma once
// ForwardAccumulator: forward-mode differentiation (Jacobian-vector products). Given primals
// and their tangents, every op run on this thread while it lives carries tangents forward
// through the op's forward-mode rule; jvp(t) returns J·v for any tensor computed since.
#include <memory>
#include <unordered_map>
#include <vector>

#include "tenflowers/autograd/gradient_tape.hpp"
#include "tenflowers/core/dispatch.hpp"

namespace tenflowers {

class ForwardAccumulator : public DispatchHook {
 public:
  // tangents[i] has primals[i]'s shape (cast to its dtype).
  ForwardAccumulator(const std::vector<Tensor>& primals, const std::vector<Tensor>& tangents);
  ~ForwardAccumulator() override;
  ForwardAccumulator(const ForwardAccumulator&) = delete;
  ForwardAccumulator& operator=(const ForwardAccumulator&) = delete;

  // The tangent of t: undefined (None) or zeros when t does not depend on the primals.
  Tensor jvp(const Tensor& t, Unconnected unconnected = Unconnected::None) const;

  void on_op(const OpDef& op, std::span<const Tensor> inputs, const Attrs& attrs,
             std::span<const Tensor> outputs) override;

 private:
  std::unique_ptr<ScopedHook> hook_;
  std::unordered_map<uint64_t, Tensor> tangents_;
};

}  // namespace tenflowers
