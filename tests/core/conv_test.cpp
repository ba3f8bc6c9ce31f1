// Convolution and pooling: output shapes, exact small cases, the 1-d compositions, the adjoint
// relation between conv2d and conv_transpose2d, and every validation error.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numeric>

#include <tenflowers/tenflowers.hpp>

#include "tests/support/reference.hpp"

namespace tf = tenflowers;
using tf::Conv2dOptions;
using tf::Dims;
using tf::DType;
using tf::Tensor;

namespace {

// A tensor of `shape` holding first, first + 1, ... in row-major order.
Tensor counting(Dims shape, double first = 1.0, DType dtype = DType::F32) {
  std::vector<double> values(static_cast<size_t>(shape.numel()));
  std::iota(values.begin(), values.end(), first);
  return Tensor::from_vec(values, shape).cast(dtype);
}

// Small integers (i mod 17 - 8): sums of their products are exact in any order.
Tensor pattern(Dims shape, DType dtype = DType::F64) {
  std::vector<double> values(static_cast<size_t>(shape.numel()));
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<double>(i % 17) - 8;
  return Tensor::from_vec(values, shape).cast(dtype);
}

Tensor filled(Dims shape, double value, DType dtype = DType::F32) {
  return Tensor::from_vec(std::vector<double>(static_cast<size_t>(shape.numel()), value), shape)
      .cast(dtype);
}

double dot(const Tensor& a, const Tensor& b) {
  const std::vector<double> x = a.to_vector<double>(), y = b.to_vector<double>();
  return std::inner_product(x.begin(), x.end(), y.begin(), 0.0);
}

Conv2dOptions options(std::vector<int64_t> stride, std::vector<int64_t> padding,
                      std::string mode = "", std::vector<int64_t> dilation = {1, 1},
                      int64_t groups = 1) {
  return Conv2dOptions{std::move(stride), std::move(padding), std::move(mode), std::move(dilation),
                       groups};
}

}  // namespace

TEST(Conv2d, OutputShapes) {
  const Tensor x = filled({2, 4, 9, 7}, 1);
  const Tensor w = filled({6, 4, 3, 3}, 1);
  EXPECT_EQ(tf::conv2d(x, w).shape(), Dims({2, 6, 7, 5}));
  EXPECT_EQ(tf::conv2d(x, w, {}, options({2, 2}, {1, 1})).shape(), Dims({2, 6, 5, 4}));
  EXPECT_EQ(tf::conv2d(x, w, {}, options({1, 1}, {0, 0}, "", {2, 3})).shape(), Dims({2, 6, 5, 1}));
  EXPECT_EQ(tf::conv2d(x, w, {}, options({2, 3}, {0, 0}, "same")).shape(), Dims({2, 6, 5, 3}));
  EXPECT_EQ(tf::conv2d(x, w, {}, options({2, 2}, {0, 0}, "valid")).shape(), Dims({2, 6, 4, 3}));
  const Tensor grouped = filled({6, 2, 1, 1}, 1);
  EXPECT_EQ(tf::conv2d(x, grouped, filled({6}, 0), options({1, 1}, {0, 0}, "", {1, 1}, 2)).shape(),
            Dims({2, 6, 9, 7}));
  const Tensor depthwise = filled({8, 1, 3, 3}, 1);
  EXPECT_EQ(tf::conv2d(x, depthwise, {}, options({1, 1}, {1, 1}, "", {1, 1}, 4)).shape(),
            Dims({2, 8, 9, 7}));
}

TEST(Conv2d, EmptyBatchAndZeroChannels) {
  EXPECT_EQ(tf::conv2d(filled({0, 3, 5, 5}, 1), filled({2, 3, 3, 3}, 1)).shape(),
            Dims({0, 2, 3, 3}));
  // No input channels: every output is its bias.
  const Tensor y = tf::conv2d(filled({1, 0, 4, 4}, 1), filled({2, 0, 3, 3}, 1),
                              Tensor::from_vec({0.5f, -2.f}, {2}));
  EXPECT_EQ(y.shape(), Dims({1, 2, 2, 2}));
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{0.5f, 0.5f, 0.5f, 0.5f, -2, -2, -2, -2}));
}

