// The CPU backend's fused program interpreter on every instruction set the CPU has: lengths
// around its tile sizes, values saved for later steps, broadcast scalars, operands that need
// converting (f16, strides), and streaming stores to a misaligned output.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include <tenflowers/tenflowers.hpp>

#include "src/backends/cpu/elementwise_table.hpp"
#include "tests/support/fused_programs.hpp"

namespace tf = tenflowers;
namespace vec = tenflowers::cpu::vec;
using tf::DType;
using tf::Tensor;

namespace {

// Lengths around the tiles (4 or 8 vectors of 2 to 16 lanes), the conversion chunk (2048) and
// the parallel grain (32768), where kernels split their work.
const int64_t kLengths[] = {1, 3, 15, 16, 17, 63, 64, 65, 127, 128, 129, 1000, 2049, 40001};

const vec::Isa kIsas[] = {vec::Isa::Baseline, vec::Isa::Avx2, vec::Isa::Avx512};

// Inputs x, s, y. Every value stays positive, so each step only rounds (no cancellation).
// v3 is read by the next step (in registers) and by two later ones (saved); x by two steps.
tf::FusedProgram dag_program() {
  const auto& r = tf::registry();
  return {3,
          {{&r.get("mul"), 0, 1},
           {&r.get("sigmoid"), 3, -1},
           {&r.get("add"), 3, 4},
           {&r.get("mul"), 5, 2},
           {&r.get("maximum"), 6, 0},
           {&r.get("mul"), 7, 3}}};
}

// Fresh random values in [0.25, 2.25): positive, so no step cancels.
std::vector<double> positive_values(tf::testing::Rng& rng, int64_t n) {
  std::vector<double> v(static_cast<size_t>(n));
  for (double& x : v) x = rng.uniform(0.25, 2.25);
  return v;
}

double relative_bound(DType compute) {
  return compute == DType::F64 ? 1e-14 : 2e-6;  // six steps of one rounding each, with margin
}

// Runs `body` once per instruction set this CPU has, restoring the active one afterwards.
template <class Body>
void for_each_isa(Body body) {
  const vec::Isa saved = vec::active_isa();
  for (vec::Isa isa : kIsas) {
    if (!vec::isa_supported(isa)) continue;
    vec::set_isa(isa);
    SCOPED_TRACE("ISA " + std::to_string(static_cast<int>(isa)));
    body();
  }
  vec::set_isa(saved);
}

}  // namespace

TEST(FusedInterpreter, MatchesFloat64AtEveryLengthAndLayout) {
  tf::testing::Rng rng = tf::testing::Rng::for_test();
  const tf::FusedProgram program = dag_program();
  for_each_isa([&] {
    for (DType dtype : {DType::F32, DType::F64}) {
      for (const int64_t n : kLengths) {
        SCOPED_TRACE(std::string(tf::dtype_name(dtype)) + " n=" + std::to_string(n));
        const std::vector<double> xs = positive_values(rng, n);
        const std::vector<double> ys = positive_values(rng, n + 1);
        const Tensor x = Tensor::from_vec(xs, {n}).cast(dtype);
        // y starts one element into its storage: its vectors are misaligned.
        const Tensor y = Tensor::from_vec(ys, {n + 1}).cast(dtype).narrow(0, 1, n);
        const Tensor s = tf::full({}, 0.75, dtype);
        const std::vector<double> got = tf::fused_elementwise(std::vector<Tensor>{x, s, y}, program)
                                            .cast(DType::F64)
                                            .to_vector<double>();
        ASSERT_EQ(got.size(), static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) {
          const auto at = static_cast<size_t>(i);
          const double in[] = {xs[at], 0.75, ys[at + 1]};
          const double want = tf::testing::fused::evaluate(program, in);
          ASSERT_NEAR(got[at], want, relative_bound(dtype) * std::abs(want)) << "at " << i;
        }
      }
    }
  });
}

