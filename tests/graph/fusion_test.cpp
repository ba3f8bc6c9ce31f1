// The elementwise fusion pass and Function: regions become one fused_elementwise node, results
// match eager execution, region boundaries hold, gradients flow, and bad programs are refused.
#include <gtest/gtest.h>

#include <tenflowers/tenflowers.hpp>

#include "tests/support/reference.hpp"

namespace tenflowers::graph {
namespace {

using testing::Rng;

Graph traced(const TracedFn& fn, std::vector<TensorSpec> specs) {
  return trace(fn, specs);
}

TEST(Fusion, AChainBecomesOneNodeComputingTheSameValues) {
  const TracedFn fn = [](std::span<const Tensor> in) -> std::vector<Tensor> {
    return {relu(in[0] * 1.5 + 0.25)};
  };
  const Graph g = fuse_elementwise(traced(fn, {TensorSpec({64, 33}, DType::F32)}));
  EXPECT_EQ(g.count_ops(), 1u) << g.str();
  EXPECT_EQ(g.count_ops("fused_elementwise"), 1u);
  Rng rng = Rng::for_test();
  const Tensor x = testing::random_tensor(rng, {64, 33}, DType::F32, -2, 2);
  // The fused kernel runs the same array kernels per step, in f32 like eager: equal bits.
  EXPECT_EQ(Session(g).run({x})[0].to_vector<float>(), fn(std::span(&x, 1))[0].to_vector<float>());
}

TEST(Fusion, RegionsStopAtOtherOpsSharedValuesOutputsAndDTypeChanges) {
  const TracedFn fn = [](std::span<const Tensor> in) -> std::vector<Tensor> {
    const Tensor h = tanh(in[0] * in[1]);                  // region 1 ends: read by sum too
    const Tensor s = h.sum({1}, true);                     // not fusible
    const Tensor out = sigmoid(h - s) * 2.0;               // region 2 (broadcasts s)
    const Tensor other = exp(out.cast(DType::F64)) + 1.0;  // the cast splits the regions
    return {out, other};
  };
  const Graph g =
      fuse_elementwise(traced(fn, {TensorSpec({3, 5}, DType::F32), TensorSpec({5}, DType::F32)}));
  EXPECT_EQ(g.count_ops("fused_elementwise"), 3u) << g.str();
  EXPECT_EQ(g.count_ops("sum"), 1u);
  EXPECT_EQ(g.count_ops("cast"), 1u);
  EXPECT_EQ(g.count_ops(), 5u) << g.str();
  Rng rng = Rng::for_test();
  const std::vector<Tensor> in = {testing::random_tensor(rng, {3, 5}, DType::F32, -2, 2),
                                  testing::random_tensor(rng, {5}, DType::F32, -2, 2)};
  const std::vector<Tensor> fused = Session(g).run(in);
  const std::vector<Tensor> eager = fn(in);
  ASSERT_EQ(fused.size(), 2u);
  for (size_t k = 0; k < 2; ++k) {
    EXPECT_EQ(fused[k].dtype(), eager[k].dtype());
    EXPECT_TRUE(allclose(fused[k], eager[k], 1e-6, 1e-6)) << k;
  }
}

TEST(Fusion, LongChainsSplitAtTheStepLimit) {
  const Tensor half = full({}, 0.5, DType::F64);  // one captured constant: one region input
  const TracedFn fn = [&](std::span<const Tensor> in) -> std::vector<Tensor> {
    Tensor x = in[0];
    for (size_t i = 0; i < kMaxFusedSteps + 5; ++i) x = sin(x) + half;
    return {x};
  };
  const Graph g = fuse_elementwise(traced(fn, {TensorSpec({10}, DType::F64)}));
  EXPECT_EQ(g.count_ops("fused_elementwise"), 3u) << g.str();
  Rng rng = Rng::for_test();
  const Tensor x = testing::random_tensor(rng, {10}, DType::F64, -2, 2);
  EXPECT_TRUE(allclose(Session(g).run({x})[0], fn(std::span(&x, 1))[0], 1e-12, 1e-12));
}

TEST(Function, TracesOncePerSignatureAndFuses) {
  int traces = 0;
  Function f([&](const Tensor& x) {
    ++traces;
    return relu(x * 1.5 + 0.25);
  });
  const Tensor a = ones({8});
  f.call1(a);
  f.call1(a * 2.0);
  EXPECT_EQ(traces, 1);
  f.call1(ones({4, 2}));
  f.call1(ones({8}, DType::F64));
  EXPECT_EQ(traces, 3);
  EXPECT_EQ(f.num_traces(), 3u);
  EXPECT_EQ(f.graph_for(std::span(&a, 1)).count_ops("fused_elementwise"), 1u);
  EXPECT_THROW(f({a, a}), InvalidArgument);
}

TEST(Function, GradientsFlowThroughFusedRegions) {
  Function f([](const Tensor& x) { return tanh(x * x + 0.5) * sigmoid(x); });
  Rng rng = Rng::for_test();
  const Tensor x = testing::random_tensor(rng, {6, 4}, DType::F64, -2, 2);
  Tensor fused_grad, eager_grad;
  {
    GradientTape tape;
    tape.watch(x);
    const Tensor y = f.call1(x).sum();
    fused_grad = tape.gradient(y, x);
  }
  {
    GradientTape tape;
    tape.watch(x);
    const Tensor y = (tanh(x * x + 0.5) * sigmoid(x)).sum();
    eager_grad = tape.gradient(y, x);
  }
  EXPECT_TRUE(allclose(fused_grad, eager_grad, 1e-12, 1e-12));
  // Second order through the fused node's gradient, which is written in ops.
  GradientTape outer;
  outer.watch(x);
  Tensor first;
  {
    GradientTape inner;
    inner.watch(x);
    first = inner.gradient(f.call1(x).sum(), x);
  }
  GradientTape outer_eager;
  outer_eager.watch(x);
  Tensor first_eager;
  {
    GradientTape inner;
    inner.watch(x);
    first_eager = inner.gradient((tanh(x * x + 0.5) * sigmoid(x)).sum(), x);
  }
  EXPECT_TRUE(allclose(outer.gradient(first.sum(), x), outer_eager.gradient(first_eager.sum(), x),
                       1e-10, 1e-10));
}

TEST(FusedElementwise, RefusesBadPrograms) {
  const Tensor x = ones({3});
  const OpDef& op = registry().get("fused_elementwise");
  auto call = [&](std::vector<Tensor> inputs, Attrs attrs) { return dispatch1(op, inputs, attrs); };
  EXPECT_THROW(
      call({x}, {{"ops", std::string("matmul")}, {"operands", std::vector<int64_t>{0, 0}}}),
      InvalidArgument);
  EXPECT_THROW(call({x}, {{"ops", std::string("neg")}, {"operands", std::vector<int64_t>{1, -1}}}),
               InvalidArgument);
  EXPECT_THROW(call({x}, {{"ops", std::string("neg")}, {"operands", std::vector<int64_t>{0, 0}}}),
               InvalidArgument);
  EXPECT_THROW(
      call({x, x}, {{"ops", std::string("neg")}, {"operands", std::vector<int64_t>{0, -1}}}),
      InvalidArgument);  // input 1 unused
  EXPECT_THROW(call({x}, {{"ops", std::string("neg,neg")},
                          {"operands", std::vector<int64_t>{0, -1, 0, -1}}}),
               InvalidArgument);  // step 0 unused
  EXPECT_THROW(call({x}, {{"ops", std::string("neg")}, {"operands", std::vector<int64_t>{0}}}),
               InvalidArgument);
  EXPECT_THROW(call({x}, {{"operands", std::vector<int64_t>{0, -1}}}), InvalidArgument);
  EXPECT_THROW(call({x, ones({3}, DType::F64)},
                    {{"ops", std::string("add")}, {"operands", std::vector<int64_t>{0, 1}}}),
               DTypeError);
  EXPECT_THROW(call({ones({3}, DType::I32)},
                    {{"ops", std::string("neg")}, {"operands", std::vector<int64_t>{0, -1}}}),
               DTypeError);
  EXPECT_THROW(call({}, {{"ops", std::string("neg")}, {"operands", std::vector<int64_t>{0, -1}}}),
               InvalidArgument);
}

TEST(FusedElementwise, EveryFusibleOpRunsOnTheCpu) {
  const Tensor x = full({4}, 0.5);
  for (std::string_view name : fusible_elementwise_ops()) {
    const OpDef& op = registry().get(name);
    SCOPED_TRACE(std::string(name));
    const FusedProgram program{1, {{&op, 0, op.num_inputs == 1 ? -1 : 0}}};
    const Tensor fused = fused_elementwise(std::span(&x, 1), program);
    const Tensor eager = op.num_inputs == 1 ? dispatch1(op, {x}) : dispatch1(op, {x, x});
    EXPECT_EQ(fused.to_vector<float>(), eager.to_vector<float>());
  }
}

}  // namespace
}  // namespace tenflowers::graph
