#include <gtest/gtest.h>

#include <tenflowers/tenflowers.hpp>

namespace tf = tenflowers;
using tf::DType;
using tf::Tensor;

TEST(TensorViews, TransposeSharesStorageAndCopiesOnlyOnContiguous) {
  Tensor a = Tensor::from_vec({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}, {2, 3});
  Tensor t = a.transpose();
  EXPECT_TRUE(t.shares_storage(a));
  EXPECT_EQ(t.shape(), tf::Dims({3, 2}));
  EXPECT_FALSE(t.is_contiguous());
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{1, 4, 2, 5, 3, 6}));
  Tensor c = t.contiguous();
  EXPECT_FALSE(c.shares_storage(a));
  EXPECT_TRUE(a.contiguous().shares_storage(a));
}

TEST(TensorViews, ReshapeOfContiguousIsAView) {
  Tensor a = Tensor::from_vec({1, 2, 3, 4, 5, 6}, {6});
  Tensor r = a.reshape({2, -1});
  EXPECT_TRUE(r.shares_storage(a));
  EXPECT_EQ(r.shape(), tf::Dims({2, 3}));
  EXPECT_EQ(r.at<int>({1, 0}), 4);
  // A transposed tensor cannot be viewed flat: reshape copies.
  Tensor f = r.transpose().reshape({6});
  EXPECT_FALSE(f.shares_storage(a));
  EXPECT_EQ(f.to_vector<int>(), (std::vector<int>{1, 4, 2, 5, 3, 6}));
}

TEST(TensorViews, SliceWithNegativeStep) {
  Tensor a = Tensor::from_vec({0., 1., 2., 3., 4., 5., 6.}, {7});
  Tensor s = a.slice(0, 5, 0, -2);
  EXPECT_TRUE(s.shares_storage(a));
  EXPECT_EQ(s.to_vector<double>(), (std::vector<double>{5, 3, 1}));
  EXPECT_EQ(a.slice(0, {}, {}, 3).to_vector<double>(), (std::vector<double>{0, 3, 6}));
}

TEST(TensorViews, ExpandSqueezeUnsqueeze) {
  Tensor a = Tensor::from_vec({1.f, 2.f}, {2, 1});
  Tensor e = a.expand({3, 2, 4});
  EXPECT_TRUE(e.shares_storage(a));
  EXPECT_EQ(e.strides(), tf::Dims({0, 1, 0}));
  EXPECT_EQ(e.contiguous().at<float>({2, 1, 3}), 2.f);
  EXPECT_EQ(a.squeeze().shape(), tf::Dims({2}));
  EXPECT_EQ(a.unsqueeze(0).shape(), tf::Dims({1, 2, 1}));
  EXPECT_THROW(a.expand({3, 3}), tf::ShapeError);
  EXPECT_THROW(a.squeeze(std::vector<int64_t>{0}), tf::ShapeError);
}

TEST(TensorViews, ErrorsNameTheOp) {
  Tensor a = Tensor::from_vec({1.f, 2.f, 3.f}, {3});
  try {
    a.reshape({2, 2});
    FAIL() << "expected ShapeError";
  } catch (const tf::ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("reshape"), std::string::npos) << e.what();
  }
  EXPECT_THROW(a.select(0, 3), tf::IndexError);
  EXPECT_THROW(Tensor().shape(), tf::InvalidArgument);
}

TEST(TensorCast, SaturatesAndRoundTrips) {
  Tensor a = Tensor::from_vec({1.5f, -2.5f, 1e10f, -1e10f}, {4});
  EXPECT_EQ(a.cast(DType::I32).to_vector<int>(),
            (std::vector<int>{1, -2, 2147483647, -2147483648}));
  Tensor h = Tensor::from_vec({0.1f, 65504.f, 1e-7f}, {3}).cast(DType::F16);
  std::vector<float> back = h.to_vector<float>();
  EXPECT_NEAR(back[0], 0.1f, 1e-4);
  EXPECT_EQ(back[1], 65504.f);
  EXPECT_EQ(back[2], 2 * 5.9604644775390625e-8f);  // nearest f16 subnormal to 1e-7
  EXPECT_NEAR(Tensor::from_vec({3.14159f}, {1}).cast(DType::BF16).item<float>(), 3.140625f, 1e-6);
}