// f16 and transposed inputs are converted chunk by chunk into f32 before the interpreter runs;
// the output of an f16 program is converted back.
TEST(FusedInterpreter, ConvertsOperandsOfOtherDtypesAndLayouts) {
  tf::testing::Rng rng = tf::testing::Rng::for_test();
  const tf::FusedProgram program = dag_program();
  for_each_isa([&] {
    for (const int64_t rows : {3, 61, 130}) {
      const int64_t cols = 37;
      const std::vector<double> xs = positive_values(rng, rows * cols);
      const std::vector<double> ys = positive_values(rng, rows * cols);
      const Tensor x = Tensor::from_vec(xs, {rows, cols}).cast(DType::F16);
      const Tensor y_t = Tensor::from_vec(ys, {cols, rows}).cast(DType::F32).transpose();
      const Tensor s = tf::full({}, 0.75, DType::F32);
      const Tensor got32 =
          tf::fused_elementwise(std::vector<Tensor>{x.cast(DType::F32), s, y_t}, program);
      const Tensor got16 = tf::fused_elementwise(
          std::vector<Tensor>{x, s.cast(DType::F16), y_t.cast(DType::F16)}, program);
      EXPECT_EQ(got16.dtype(), DType::F16);
      const std::vector<double> x_exact = x.cast(DType::F64).to_vector<double>();
      const std::vector<double> y_exact = y_t.cast(DType::F64).contiguous().to_vector<double>();
      const std::vector<double> g32 = got32.cast(DType::F64).to_vector<double>();
      const std::vector<double> g16 = got16.cast(DType::F64).to_vector<double>();
      for (size_t i = 0; i < g32.size(); ++i) {
        const double in[] = {x_exact[i], 0.75, y_exact[i]};
        const double want = tf::testing::fused::evaluate(program, in);
        ASSERT_NEAR(g32[i], want, 2e-6 * want) << "f32 at " << i;
        // f16 inputs and output: the result rounds to 11 significant bits.
        ASSERT_NEAR(g16[i], want, 2e-3 * want) << "f16 at " << i;
      }
    }
  });
}

// Streaming stores write the same values as plain ones, from any output alignment.
TEST(FusedInterpreter, StreamingStoresWriteWhatPlainStoresWrite) {
  tf::testing::Rng rng = tf::testing::Rng::for_test();
  const tf::FusedProgram program = dag_program();
  std::vector<vec::FusedInstr> steps(program.steps.size());
  // dag_program compiled by hand: the compiler's result for it (fused.cpp) is checked above.
  const auto unary = [](vec::Unary code) { return static_cast<uint8_t>(code); };
  const auto binary = [](vec::Binary code) { return static_cast<uint8_t>(code); };
  steps[0] = {true, binary(vec::Binary::Mul), 0, 1, 0};  // v3, saved as value 0 (operand 3)
  steps[1] = {false, unary(vec::Unary::Sigmoid), vec::kFusedAcc, vec::kFusedAcc, -1};
  steps[2] = {true, binary(vec::Binary::Add), 3, vec::kFusedAcc, -1};
  steps[3] = {true, binary(vec::Binary::Mul), vec::kFusedAcc, 2, -1};
  steps[4] = {true, binary(vec::Binary::Maximum), vec::kFusedAcc, 0, -1};
  steps[5] = {true, binary(vec::Binary::Mul), vec::kFusedAcc, 3, -1};
  for_each_isa([&] {
    const int64_t n = 1000;
    const std::vector<double> x64 = positive_values(rng, n);
    const std::vector<double> y64 = positive_values(rng, n);
    const std::vector<float> xs(x64.begin(), x64.end());
    const std::vector<float> ys(y64.begin(), y64.end());
    const float s = 0.75f;
    const void* inputs[] = {xs.data(), &s, ys.data()};
    const bool repeated[] = {false, true, false};
    std::vector<float> plain(static_cast<size_t>(n));
    vec::FusedArgs args{steps.data(), 6, 3, inputs, repeated, plain.data(), n, false};
    vec::table().fused[static_cast<int>(DType::F32)](args);
    for (int64_t offset = 0; offset < 16; offset += 3) {
      std::vector<float> streamed(static_cast<size_t>(n + offset), -1.f);
      args.out = streamed.data() + offset;
      args.stream = true;
      vec::table().fused[static_cast<int>(DType::F32)](args);
      for (int64_t i = 0; i < offset; ++i) ASSERT_EQ(streamed[static_cast<size_t>(i)], -1.f);
      for (int64_t i = 0; i < n; ++i) {
        ASSERT_EQ(streamed[static_cast<size_t>(offset + i)], plain[static_cast<size_t>(i)])
            << "offset " << offset << " at " << i;
      }
    }
    for (int64_t i = 0; i < n; ++i) {
      const auto at = static_cast<size_t>(i);
      const double in[] = {xs[at], s, ys[at]};
      const double want = tf::testing::fused::evaluate(program, in);
      ASSERT_NEAR(plain[at], want, 2e-6 * want) << "at " << i;
    }
  });
}
