#include "tenflowers/autograd/variable.hpp"

#include "src/core/api/op_call.hpp"
#include "tenflowers/autograd/gradient_tape.hpp"
#include "tenflowers/core/ops.hpp"

namespace tenflowers {

struct Variable::State {
  Tensor value;
  std::string name;
  bool trainable;
};

Variable::Variable(const Tensor& initial, std::string name, bool trainable) {
  HooksPaused paused;  // creating a variable is not part of any computation
  state_ = std::make_shared<State>(State{initial.copy(), std::move(name), trainable});
}

void Variable::to(Device device) {
  HooksPaused paused;  // a move is not part of any computation
  if (handle().device() != device) state_->value = state_->value.to(device);
}

const Tensor& Variable::handle() const {
  TF_CHECK(state_, InvalidArgument, "the variable is undefined (default-constructed)");
  return state_->value;
}

const Tensor& Variable::value() const {
  const Tensor& v = handle();
  if (state_->trainable) {
    for (GradientTape* tape : GradientTape::active()) {
      if (tape->options().watch_accessed_variables) tape->watch(*this);
    }
  }
  return v;
}

void Variable::assign(const Tensor& v) {
  copy_into(handle(), v);
}

void Variable::assign_add(const Tensor& delta) {
  HooksPaused paused;
  Tensor target = handle();
  const Tensor step = delta.cast(target.dtype());
  dispatch_into(TF_OP("add"), {target, step}, {}, target);
}

void Variable::assign_sub(const Tensor& delta) {
  HooksPaused paused;
  Tensor target = handle();
  const Tensor step = delta.cast(target.dtype());
  dispatch_into(TF_OP("sub"), {target, step}, {}, target);
}

const std::string& Variable::name() const {
  handle();
  return state_->name;
}
bool Variable::trainable() const {
  handle();
  return state_->trainable;
}
void Variable::set_trainable(bool trainable) {
  handle();
  state_->trainable = trainable;
}

}  // namespace tenflowers
