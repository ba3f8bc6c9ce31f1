// The kernels generated for fused programs, compiled with NVRTC for sm_90 (the H100). No GPU is
// needed, so CI checks here that the kernel headers compile under NVRTC with every fusible op,
// in every floating dtype, with and without single-value inputs.
#include <gtest/gtest.h>

#include <initializer_list>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "src/backends/cuda/fused_codegen.hpp"
#include "src/backends/cuda/rtc.hpp"
#include "tenflowers/tenflowers.hpp"
#include "tests/backends/cuda/fused_program.hpp"

namespace tenflowers::cuda {
namespace {

using testing::program_of;

constexpr int kSm90 = 90;

// relu(x * a + b)
FusedProgram scale_shift_relu() {
  return program_of(3, {{"mul", 0, 1}, {"add", 3, 2}, {"relu", 4, -1}});
}

// The most inputs and steps a program has, with every fusible op: each step applies the next
// op to the previous value (and, for two-input ops, to the next input in turn).
FusedProgram every_op() {
  FusedProgram program{kMaxFusedInputs, {}};
  const std::span<const std::string_view> ops = fusible_elementwise_ops();
  int64_t last = 0, next_input = 1;
  for (size_t j = 0; j < kMaxFusedSteps; ++j) {
    const OpDef& op = registry().get(ops[j % ops.size()]);
    int64_t rhs = -1;
    if (op.num_inputs == 2) {
      rhs = next_input;
      next_input = (next_input + 1) % static_cast<int64_t>(kMaxFusedInputs);
    }
    program.steps.push_back({&op, last, rhs});
    last = static_cast<int64_t>(kMaxFusedInputs + j);
  }
  return program;
}

bool is_elf(const std::string& cubin) {
  return cubin.starts_with("\177ELF");
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

TEST(FusedCodegen, EveryValueIsARegisterAndSingleInputsAreReadOnce) {
  const std::string source =
      fused_kernel_source(fused_kernel_spec(scale_shift_relu(), DType::F32, 0b110));
  SCOPED_TRACE(source);
  EXPECT_TRUE(contains(source, "const C v3 = binary_ops::Mul{}(v0, v1);"));
  EXPECT_TRUE(contains(source, "const C v4 = binary_ops::Add{}(v3, v2);"));
  EXPECT_TRUE(contains(source, "const C v5 = unary_ops::Relu{}(v4);"));
  EXPECT_TRUE(contains(source, "const C v1 = widen(in1[0]);"));
  EXPECT_TRUE(contains(source, "const Pack p0 = *reinterpret_cast<const Pack*>(in0 + base);"));
  EXPECT_FALSE(contains(source, "in1 + base"));
  EXPECT_FALSE(contains(source, "in1[i]"));
}

TEST(FusedCodegen, SixteenBitTypesTakeEightElementsAThread) {
  EXPECT_EQ(fused_elements_per_thread(DType::BF16), 8);
  EXPECT_EQ(fused_elements_per_thread(DType::F64), 2);
  const std::string source =
      fused_kernel_source(fused_kernel_spec(scale_shift_relu(), DType::BF16, 0));
  EXPECT_TRUE(contains(source, "using T = __nv_bfloat16;"));
  EXPECT_TRUE(contains(source, "p2 = *reinterpret_cast<const Pack*>(in2 + base);"));
  EXPECT_TRUE(contains(source, "T v[8];"));
}

TEST(FusedCodegen, CompilesToSm90InEveryFloatingDType) {
  for (DType dtype : {DType::F32, DType::F16, DType::BF16, DType::F64}) {
    SCOPED_TRACE(dtype_name(dtype));
    EXPECT_TRUE(is_elf(compile_cubin(
        fused_kernel_source(fused_kernel_spec(scale_shift_relu(), dtype, 0b110)), kSm90)));
  }
  EXPECT_TRUE(is_elf(compile_cubin(
      fused_kernel_source(fused_kernel_spec(scale_shift_relu(), DType::F16, 0)), kSm90)));
}

TEST(FusedCodegen, TheLargestProgramWithEveryFusibleOpCompiles) {
  // In f32 only, the slowest compile here (a second or two); the other dtypes run the same
  // functors, f64 in double.
  EXPECT_TRUE(is_elf(compile_cubin(
      fused_kernel_source(fused_kernel_spec(every_op(), DType::F32, 0b10010100)), kSm90)));
}

// rtc_std.cuh, NVRTC's stand-in for <limits> and <type_traits>, against the host's standard
// library: a kernel of static_asserts on the values the host computes.
template <class T>
void expect_same_traits(std::string& checks, std::string_view type) {
  const std::string t(type);
  auto expect = [&](const std::string& expression, auto value) {
    checks += "static_assert((" + expression + ") == " + std::to_string(value) + "ull);\n";
  };
  expect("std::is_integral_v<" + t + ">", std::is_integral_v<T>);
  expect("std::is_floating_point_v<" + t + ">", std::is_floating_point_v<T>);
  expect("std::is_unsigned_v<" + t + ">", std::is_unsigned_v<T>);
  expect("std::is_same_v<const " + t + ", " + t + ">", false);
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    using U = std::make_unsigned_t<T>;
    const std::string u = "std::make_unsigned_t<" + t + ">";
    expect("std::is_unsigned_v<" + u + "> * sizeof(" + u + ")", std::is_unsigned_v<U> * sizeof(U));
    // Through unsigned long long, so that every value is one literal.
    expect("(unsigned long long)std::numeric_limits<" + t + ">::min()",
           static_cast<unsigned long long>(std::numeric_limits<T>::min()));
    expect("(unsigned long long)std::numeric_limits<" + t + ">::max()",
           static_cast<unsigned long long>(std::numeric_limits<T>::max()));
  }
}

TEST(FusedCodegen, TheStandardSubsetAgreesWithTheHostsStandardLibrary) {
  std::string checks = "#include <limits>\n#include <type_traits>\n";
#define TF_EXPECT_SAME_TRAITS_(T) expect_same_traits<T>(checks, #T);
  TF_EXPECT_SAME_TRAITS_(bool)
  TF_EXPECT_SAME_TRAITS_(char)
  TF_EXPECT_SAME_TRAITS_(signed char)
  TF_EXPECT_SAME_TRAITS_(unsigned char)
  TF_EXPECT_SAME_TRAITS_(short)
  TF_EXPECT_SAME_TRAITS_(unsigned short)
  TF_EXPECT_SAME_TRAITS_(int)
  TF_EXPECT_SAME_TRAITS_(unsigned)
  TF_EXPECT_SAME_TRAITS_(long)
  TF_EXPECT_SAME_TRAITS_(unsigned long)
  TF_EXPECT_SAME_TRAITS_(long long)
  TF_EXPECT_SAME_TRAITS_(unsigned long long)
  TF_EXPECT_SAME_TRAITS_(float)
  TF_EXPECT_SAME_TRAITS_(double)
#undef TF_EXPECT_SAME_TRAITS_
  checks += "static_assert(std::is_same_v<std::conditional_t<true, int, float>, int>);\n";
  checks += "static_assert(std::is_same_v<std::conditional_t<false, int, float>, float>);\n";
  EXPECT_TRUE(is_elf(compile_cubin(checks, kSm90))) << checks;
}

TEST(FusedCodegen, OnlyFloatingDTypesHaveKernels) {
  EXPECT_THROW(fused_kernel_spec(scale_shift_relu(), DType::I32, 0), DTypeError);
}

TEST(FusedCodegen, ACompileErrorCarriesNvrtcsLog) {
  try {
    compile_cubin("extern \"C\" __global__ void k() { undeclared(); }", kSm90);
    FAIL() << "expected a DeviceError";
  } catch (const DeviceError& e) {
    EXPECT_TRUE(contains(e.what(), "identifier \"undeclared\" is undefined")) << e.what();
  }
}

}  // namespace
}  // namespace tenflowers::cuda
