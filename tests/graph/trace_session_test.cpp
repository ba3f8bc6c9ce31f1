// Tracing eager code into a Graph and running it with a Session: the graph holds the ops the
// code called, runs give what eager execution gives, and bad feeds are refused.
#include <gtest/gtest.h>

#include <tenflowers/tenflowers.hpp>

#include "tests/support/reference.hpp"

namespace tenflowers::graph {
namespace {

using testing::Rng;

Tensor scale_shift_relu(const Tensor& x) {
  return relu(x * 1.5 + 0.25);
}

std::vector<Tensor> one_output(std::span<const Tensor> in) {
  return {scale_shift_relu(in[0])};
}

TEST(Trace, RecordsTheOpsTheCodeCalls) {
  const TensorSpec spec{{4, 3}, DType::F32, Device::cpu(), "x"};
  const Graph g = trace(one_output, std::span(&spec, 1));
  EXPECT_EQ(g.placeholders().size(), 1u);
  EXPECT_EQ(g.count_ops("mul"), 1u);
  EXPECT_EQ(g.count_ops("add"), 1u);
  EXPECT_EQ(g.count_ops("relu"), 1u);
  EXPECT_EQ(g.count_ops(), 3u);
  ASSERT_EQ(g.outputs().size(), 1u);
  EXPECT_EQ(g.meta(g.outputs()[0]).shape, Dims({4, 3}));
  EXPECT_NE(g.str().find("placeholder 'x'"), std::string::npos) << g.str();
}

TEST(Session, RunsLikeEagerCode) {
  Rng rng = Rng::for_test();
  const Tensor x = testing::random_tensor(rng, {5, 7}, DType::F32, -2, 2);
  const TensorSpec spec = TensorSpec(x.shape(), x.dtype());
  const Session session(trace(one_output, std::span(&spec, 1)));
  const Tensor y = session.run({x})[0];
  EXPECT_EQ(y.to_vector<float>(), scale_shift_relu(x).to_vector<float>());
  const Tensor by_name = session.run({{"input0", x}})[0];
  EXPECT_EQ(by_name.to_vector<float>(), y.to_vector<float>());
}

TEST(Session, RefusesBadFeeds) {
  const TensorSpec spec = TensorSpec({2, 2}, DType::F32);
  const Session session(trace(one_output, std::span(&spec, 1)));
  EXPECT_THROW(session.run({zeros({2, 3})}), InvalidArgument);
  EXPECT_THROW(session.run({zeros({2, 2}, DType::F64)}), InvalidArgument);
  EXPECT_THROW(session.run(std::vector<Tensor>{}), InvalidArgument);
  EXPECT_THROW(session.run({{"nope", zeros({2, 2})}}), InvalidArgument);
  EXPECT_THROW(session.run(std::vector<std::pair<std::string, Tensor>>{}), InvalidArgument);
}

TEST(Trace, CodeThatReadsValuesIsRefusedClearly) {
  const TensorSpec spec = TensorSpec({2}, DType::F32);
  const TracedFn reads = [](std::span<const Tensor> in) -> std::vector<Tensor> {
    return {in[0] * in[0].sum().item<float>()};
  };
  try {
    trace(reads, std::span(&spec, 1));
    FAIL() << "tracing code that reads a value must throw";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("cannot be traced"), std::string::npos) << e.what();
  }
}

TEST(Trace, CapturedTensorsAreReadAtEachRun) {
  Variable scale(Tensor::from_vec({2.0f}, {1}));
  const TracedFn fn = [&](std::span<const Tensor> in) -> std::vector<Tensor> {
    return {in[0] * scale.value()};
  };
  const TensorSpec spec = TensorSpec({3}, DType::F32);
  const Session session(trace(fn, std::span(&spec, 1)));
  const Tensor x = Tensor::from_vec({1.0f, 2.0f, 3.0f}, {3});
  EXPECT_EQ(session.run({x})[0].to_vector<float>(), (std::vector<float>{2, 4, 6}));
  scale.assign(Tensor::from_vec({-1.0f}, {1}));
  EXPECT_EQ(session.run({x})[0].to_vector<float>(), (std::vector<float>{-1, -2, -3}));
}

TEST(Trace, RandomOpsDrawAnewAtEachRun) {
  const TracedFn fn = [](std::span<const Tensor> in) -> std::vector<Tensor> {
    return {in[0] + uniform({64})};
  };
  const TensorSpec spec = TensorSpec({64}, DType::F32);
  const Session session(trace(fn, std::span(&spec, 1)));
  const Tensor x = zeros({64});
  EXPECT_NE(session.run({x})[0].to_vector<float>(), session.run({x})[0].to_vector<float>());
  const TracedFn seeded = [](std::span<const Tensor> in) -> std::vector<Tensor> {
    return {in[0] + uniform({64}, 0.0, 1.0, DType::F32, 7)};
  };
  const Session same(trace(seeded, std::span(&spec, 1)));
  EXPECT_EQ(same.run({x})[0].to_vector<float>(), same.run({x})[0].to_vector<float>());
}

TEST(Graph, BuiltNodeByNodeWithShapesFromTheInferRules) {
  Graph g;
  const ValueRef a = g.placeholder("a", DType::F32, {2, 3});
  const ValueRef b = g.placeholder("b", DType::F32, {3});
  const ValueRef sum = g.add_op1(registry().get("add"), {a, b});
  EXPECT_EQ(g.meta(sum).shape, Dims({2, 3}));
  EXPECT_THROW(g.add_op1(registry().get("matmul"), {a, a}), TensorError);  // [2,3] @ [2,3]
  EXPECT_THROW(g.placeholder("a", DType::F32, {1}), InvalidArgument);
  EXPECT_THROW(g.add_op1(registry().get("neg"), {ValueRef{9, 0}}), InvalidArgument);
  g.set_outputs({sum});
  const Session session(std::move(g));
  const Tensor out = session.run({ones({2, 3}), Tensor::from_vec({1.0f, 2.0f, 3.0f}, {3})})[0];
  EXPECT_EQ(out.to_vector<float>(), (std::vector<float>{2, 3, 4, 2, 3, 4}));
}

TEST(Passes, DeadNodesAreDropped) {
  const TracedFn fn = [](std::span<const Tensor> in) -> std::vector<Tensor> {
    const Tensor unused = exp(in[0]).sum();
    (void)unused;
    return {in[0] + 1.0};
  };
  const TensorSpec spec = TensorSpec({3}, DType::F32);
  const Graph g = trace(fn, std::span(&spec, 1));
  EXPECT_EQ(g.count_ops(), 3u);
  const Graph pruned = eliminate_dead_nodes(g);
  EXPECT_EQ(pruned.count_ops(), 1u);
  EXPECT_EQ(pruned.placeholders().size(), 1u);
}

}  // namespace
}  // namespace tenflowers::graph
