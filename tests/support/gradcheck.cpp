#include "tests/support/gradcheck.hpp"

#include <cmath>

namespace tenflowers::testing {

void SampleRegistry::add(const std::string& op, SampleFn samples) {
  if (!samples_.emplace(op, std::move(samples)).second) {
    throw std::logic_error("gradient samples for '" + op + "' registered twice");
  }
}

SampleRegistry& gradient_samples() {
  static SampleRegistry* instance = [] {
    auto* r = new SampleRegistry();
    register_view_grad_samples(*r);
    register_unary_grad_samples(*r);
    register_binary_grad_samples(*r);
    register_reduction_grad_samples(*r);
    register_linalg_grad_samples(*r);
    register_conv_grad_samples(*r);
    register_index_grad_samples(*r);
    register_shape_grad_samples(*r);
    register_fused_grad_samples(*r);
    register_normalization_grad_samples(*r);
    register_batch_norm_grad_samples(*r);
    return r;
  }();
  return *instance;
}

namespace {

constexpr double kStep = 1e-6;
constexpr Tolerance kFdTolerance{1e-5, 1e-6};

// Float inputs in f64 on the device, keeping their layout (a strided view stays strided).
Tensor to_f64(const Tensor& t, Device device) {
  if (!is_floating(t.dtype())) return t.to(device);
  if (t.dtype() == DType::F64 && t.device() == device) return t;
  return t.cast(DType::F64).to(device);
}

std::vector<Tensor> run(const OpDef& op, const std::vector<Tensor>& inputs, const Attrs& attrs) {
  return dispatch(op, inputs, attrs);
}

// sum_k <outputs_k, cotangents_k> over the float outputs.
double project(const std::vector<Tensor>& outputs, const std::vector<Ref>& cotangents) {
  double total = 0;
  for (size_t k = 0; k < outputs.size(); ++k) {
    if (cotangents[k].data.empty()) continue;
    const Ref out = to_ref(outputs[k]);
    for (size_t i = 0; i < out.data.size(); ++i) total += out.data[i] * cotangents[k].data[i];
  }
  return total;
}

// The inputs with `delta` added to element `index` of input `which` (copies; others shared).
std::vector<Tensor> perturbed(const std::vector<Tensor>& inputs, size_t which, Ref base,
                              int64_t index, double delta, Device device) {
  std::vector<Tensor> out = inputs;
  base.data[static_cast<size_t>(index)] += delta;
  out[which] = from_ref(base, DType::F64).to(device);
  return out;
}

std::vector<Tensor> shifted(const std::vector<Tensor>& inputs, const std::vector<Ref>& bases,
                            const std::vector<Ref>& directions, double scale, Device device) {
  std::vector<Tensor> out = inputs;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (directions[i].data.empty()) continue;
    Ref moved = bases[i];
    for (size_t j = 0; j < moved.data.size(); ++j) moved.data[j] += scale * directions[i].data[j];
    out[i] = from_ref(moved, DType::F64).to(device);
  }
  return out;
}

Ref random_like(Rng& rng, const Tensor& t) {
  Ref r(t.shape().vec());
  for (double& v : r.data) v = rng.uniform(-1, 1);
  return r;
}

}  // namespace

void check_gradients(const OpDef& op, const OpSample& sample, Rng& rng, Device device) {
  std::vector<Tensor> inputs;
  for (const Tensor& t : sample.inputs) inputs.push_back(to_f64(t, device));
  std::vector<Ref> bases;
  std::vector<size_t> float_inputs;
  for (size_t i = 0; i < inputs.size(); ++i) {
    bases.push_back(is_floating(inputs[i].dtype()) ? to_ref(inputs[i]) : Ref());
    if (is_floating(inputs[i].dtype())) float_inputs.push_back(i);
  }

  // Reverse mode: the gradient of <outputs, u> for a random cotangent u.
  GradientTape tape;
  std::vector<Tensor> sources;
  for (size_t i : float_inputs) {
    tape.watch(inputs[i]);
    sources.push_back(inputs[i]);
  }
  const std::vector<Tensor> outputs = run(op, inputs, sample.attrs);
  std::vector<Ref> cotangents(outputs.size());
  std::vector<Tensor> output_grads(outputs.size());
  std::vector<Tensor> float_outputs;
  for (size_t k = 0; k < outputs.size(); ++k) {
    if (!is_floating(outputs[k].dtype())) continue;
    cotangents[k] = random_like(rng, outputs[k]);
    output_grads[k] = from_ref(cotangents[k], outputs[k].dtype()).to(device);
  }
  const std::vector<Tensor> grads =
      tape.gradient(outputs, sources, output_grads, Unconnected::Zero);
  tape.stop();

  for (size_t s = 0; s < float_inputs.size(); ++s) {
    const size_t i = float_inputs[s];
    Ref numeric(bases[i].shape);
    for (int64_t j = 0; j < bases[i].numel(); ++j) {
      const double h = kStep * std::max(1.0, std::abs(bases[i].data[static_cast<size_t>(j)]));
      const double plus =
          project(run(op, perturbed(inputs, i, bases[i], j, h, device), sample.attrs), cotangents);
      const double minus =
          project(run(op, perturbed(inputs, i, bases[i], j, -h, device), sample.attrs), cotangents);
      numeric.data[static_cast<size_t>(j)] = (plus - minus) / (2 * h);
    }
    EXPECT_TRUE(close_to(grads[s], numeric, kFdTolerance))
        << "reverse-mode gradient of op '" << op.name << "' for input " << i;
  }

  // Forward mode: J v for a random tangent v, against a central difference along v.
  std::vector<Ref> directions(inputs.size());
  std::vector<Tensor> primals, tangents;
  for (size_t i : float_inputs) {
    directions[i] = random_like(rng, inputs[i]);
    primals.push_back(inputs[i]);
    tangents.push_back(from_ref(directions[i], DType::F64).to(device));
  }
  std::vector<Tensor> jvps;
  {
    ForwardAccumulator accumulator(primals, tangents);
    const std::vector<Tensor> forward_outputs = run(op, inputs, sample.attrs);
    for (const Tensor& out : forward_outputs) {
      jvps.push_back(is_floating(out.dtype()) ? accumulator.jvp(out, Unconnected::Zero) : Tensor());
    }
  }
  const std::vector<Tensor> plus =
      run(op, shifted(inputs, bases, directions, kStep, device), sample.attrs);
  const std::vector<Tensor> minus =
      run(op, shifted(inputs, bases, directions, -kStep, device), sample.attrs);
  for (size_t k = 0; k < outputs.size(); ++k) {
    if (!jvps[k].defined()) continue;
    Ref numeric = to_ref(plus[k]);
    const Ref low = to_ref(minus[k]);
    for (size_t j = 0; j < numeric.data.size(); ++j)
      numeric.data[j] = (numeric.data[j] - low.data[j]) / (2 * kStep);
    EXPECT_TRUE(close_to(jvps[k], numeric, kFdTolerance))
        << "forward-mode JVP of op '" << op.name << "' for output " << k;
  }
}

Layout random_layout(Rng& rng) {
  const Layout layouts[] = {Layout::Contiguous, Layout::Transposed, Layout::Strided};
  return layouts[rng.integer(0, 2)];
}

Tensor random_input(Rng& rng, std::vector<int64_t> shape, double lo, double hi) {
  return random_tensor(rng, std::move(shape), DType::F64, lo, hi, random_layout(rng));
}

}  // namespace tenflowers::testing