TEST(Conv2d, SamePaddingPutsTheOddPixelAtTheEnd) {
  // 4x4 input, 3x3 kernel, stride 2: output 2x2 and one padding row/column, at the bottom/right.
  const Tensor x = counting({1, 1, 4, 4});
  for (DType dtype : {DType::F32, DType::F64, DType::F16, DType::BF16}) {
    const Tensor y = tf::conv2d(x.cast(dtype), filled({1, 1, 3, 3}, 1, dtype), {},
                                options({2, 2}, {0, 0}, "same"));
    EXPECT_EQ(y.dtype(), dtype);
    EXPECT_EQ(y.to_vector<double>(), (std::vector<double>{54, 45, 72, 54}));
  }
}

TEST(Conv2d, SmallCaseWithBiasStrideAndDilation) {
  const Tensor x = counting({1, 1, 5, 5}, 0);
  const Tensor w = Tensor::from_vec({1.0, -1.0, 2.0, 0.5}, {1, 1, 2, 2});
  const Tensor y = tf::conv2d(x.cast(DType::F64), w, Tensor::from_vec({10.0}, {1}),
                              options({3, 3}, {0, 0}, "", {2, 2}));
  // Window at (0,0): taps (0,0), (0,2), (2,0), (2,2) = 0, 2, 10, 12.
  EXPECT_EQ(y.shape(), Dims({1, 1, 1, 1}));
  EXPECT_DOUBLE_EQ(y.item<double>(), 10 + 0 * 1 - 2 + 2 * 10 + 0.5 * 12);
}

// Batches split across threads, or one image at a time with threaded im2col and BLAS, or one
// thread: all give the same (exact, integer) results.
TEST(Conv2d, ResultDoesNotDependOnTheThreadCount) {
  const int threads = tf::get_num_threads();
  for (int64_t batch : {2, 5}) {
    const Tensor x = pattern({batch, 16, 32, 32});
    const Tensor w = pattern({16, 16, 3, 3});
    const Tensor b = pattern({16});
    std::vector<std::vector<double>> results;
    for (int count : {1, 3}) {
      tf::set_num_threads(count);
      results.push_back(tf::conv2d(x, w, b, options({1, 1}, {1, 1})).to_vector<double>());
      results.push_back(tf::conv_transpose2d(x, w, b).to_vector<double>());
    }
    EXPECT_EQ(results[0], results[2]);
    EXPECT_EQ(results[1], results[3]);
  }
  tf::set_num_threads(threads);
}

TEST(Conv1d, ComposesOverConv2d) {
  const Tensor x = counting({2, 2, 6});
  const Tensor w = filled({3, 2, 2}, 1);
  const Tensor y = tf::conv1d(x, w, Tensor::from_vec({0.f, 1.f, 2.f}, {3}), 2, 1);
  EXPECT_EQ(y.shape(), Dims({2, 3, 4}));
  // Image 0, channel 0: windows over [0 | 1..6 | 0] and [0 | 7..12 | 0] of width 2, stride 2.
  const std::vector<float> v = y.to_vector<float>();
  EXPECT_EQ(std::vector<float>(v.begin(), v.begin() + 4), (std::vector<float>{8, 22, 30, 18}));
  EXPECT_EQ(v[4], 9.f);
  EXPECT_EQ(tf::conv1d(x, w, {}, 1, 0, 1, 1, "same").shape(), Dims({2, 3, 6}));
  EXPECT_EQ(tf::conv1d(x, filled({4, 1, 3}, 1), {}, 1, 0, 2, 2).shape(), Dims({2, 4, 2}));
}

TEST(ConvTranspose2d, OutputShapes) {
  const Tensor x = filled({2, 4, 5, 6}, 1);
  EXPECT_EQ(tf::conv_transpose2d(x, filled({4, 3, 3, 3}, 1)).shape(), Dims({2, 3, 7, 8}));
  EXPECT_EQ(tf::conv_transpose2d(x, filled({4, 3, 3, 3}, 1), {}, {2, 2}, {1, 1}, {1, 0}).shape(),
            Dims({2, 3, 10, 11}));
  EXPECT_EQ(tf::conv_transpose2d(x, filled({4, 1, 2, 3}, 1), {}, {1, 2}, {0, 1}, {0, 1}, {2, 1}, 2)
                .shape(),
            Dims({2, 2, 7, 12}));
}

