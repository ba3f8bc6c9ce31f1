#pragma once
// Recurrent layers: LSTM and GRU with Keras' semantics, weights and defaults. Inputs are batch
// major, x [N, T, F]; every step runs registered ops on the whole batch, so gradients come from
// the tape.
#include <string>
#include <vector>

#include "tenflowers/nn/activations.hpp"
#include "tenflowers/nn/layer.hpp"

namespace tenflowers::nn {

struct RecurrentOptions {
  bool return_sequences = false;  // output [N, T, units] rather than the last output [N, units]
  std::string activation = "tanh";
  std::string recurrent_activation = "sigmoid";
  bool use_bias = true;
  Initializer kernel_initializer = Initializer::glorot_uniform();
  Initializer recurrent_initializer = Initializer::orthogonal();
  Initializer bias_initializer = Initializer::zeros();
  bool unit_forget_bias = true;  // LSTM only: the forget gate's bias starts at 1
  bool reset_after = true;       // GRU only: the reset gate multiplies h @ recurrent_kernel + bias
  Regularizer kernel_regularizer{};
  Regularizer recurrent_regularizer{};
  Regularizer bias_regularizer{};
  std::string name;
};

// The output of a recurrent layer with its final states (c is undefined for a GRU).
struct RecurrentOutput {
  Tensor output;
  Tensor h;
  Tensor c;
};

// The loop shared by LSTM and GRU. Inputs, in order: x [N, T, F] (T >= 1); optionally a bool
// mask [N, T]; optionally the initial states, each [N, units] (h for a GRU; h and c for an
// LSTM), zeros when absent. At a step where mask is false the states carry over unchanged and
// the step's output repeats the previous step's output (zeros before the first step), as Keras.
class RecurrentLayer : public Layer {
 public:
  int64_t units() const { return units_; }
  const Variable& kernel() const { return kernel_; }
  const Variable& recurrent_kernel() const { return recurrent_kernel_; }
  const Variable& bias() const { return bias_; }

  // Like call(), also returning the final states (Keras' return_state).
  RecurrentOutput call_with_state(const std::vector<Tensor>& inputs);

 protected:
  RecurrentLayer(std::string kind, int64_t units, int64_t gates, int64_t states,
                 RecurrentOptions options);
  Tensor forward(const std::vector<Tensor>& inputs) final;

  // Creates kernel [F, gates * units], recurrent_kernel [units, gates * units] and the bias.
  void build_weights(const std::vector<Dims>& input_shapes, const Dims& bias_shape);
  // The part of the bias added to x @ kernel before the loop (undefined when none).
  virtual Tensor input_bias() const = 0;
  // One step from the projected input xw [N, gates * units] (bias included) and the states;
  // returns the new states, the output (h) first.
  virtual std::vector<Tensor> step(const Tensor& xw, const std::vector<Tensor>& states) const = 0;

  int64_t units_;
  RecurrentOptions options_;
  ActivationKind activation_, recurrent_activation_;
  Variable kernel_, recurrent_kernel_, bias_;

 private:
  int64_t gates_, state_count_;
  std::vector<Tensor> final_states_;  // of the latest call, read by call_with_state
};

// Long short-term memory, gates i, f, c, o in that order along the kernels' columns:
//   z = x_t @ kernel + h @ recurrent_kernel + bias
//   c' = f * c + i * activation(z_c),  h' = o * activation(c')
// with i, f, o = recurrent_activation of their slices. Bias [4 * units].
class LSTM : public RecurrentLayer {
 public:
  explicit LSTM(int64_t units, RecurrentOptions options = {});

 protected:
  void build(const std::vector<Dims>& input_shapes) override;
  Tensor input_bias() const override;
  std::vector<Tensor> step(const Tensor& xw, const std::vector<Tensor>& states) const override;
};

// Gated recurrent unit, gates z, r, h in that order. With reset_after (Keras' default) the bias
// is [2, 3 * units] (input bias, recurrent bias) and
//   rec = h @ recurrent_kernel + recurrent_bias,  h~ = activation(xw_h + r * rec_h);
// without it the bias is [3 * units] and h~ = activation(xw_h + (r * h) @ recurrent_kernel_h).
// Then h' = z * h + (1 - z) * h~.
class GRU : public RecurrentLayer {
 public:
  explicit GRU(int64_t units, RecurrentOptions options = {});

 protected:
  void build(const std::vector<Dims>& input_shapes) override;
  Tensor input_bias() const override;
  std::vector<Tensor> step(const Tensor& xw, const std::vector<Tensor>& states) const override;
};

}  // namespace tenflowers::nn
