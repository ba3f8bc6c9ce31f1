// Checks for fused_elementwise: random programs of one to three broadcast inputs in every
// floating dtype and layout against a float64 evaluation of the same program, plus the chains
// the fusion pass makes most (scale, shift, activation; ReLU's gradient).
#include "tests/conformance/elementwise_checks.hpp"
#include "tests/support/fused_programs.hpp"

namespace tenflowers::testing {
namespace {

using namespace elementwise;

const DType kFloats[] = {DType::F32, DType::F64, DType::F16, DType::BF16};

// Each step rounds once in the compute type, so the bound grows with the program's length.
Tolerance program_tolerance(DType dtype, const FusedProgram& program) {
  const Tolerance one = tolerance_for(dtype);
  const auto steps = static_cast<double>(program.steps.size());
  return {one.rtol * steps, one.atol * steps};
}

// On a random shape of rank 0 to 3 with small extents, or on `shape` when given.
void check_program(Rng& rng, Device device, const FusedProgram& program, DType dtype, double lo,
                   double hi, std::vector<int64_t> shape = {}) {
  if (shape.empty()) shape = random_shape(rng, rng.integer(0, 3));
  const auto shapes = fused::broadcast_shapes_for(rng, shape, program.num_inputs);
  std::vector<Tensor> inputs;
  std::vector<Ref> refs;
  for (const auto& s : shapes) {
    const Layout layout = kLayouts[rng.integer(0, 2)];
    inputs.push_back(make_tensor(random_values(rng, s, dtype, lo, hi), dtype, layout).to(device));
    refs.push_back(to_ref(inputs.back()));
  }
  const Tensor y = fused_elementwise(inputs, program);
  SCOPED_TRACE(std::string(dtype_name(dtype)) + " program " + fused_program_attrs(program).str());
  EXPECT_EQ(y.dtype(), dtype);
  EXPECT_EQ(y.device(), device);
  Ref expected(shape);
  for_each_index(shape, [&](const std::vector<int64_t>& index) {
    std::vector<double> values;
    for (const Ref& r : refs) values.push_back(fused::broadcast_at(r, index));
    expected.at(index) = fused::evaluate(program, values);
  });
  EXPECT_CLOSE_TO_REF(y, expected, program_tolerance(dtype, program));
}

FusedProgram chain(std::initializer_list<FusedStep> steps, size_t num_inputs) {
  return FusedProgram{num_inputs, steps};
}

void check_fused(Rng& rng, Device device) {
  for (DType dtype : kFloats) {
    for (int round = 0; round < 4; ++round) {
      const auto inputs = static_cast<size_t>(rng.integer(1, 3));
      check_program(rng, device, fused::random_program(rng, inputs, false), dtype, -2, 2);
    }
    // Long enough for whole tiles of the CPU interpreter and several of its conversion chunks.
    check_program(rng, device, fused::random_program(rng, 2, false), dtype, -2, 2,
                  {rng.integer(2, 4), rng.integer(100, 1500)});
    const OpDef& mul = registry().get("mul");
    const OpDef& add = registry().get("add");
    // relu(x * a + b)
    check_program(rng, device,
                  chain({{&mul, 0, 1}, {&add, 3, 2}, {&registry().get("relu"), 4, -1}}, 3), dtype,
                  -2, 2);
    // relu_grad(x, g * s): x is an input, so the x > 0 test sees exactly the stored value.
    const FusedProgram relu_grad = chain({{&mul, 1, 2}, {&registry().get("relu_grad"), 0, 3}}, 3);
    const std::vector<int64_t> shape = random_shape(rng, rng.integer(1, 3));
    std::vector<Tensor> in;
    for (int k = 0; k < 3; ++k) {
      in.push_back(
          make_tensor(random_values(rng, shape, dtype, -2, 2), dtype, kLayouts[rng.integer(0, 2)])
              .to(device));
    }
    const Tensor y = fused_elementwise(in, relu_grad);
    const Ref x = to_ref(in[0]), g = to_ref(in[1]), s = to_ref(in[2]);
    Ref expected(shape);
    for (size_t i = 0; i < expected.data.size(); ++i) {
      expected.data[i] = x.data[i] > 0 ? g.data[i] * s.data[i] : 0.0;
    }
    EXPECT_CLOSE_TO_REF(y, expected, program_tolerance(dtype, relu_grad));
  }
}

}  // namespace

void register_fused_checks(CheckRegistry& r) {
  r.add({"fused_elementwise"}, check_fused);
}

}  // namespace tenflowers::testing