// conv_transpose2d is the adjoint of conv2d: <conv2d(x), y> = <x, conv_transpose2d(y)>.
TEST(ConvTranspose2d, IsTheAdjointOfConv2d) {
  const Tensor x = counting({2, 4, 9, 8}, -300).cast(DType::F64);
  const Tensor w = counting({6, 2, 3, 2}, -20).cast(DType::F64);
  const Conv2dOptions o = options({2, 3}, {1, 2}, "", {2, 1}, 2);
  const Tensor y = tf::conv2d(x, w, {}, o);
  const Tensor probe = counting(y.shape(), -100).cast(DType::F64);
  // Recover x's extents: the rows a stride step skipped come back as output_padding.
  const int64_t extra_h = 9 + 2 * 1 - (2 * (3 - 1) + 1) - (y.size(2) - 1) * 2;
  const int64_t extra_w = 8 + 2 * 2 - (1 * (2 - 1) + 1) - (y.size(3) - 1) * 3;
  const Tensor back =
      tf::conv_transpose2d(probe, w, {}, o.stride, o.padding, {extra_h, extra_w}, o.dilation, 2);
  ASSERT_EQ(back.shape(), x.shape());
  EXPECT_DOUBLE_EQ(dot(y, probe), dot(x, back));
}

TEST(Pool2d, ShapesAndValues) {
  const Tensor x = counting({1, 1, 4, 4});
  const Tensor m = tf::max_pool2d(x, {2, 2});
  EXPECT_EQ(m.shape(), Dims({1, 1, 2, 2}));
  EXPECT_EQ(m.to_vector<float>(), (std::vector<float>{6, 8, 14, 16}));
  const Tensor a = tf::avg_pool2d(x, {3, 3}, {2, 2}, {1, 1});
  EXPECT_EQ(a.shape(), Dims({1, 1, 2, 2}));
  EXPECT_EQ(a.to_vector<float>(), (std::vector<float>{14.f / 9, 30.f / 9, 57.f / 9, 99.f / 9}));
  const Tensor b = tf::avg_pool2d(x, {3, 3}, {2, 2}, {1, 1}, false);
  EXPECT_EQ(b.to_vector<float>(), (std::vector<float>{14.f / 4, 30.f / 6, 57.f / 6, 99.f / 9}));
  EXPECT_EQ(tf::max_pool2d(filled({2, 3, 7, 9}, 0), {3, 2}, {2, 3}, {1, 1}).shape(),
            Dims({2, 3, 4, 4}));
}

TEST(Pool2d, TwoByTwoMaxPropagatesNaNAndRoutesItsGradient) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // Two windows: the first holds a NaN after its maximum, the second ties at 3.
  const Tensor x = Tensor::from_vec({1.f, 2.f, 3.f, 0.f, nan, -1.f, 3.f, 3.f}, {1, 1, 2, 4});
  const std::vector<float> y = tf::max_pool2d(x, {2, 2}).to_vector<float>();
  ASSERT_EQ(y.size(), 2u);
  EXPECT_TRUE(std::isnan(y[0]));
  EXPECT_EQ(y[1], 3.f);
  const Tensor dy = Tensor::from_vec({10.f, 20.f}, {1, 1, 1, 2});
  const Tensor dx = tf::dispatch1(tf::registry().get("max_pool2d_grad"), {x, dy},
                                  tf::Attrs{{"kernel", std::vector<int64_t>{2, 2}},
                                            {"stride", std::vector<int64_t>{2, 2}},
                                            {"pads", std::vector<int64_t>{0, 0, 0, 0}}});
  // The NaN is the first window's maximum; the first 3 (row-major) wins the tie.
  EXPECT_EQ(dx.to_vector<float>(), (std::vector<float>{0, 0, 20, 0, 10, 0, 0, 0}));
}

