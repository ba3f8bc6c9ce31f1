// Creation, random streams and allclose: edge cases and typed errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include <tenflowers/tenflowers.hpp>

namespace tf = tenflowers;
using tf::DType;
using tf::Tensor;

namespace {

bool bitwise_equal(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         std::memcmp(a.contiguous().data_ptr(), b.contiguous().data_ptr(), a.nbytes()) == 0;
}

// Records the attributes of the last op call it sees.
struct LastCall : tf::DispatchHook {
  const tf::OpDef* op = nullptr;
  tf::Attrs attrs;
  void on_op(const tf::OpDef& o, std::span<const Tensor>, const tf::Attrs& a,
             std::span<const Tensor>) override {
    op = &o;
    attrs = a;
  }
};

}  // namespace

TEST(Creation, OpsTakeNoInputsAndHaveNoGradient) {
  for (const char* name : {"fill", "arange", "linspace", "eye", "uniform", "normal",
                           "truncated_normal", "bernoulli", "permutation"}) {
    const tf::OpDef& op = tf::registry().get(name);
    EXPECT_EQ(op.num_inputs, 0) << name;
    EXPECT_FALSE(op.differentiable) << name;
  }
}

TEST(Creation, ShapesAndDefaults) {
  Tensor z = tf::zeros({2, 3});
  EXPECT_EQ(z.dtype(), DType::F32);
  EXPECT_TRUE(z.device().is_cpu());
  EXPECT_EQ(z.shape(), tf::Dims({2, 3}));
  EXPECT_EQ(tf::ones({}).item<float>(), 1.0f);  // 0-d
  EXPECT_EQ(tf::full({0, 4}, 7.0).numel(), 0);
  EXPECT_EQ(tf::full({3}, -2.5, DType::BF16).to_vector<float>(), std::vector<float>(3, -2.5f));
  EXPECT_EQ(tf::eye(2).to_vector<float>(), (std::vector<float>{1, 0, 0, 1}));
  EXPECT_EQ(tf::eye(2, 3, DType::I32).to_vector<int>(), (std::vector<int>{1, 0, 0, 0, 1, 0}));
  EXPECT_EQ(tf::arange(4).to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(tf::arange(5.0, 0.0, -2.0).to_vector<float>(), (std::vector<float>{5, 3, 1}));
  EXPECT_EQ(tf::arange(0.0, 1.0, 0.25, DType::F64).to_vector<double>(),
            (std::vector<double>{0, 0.25, 0.5, 0.75}));
  EXPECT_EQ(tf::arange(3.0, 3.0).numel(), 0);
  EXPECT_EQ(tf::arange(3.0, 1.0).numel(), 0);  // a range the step never reaches is empty
  EXPECT_EQ(tf::linspace(2.0, 9.0, 1).to_vector<float>(), (std::vector<float>{2}));
  EXPECT_EQ(tf::linspace(0.0, 1.0, 5, DType::F64).to_vector<double>(),
            (std::vector<double>{0, 0.25, 0.5, 0.75, 1}));
  EXPECT_EQ(tf::linspace(0.0, 10.0, 4, DType::I32).to_vector<int>(),
            (std::vector<int>{0, 3, 6, 10}));  // truncated like a cast
  Tensor like = tf::arange(6, DType::I8).reshape({2, 3}).t();
  Tensor f = tf::full_like(like, 4);
  EXPECT_EQ(f.dtype(), DType::I8);
  EXPECT_EQ(f.shape(), tf::Dims({3, 2}));
  EXPECT_TRUE(f.is_contiguous());
}

TEST(Creation, TypedErrorsNameTheOp) {
  EXPECT_THROW(tf::zeros({-1}), tf::ShapeError);
  EXPECT_THROW(tf::uniform({2, -3}), tf::ShapeError);
  EXPECT_THROW(tf::eye(-2), tf::InvalidArgument);
  EXPECT_THROW(tf::eye(2, -1), tf::InvalidArgument);
  EXPECT_THROW(tf::linspace(0, 1, -3), tf::InvalidArgument);
  EXPECT_THROW(tf::arange(0.0, NAN), tf::InvalidArgument);
  EXPECT_THROW(tf::arange(0.0, 1e300, 1e-300), tf::InvalidArgument);  // too many elements
  EXPECT_THROW(tf::arange(-1, 3, 1, DType::U8), tf::InvalidArgument);
  EXPECT_THROW(tf::linspace(0, 1000, 3, DType::I8), tf::InvalidArgument);
  EXPECT_THROW(tf::uniform({2}, 0, INFINITY), tf::InvalidArgument);
  EXPECT_THROW(tf::uniform({2}, -1e308, 1e308), tf::InvalidArgument);
  EXPECT_THROW(tf::normal({2}, 0, 1, DType::Bool), tf::DTypeError);
  EXPECT_THROW(tf::truncated_normal({2}, 0, 1, DType::U8), tf::DTypeError);
  EXPECT_THROW(tf::permutation(-5), tf::InvalidArgument);
  try {
    tf::arange(0.0, 4.0, 0.0);
    FAIL() << "expected InvalidArgument";
  } catch (const tf::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("op 'arange'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("step must be nonzero"), std::string::npos) << e.what();
  }
}

TEST(Random, UnseededCallsReserveOneCounterPerElement) {
  tf::manual_seed(1234);
  tf::uniform({3, 5});
  tf::permutation(7);
  const tf::RandomStream stream = tf::next_random_stream(0);
  EXPECT_EQ(stream.seed, 1234u);
  EXPECT_EQ(stream.offset, 22u);
}

TEST(Random, RecordedCallsReplayExactly) {
  // A tracer that records an op call and runs it again gets the same numbers: the stream is in
  // the attributes. An explicit seed starts at offset 0.
  LastCall hook;
  Tensor first;
  {
    tf::ScopedHook scope(&hook);
    first = tf::normal({50}, 1.0, 2.0, DType::F64);
  }
  ASSERT_NE(hook.op, nullptr);
  EXPECT_EQ(hook.op->name, "normal");
  EXPECT_TRUE(bitwise_equal(tf::dispatch1(*hook.op, {}, hook.attrs), first));
  {
    tf::ScopedHook scope(&hook);
    tf::uniform({2}, 0, 1, DType::F32, uint64_t{0xfeedbeefcafe1234});
  }
  EXPECT_EQ(static_cast<uint64_t>(hook.attrs.get_int("seed")), 0xfeedbeefcafe1234u);
  EXPECT_EQ(hook.attrs.get_int("offset"), 0);
}

TEST(Random, SeedsGiveDifferentStreams) {
  EXPECT_FALSE(bitwise_equal(tf::uniform({100}, 0, 1, DType::F32, 1),
                             tf::uniform({100}, 0, 1, DType::F32, 2)));
  EXPECT_TRUE(bitwise_equal(tf::permutation(100, 5), tf::permutation(100, 5)));
  EXPECT_FALSE(bitwise_equal(tf::permutation(100, 5), tf::permutation(100, 6)));
}

TEST(Random, EdgeCases) {
  EXPECT_EQ(tf::normal({}).numel(), 1);
  EXPECT_EQ(tf::truncated_normal({0, 3}).numel(), 0);
  EXPECT_EQ(tf::permutation(0).numel(), 0);
  EXPECT_EQ(tf::permutation(1).to_vector<int64_t>(), std::vector<int64_t>{0});
  // A range so narrow that f16 rounding would reach `high` still stays below it.
  const std::vector<float> narrow = tf::uniform({1000}, 1.0, 1.0009765625, DType::F16, 3)
                                        .to_vector<float>();  // [1, 1 + one f16 ulp)
  for (float v : narrow) EXPECT_EQ(v, 1.0f);
  Tensor t = tf::truncated_normal({1000}, 5.0, 0.0, DType::F32, 9);
  EXPECT_EQ(t.to_vector<float>(), std::vector<float>(1000, 5.0f));
}

TEST(AllClose, ToleranceSemantics) {
  Tensor a = Tensor::from_vec({1.0, 2.0, 3.0}, {3});
  EXPECT_TRUE(tf::allclose(a, a));
  EXPECT_TRUE(tf::allclose(a, Tensor::from_vec({1.0, 2.0, 3.0 + 2e-5}, {3})));
  EXPECT_FALSE(tf::allclose(a, Tensor::from_vec({1.0, 2.0, 3.0 + 1e-4}, {3})));
  EXPECT_TRUE(tf::allclose(a, Tensor::from_vec({1.1, 2.0, 3.0}, {3}), 0.0, 0.1 + 1e-12));
  // rtol scales |b| only: not symmetric.
  Tensor x = Tensor::from_scalar(1.0), y = Tensor::from_scalar(2.0);
  EXPECT_TRUE(tf::allclose(x, y, 0.5, 0.0));
  EXPECT_FALSE(tf::allclose(y, x, 0.5, 0.0));
  EXPECT_THROW(tf::allclose(x, y, -1.0), tf::InvalidArgument);
}

TEST(AllClose, NansInfinitiesAndDTypes) {
  Tensor n = Tensor::from_vec({NAN, 1.0f}, {2});
  EXPECT_FALSE(tf::allclose(n, n));
  EXPECT_TRUE(tf::allclose(n, n, 1e-5, 1e-8, true));
  EXPECT_FALSE(tf::allclose(n, Tensor::from_vec({1.0f, 1.0f}, {2}), 1e-5, 1e-8, true));
  Tensor inf = Tensor::from_vec({INFINITY, -INFINITY}, {2});
  EXPECT_TRUE(tf::allclose(inf, inf));
  EXPECT_FALSE(tf::allclose(inf, Tensor::from_vec({INFINITY, INFINITY}, {2})));
  EXPECT_FALSE(tf::allclose(inf, Tensor::from_vec({1e30f, -1e30f}, {2}), 1.0, 1.0));
  // Mixed dtypes compare values.
  EXPECT_TRUE(tf::allclose(tf::arange(5, DType::I32), tf::arange(0.0, 5.0, 1.0, DType::F16)));
  EXPECT_TRUE(tf::allclose(tf::ones({2}, DType::Bool), tf::ones({2}, DType::U8)));
}

TEST(AllClose, BroadcastingLayoutsAndShapeErrors) {
  Tensor m = tf::arange(6, DType::F32).reshape({2, 3});
  Tensor row = tf::arange(3, DType::F64);
  EXPECT_FALSE(tf::allclose(m, row));
  EXPECT_TRUE(tf::allclose(m.slice(0, 0, 1), row));
  EXPECT_TRUE(tf::allclose(tf::full({4, 1}, 2.0), tf::full({3}, 2.0)));
  EXPECT_TRUE(tf::allclose(tf::zeros({0, 3}), tf::zeros({3})));
  // Transposed and strided inputs compare in logical order.
  Tensor t = m.t();  // [[0, 3], [1, 4], [2, 5]]
  EXPECT_TRUE(tf::allclose(t, Tensor::from_vec({0.f, 3.f, 1.f, 4.f, 2.f, 5.f}, {3, 2})));
  EXPECT_TRUE(tf::allclose(m.slice(1, 0, {}, 2), Tensor::from_vec({0.f, 2.f, 3.f, 5.f}, {2, 2})));
  EXPECT_THROW(tf::allclose(m, tf::zeros({2})), tf::ShapeError);
  EXPECT_THROW(tf::allclose(m, Tensor()), tf::InvalidArgument);
}
