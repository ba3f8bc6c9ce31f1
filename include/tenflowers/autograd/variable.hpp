#pragma once
// Variable: a mutable, trainable tensor holder whose identity is stable across steps. Copies of
// a Variable refer to the same variable. Reading it (value(), or using it where a Tensor is
// expected) lets every recording tape on this thread watch it, unless the tape was told not to.
#include <memory>
#include <string>

#include "tenflowers/core/tensor.hpp"

namespace tenflowers {

class Variable {
 public:
  Variable() = default;
  // The variable owns a contiguous copy of `initial` (so later writes never alias the caller's).
  explicit Variable(const Tensor& initial, std::string name = "", bool trainable = true);

  bool defined() const { return state_ != nullptr; }
  // The live value: in-place updates through assign* are visible through it.
  const Tensor& value() const;
  operator Tensor() const { return value(); }  // NOLINT: a Variable reads as its value

  // In-place updates; `v` is cast to the variable's dtype and broadcast to its shape. A
  // ShapeError or DTypeError leaves the variable unchanged.
  void assign(const Tensor& v);
  void assign_add(const Tensor& delta);
  void assign_sub(const Tensor& delta);

  // Moves the value to `device` (a copy there; the variable keeps its identity, and every copy of
  // it sees the move). Optimizer slots made earlier stay where they were: move first.
  void to(Device device);

  const std::string& name() const;
  bool trainable() const;
  void set_trainable(bool trainable);
  const Dims& shape() const { return handle().shape(); }
  DType dtype() const { return handle().dtype(); }
  Device device() const { return handle().device(); }
  // The tensor itself, without notifying tapes (optimizers and checkpoints use this).
  const Tensor& handle() const;
  uint64_t id() const { return handle().id(); }
  friend bool operator==(const Variable& a, const Variable& b) { return a.state_ == b.state_; }

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace tenflowers