// The vectorized f32 rows of the 2x2 pool and its gradient agree with the scalar f64 loops: ties
// (values on a coarse grid), NaNs, widths with and without a remainder and narrower than four
// windows, odd trailing rows and columns, and gradients with strided rows.
TEST(Pool2d, TwoByTwoMaxAndItsGradientInF32MatchF64) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const tf::Attrs attrs{{"kernel", std::vector<int64_t>{2, 2}},
                        {"stride", std::vector<int64_t>{2, 2}},
                        {"pads", std::vector<int64_t>{0, 0, 0, 0}}};
  const tf::OpDef& grad_op = tf::registry().get("max_pool2d_grad");
  tf::testing::Rng rng = tf::testing::Rng::for_test();
  for (const Dims& shape :
       {Dims{2, 3, 10, 22}, Dims{1, 2, 9, 19}, Dims{1, 1, 4, 8}, Dims{1, 2, 6, 7}}) {
    const int64_t n = shape[0] * shape[1] * shape[2] * shape[3];
    std::vector<float> xs(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      xs[static_cast<size_t>(i)] =
          rng.integer(0, 30) == 0 ? nan : static_cast<float>(rng.integer(0, 4));
    }
    const Tensor x = Tensor::from_vec(xs, shape);
    const std::vector<float> pooled = tf::max_pool2d(x, {2, 2}).to_vector<float>();
    const std::vector<double> pooled_want =
        tf::max_pool2d(x.cast(DType::F64), {2, 2}).to_vector<double>();
    ASSERT_EQ(pooled.size(), pooled_want.size());
    for (size_t i = 0; i < pooled.size(); ++i) {
      if (std::isnan(pooled_want[i])) {
        EXPECT_TRUE(std::isnan(pooled[i])) << "at " << i;
      } else {
        EXPECT_EQ(static_cast<double>(pooled[i]), pooled_want[i]) << "at " << i;
      }
    }
    const Dims out_shape{shape[0], shape[1], shape[2] / 2, shape[3] / 2};
    const Tensor dy = tf::uniform(out_shape, 1.0, 2.0, DType::F32, rng.integer(0, 1 << 30));
    // The same gradient as a transposed view: its rows are strided.
    const Tensor dy_strided = dy.transpose().contiguous().transpose();
    const std::vector<double> want =
        tf::dispatch1(grad_op, {x.cast(DType::F64), dy.cast(DType::F64)}, attrs)
            .to_vector<double>();
    for (const Tensor& grad : {dy, dy_strided}) {
      const std::vector<float> got = tf::dispatch1(grad_op, {x, grad}, attrs).to_vector<float>();
      ASSERT_EQ(got.size(), want.size());
      for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(static_cast<double>(got[i]), want[i]) << "at " << i;
      }
    }
  }
}

TEST(Pool2d, MaxPropagatesNaNAndIgnoresPadding) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor x = Tensor::from_vec({-5.f, nan, -7.f, -8.f}, {1, 1, 2, 2});
  const std::vector<float> y = tf::max_pool2d(x, {2, 2}, {1, 1}, {1, 1}).to_vector<float>();
  ASSERT_EQ(y.size(), 9u);
  EXPECT_EQ(y[0], -5.f);  // the padding (-inf) never wins
  EXPECT_TRUE(std::isnan(y[1]));
  EXPECT_TRUE(std::isnan(y[4]));
  EXPECT_EQ(y[6], -7.f);
  EXPECT_EQ(y[8], -8.f);
}

TEST(Pool1d, ComposesOverPool2d) {
  const Tensor x = counting({1, 2, 5});
  const Tensor m = tf::max_pool1d(x, 2);
  EXPECT_EQ(m.shape(), Dims({1, 2, 2}));
  EXPECT_EQ(m.to_vector<float>(), (std::vector<float>{2, 4, 7, 9}));
  const Tensor a = tf::avg_pool1d(x, 3, 1, 1, false);
  EXPECT_EQ(a.shape(), Dims({1, 2, 5}));
  EXPECT_EQ(a.to_vector<float>(), (std::vector<float>{1.5, 2, 3, 4, 4.5, 6.5, 7, 8, 9, 9.5}));
  EXPECT_EQ(tf::avg_pool1d(x, 3, 1, 1).to_vector<float>()[0], 1.f);
}

