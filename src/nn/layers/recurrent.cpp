#include "tenflowers/nn/layers/recurrent.hpp"

#include "tenflowers/core/error.hpp"
#include "tenflowers/core/ops.hpp"

namespace tenflowers::nn {

RecurrentLayer::RecurrentLayer(std::string kind, int64_t units, int64_t gates, int64_t states,
                               RecurrentOptions options)
    : Layer(std::move(kind), options.name),
      units_(units),
      options_(std::move(options)),
      activation_(activation_from_name(options_.activation)),
      recurrent_activation_(activation_from_name(options_.recurrent_activation)),
      gates_(gates),
      state_count_(states) {
  TF_CHECK(units > 0, InvalidArgument, "layer '", name(), "' (", this->kind(),
           "): units must be positive, got ", units);
}

void RecurrentLayer::build_weights(const std::vector<Dims>& input_shapes, const Dims& bias_shape) {
  const Dims& s = input_shapes.at(0);
  TF_CHECK(s.size() == 3 && s[2] > 0, ShapeError, "layer '", name(), "' (", kind(),
           "): expected an input [N, T, F] with F > 0, got ", s);
  const int64_t features = s[2], width = gates_ * units_;
  kernel_ = add_weight("kernel", {features, width}, options_.kernel_initializer, {features, width},
                       true, options_.kernel_regularizer);
  recurrent_kernel_ =
      add_weight("recurrent_kernel", {units_, width}, options_.recurrent_initializer,
                 {units_, width}, true, options_.recurrent_regularizer);
  if (options_.use_bias) {
    bias_ = add_weight("bias", bias_shape, options_.bias_initializer, {features, width}, true,
                       options_.bias_regularizer);
  }
}

Tensor RecurrentLayer::forward(const std::vector<Tensor>& inputs) {
  expect_inputs(inputs, 1, 2 + static_cast<size_t>(state_count_));
  const Tensor& x = inputs[0];
  const int64_t features = kernel_.shape()[0];
  TF_CHECK(x.rank() == 3 && x.size(2) == features && x.size(1) > 0, ShapeError, "layer '", name(),
           "' (", kind(), "): expected an input [N, T, ", features, "] with T > 0, got ",
           x.shape());
  const int64_t n = x.size(0), steps = x.size(1);
  // A bool second input is the mask; the inputs after it are the initial states.
  size_t next = 1;
  Tensor mask;
  if (inputs.size() > 1 && inputs[1].dtype() == DType::Bool) mask = inputs[next++];
  TF_CHECK(!mask.defined() || mask.shape() == Dims({n, steps}), ShapeError, "layer '", name(),
           "' (", kind(), "): expected a bool mask [", n, ", ", steps, "], got ", mask.shape());
  const size_t given = inputs.size() - next;
  TF_CHECK(given == 0 || given == static_cast<size_t>(state_count_), InvalidArgument, "layer '",
           name(), "' (", kind(), "): expected ", state_count_, " initial state(s) or none, got ",
           given);
  Tensor xw = matmul(x, kernel_);
  if (const Tensor b = input_bias(); b.defined()) xw = xw + b;
  std::vector<Tensor> states;
  for (int64_t i = 0; i < state_count_; ++i) {
    if (given == 0) {
      states.push_back(zeros({n, units_}, xw.dtype(), x.device()));
      continue;
    }
    const Tensor& s = inputs[next + static_cast<size_t>(i)];
    TF_CHECK(s.shape() == Dims({n, units_}), ShapeError, "layer '", name(), "' (", kind(),
             "): expected initial state ", i, " of shape [", n, ", ", units_, "], got ", s.shape());
    states.push_back(s);
  }

  Tensor output = zeros({n, units_}, xw.dtype(), x.device());
  std::vector<Tensor> outputs;
  for (int64_t t = 0; t < steps; ++t) {
    std::vector<Tensor> updated = step(xw.select(1, t), states);
    if (mask.defined()) {
      const Tensor keep = mask.select(1, t).unsqueeze(1);
      output = where(keep, updated[0], output);
      for (size_t i = 0; i < updated.size(); ++i) updated[i] = where(keep, updated[i], states[i]);
    } else {
      output = updated[0];
    }
    states = std::move(updated);
    if (options_.return_sequences) outputs.push_back(output);
  }
  final_states_ = std::move(states);
  return options_.return_sequences ? stack(outputs, 1) : output;
}

RecurrentOutput RecurrentLayer::call_with_state(const std::vector<Tensor>& inputs) {
  RecurrentOutput out{call(inputs), final_states_[0], {}};
  if (final_states_.size() > 1) out.c = final_states_[1];
  final_states_.clear();
  return out;
}

LSTM::LSTM(int64_t units, RecurrentOptions options)
    : RecurrentLayer("lstm", units, 4, 2, std::move(options)) {}

void LSTM::build(const std::vector<Dims>& input_shapes) {
  build_weights(input_shapes, {4 * units_});
  if (bias_.defined() && options_.unit_forget_bias) {
    const Tensor b = bias_.value();
    bias_.assign(concat({b.narrow(0, 0, units_), ones({units_}, b.dtype(), b.device()),
                         b.narrow(0, 2 * units_, 2 * units_)}));
  }
}

Tensor LSTM::input_bias() const {
  return bias_.defined() ? bias_.value() : Tensor();
}

std::vector<Tensor> LSTM::step(const Tensor& xw, const std::vector<Tensor>& states) const {
  const Tensor z = xw + matmul(states[0], recurrent_kernel_);
  const int64_t u = units_;
  const Tensor i = apply_activation(recurrent_activation_, z.narrow(1, 0, u));
  const Tensor f = apply_activation(recurrent_activation_, z.narrow(1, u, u));
  const Tensor candidate = apply_activation(activation_, z.narrow(1, 2 * u, u));
  const Tensor o = apply_activation(recurrent_activation_, z.narrow(1, 3 * u, u));
  const Tensor c = f * states[1] + i * candidate;
  return {o * apply_activation(activation_, c), c};
}

GRU::GRU(int64_t units, RecurrentOptions options)
    : RecurrentLayer("gru", units, 3, 1, std::move(options)) {}

void GRU::build(const std::vector<Dims>& input_shapes) {
  build_weights(input_shapes, options_.reset_after ? Dims({2, 3 * units_}) : Dims({3 * units_}));
}

Tensor GRU::input_bias() const {
  if (!bias_.defined()) return {};
  return options_.reset_after ? bias_.value().select(0, 0) : bias_.value();
}

std::vector<Tensor> GRU::step(const Tensor& xw, const std::vector<Tensor>& states) const {
  const Tensor& h = states[0];
  const int64_t u = units_;
  const Tensor& rk = recurrent_kernel_.value();
  Tensor rec_zr, rec_h;
  if (options_.reset_after) {
    // One matmul for the three gates; the reset gate then scales the candidate's share.
    Tensor rec = matmul(h, rk);
    if (bias_.defined()) rec = rec + bias_.value().select(0, 1);
    rec_zr = rec.narrow(1, 0, 2 * u);
    rec_h = rec.narrow(1, 2 * u, u);
  } else {
    rec_zr = matmul(h, rk.narrow(1, 0, 2 * u));
  }
  const Tensor z =
      apply_activation(recurrent_activation_, xw.narrow(1, 0, u) + rec_zr.narrow(1, 0, u));
  const Tensor r =
      apply_activation(recurrent_activation_, xw.narrow(1, u, u) + rec_zr.narrow(1, u, u));
  const Tensor reset = options_.reset_after ? r * rec_h : matmul(r * h, rk.narrow(1, 2 * u, u));
  const Tensor candidate = apply_activation(activation_, xw.narrow(1, 2 * u, u) + reset);
  return {z * h + (1.0 - z) * candidate};
}

}  // namespace tenflowers::nn