TEST(ConvErrors, Conv2dShapes) {
  const Tensor x = filled({1, 3, 8, 8}, 1);
  const Tensor w = filled({4, 3, 3, 3}, 1);
  EXPECT_THROW(tf::conv2d(filled({3, 8, 8}, 1), w), tf::ShapeError);
  EXPECT_THROW(tf::conv2d(x, filled({4, 3, 3}, 1)), tf::ShapeError);
  EXPECT_THROW(tf::conv2d(x, filled({4, 2, 3, 3}, 1)), tf::ShapeError);  // 3 channels vs 2
  EXPECT_THROW(tf::conv2d(x, filled({4, 1, 3, 3}, 1), {}, options({1, 1}, {0, 0}, "", {1, 1}, 2)),
               tf::ShapeError);  // 3 channels in 2 groups
  EXPECT_THROW(tf::conv2d(filled({1, 4, 8, 8}, 1), filled({3, 2, 3, 3}, 1), {},
                          options({1, 1}, {0, 0}, "", {1, 1}, 2)),
               tf::ShapeError);  // 3 output channels in 2 groups
  EXPECT_THROW(tf::conv2d(x, filled({4, 3, 0, 3}, 1)), tf::ShapeError);
  EXPECT_THROW(tf::conv2d(x, w, filled({3}, 0)), tf::ShapeError);
  EXPECT_THROW(tf::conv2d(x, w, filled({1, 4}, 0)), tf::ShapeError);
  try {
    tf::conv2d(filled({1, 3, 3, 3}, 1), filled({4, 3, 3, 3}, 1), {},
               options({1, 1}, {0, 0}, "", {2, 2}));
    FAIL() << "expected a ShapeError";
  } catch (const tf::ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("input 3x3"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("dilated kernel 5x5"), std::string::npos) << e.what();
  }
}

TEST(ConvErrors, Conv2dArguments) {
  const Tensor x = filled({1, 4, 8, 8}, 1);
  const Tensor w = filled({4, 4, 3, 3}, 1);
  EXPECT_THROW(tf::conv2d(x, w, {}, options({0, 1}, {0, 0})), tf::InvalidArgument);
  EXPECT_THROW(tf::conv2d(x, w, {}, options({1, 1}, {0, 0}, "same", {1, 0})), tf::InvalidArgument);
  EXPECT_THROW(tf::conv2d(x, w, {}, options({1, 1}, {-1, 0})), tf::InvalidArgument);
  EXPECT_THROW(tf::conv2d(x, w, {}, options({1, 1}, {0, 0}, "", {1, 1}, 0)), tf::InvalidArgument);
  EXPECT_THROW(tf::conv2d(x, w, {}, options({1, 1, 1}, {0, 0})), tf::InvalidArgument);
  EXPECT_THROW(tf::conv2d(x, w, {}, options({1, 1}, {0})), tf::InvalidArgument);
  EXPECT_THROW(tf::conv2d(x, w, {}, options({1, 1}, {0, 0}, "full")), tf::InvalidArgument);
  EXPECT_THROW(tf::conv2d(x, w, {}, options({1, 1}, {1, 1}, "same")), tf::InvalidArgument);
  EXPECT_THROW(tf::conv2d(x.cast(DType::I32), w.cast(DType::I32)), tf::DTypeError);
  EXPECT_THROW(tf::conv2d(x, w.cast(DType::F64)), tf::DTypeError);
  EXPECT_THROW(tf::conv2d(x, w, filled({4}, 0, DType::F16)), tf::DTypeError);
  EXPECT_THROW(tf::conv2d(x, Tensor()), tf::InvalidArgument);
}

TEST(ConvErrors, Conv1d) {
  EXPECT_THROW(tf::conv1d(filled({1, 3, 8, 8}, 1), filled({2, 3, 3}, 1)), tf::ShapeError);
  EXPECT_THROW(tf::conv1d(filled({1, 3, 8}, 1), filled({2, 3, 3, 1}, 1)), tf::ShapeError);
  EXPECT_THROW(tf::conv1d(filled({1, 3, 2}, 1), filled({2, 3, 3}, 1)), tf::ShapeError);
  EXPECT_THROW(tf::conv1d(filled({1, 3, 8}, 1), filled({2, 3, 3}, 1), {}, 0), tf::InvalidArgument);
}

TEST(ConvErrors, ConvTranspose2d) {
  const Tensor x = filled({1, 4, 5, 5}, 1);
  const Tensor w = filled({4, 2, 3, 3}, 1);
  EXPECT_THROW(tf::conv_transpose2d(filled({4, 5, 5}, 1), w), tf::ShapeError);
  EXPECT_THROW(tf::conv_transpose2d(x, filled({3, 2, 3, 3}, 1)), tf::ShapeError);
  EXPECT_THROW(tf::conv_transpose2d(x, w, {}, {1, 1}, {0, 0}, {0, 0}, {1, 1}, 3), tf::ShapeError);
  EXPECT_THROW(tf::conv_transpose2d(x, w, filled({3}, 0)), tf::ShapeError);
  EXPECT_THROW(tf::conv_transpose2d(x, w, {}, {2, 2}, {0, 0}, {2, 0}), tf::InvalidArgument);
  EXPECT_THROW(tf::conv_transpose2d(x, w, {}, {1, 1}, {0, 0}, {-1, 0}), tf::InvalidArgument);
  EXPECT_THROW(tf::conv_transpose2d(x, w, {}, {0, 1}), tf::InvalidArgument);
  EXPECT_THROW(tf::conv_transpose2d(x, w, {}, {1, 1}, {-1, 0}), tf::InvalidArgument);
  EXPECT_THROW(tf::conv_transpose2d(x, w, {}, {1, 1}, {4, 0}), tf::ShapeError);  // empty output
  EXPECT_THROW(tf::conv_transpose2d(filled({1, 4, 0, 5}, 1), w), tf::ShapeError);
  EXPECT_THROW(tf::conv_transpose2d(x.cast(DType::I64), w.cast(DType::I64)), tf::DTypeError);
  // output_padding below the dilation is allowed even when it reaches the stride.
  EXPECT_EQ(tf::conv_transpose2d(x, w, {}, {1, 1}, {0, 0}, {1, 1}, {2, 2}).shape(),
            Dims({1, 2, 10, 10}));
}

TEST(ConvErrors, Pooling) {
  const Tensor x = filled({1, 2, 6, 6}, 1);
  EXPECT_THROW(tf::max_pool2d(x, {3, 3}, {1, 1}, {2, 0}), tf::InvalidArgument);  // pad > k / 2
  EXPECT_THROW(tf::avg_pool2d(x, {2, 2}, {1, 1}, {0, 2}), tf::InvalidArgument);
  EXPECT_THROW(tf::max_pool2d(x, {0, 2}), tf::InvalidArgument);
  EXPECT_THROW(tf::max_pool2d(x, {2, 2}, {0, 1}), tf::InvalidArgument);
  EXPECT_THROW(tf::max_pool2d(x, {2, 2}, {1, 1}, {-1, 0}), tf::InvalidArgument);
  EXPECT_THROW(tf::max_pool2d(x, {2, 2, 2}), tf::InvalidArgument);
  EXPECT_THROW(tf::max_pool2d(filled({2, 6, 6}, 1), {2, 2}), tf::ShapeError);
  EXPECT_THROW(tf::avg_pool2d(x, {7, 2}), tf::ShapeError);
  EXPECT_THROW(tf::max_pool2d(x.cast(DType::I32), {2, 2}), tf::DTypeError);
  EXPECT_THROW(tf::max_pool1d(x, 2), tf::ShapeError);
  EXPECT_THROW(tf::avg_pool1d(filled({1, 2, 6}, 1), 2, 0), tf::InvalidArgument);
  EXPECT_THROW(tf::max_pool1d(filled({1, 2, 6}, 1), 2, 2, 2), tf::InvalidArgument);
  EXPECT_EQ(tf::max_pool2d(filled({0, 2, 6, 6}, 1), {2, 2}).shape(), Dims({0, 2, 3, 3}));
}
