// Tensor printing: exact expected strings, derived by hand from the format rules in print.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include <tenflowers/tenflowers.hpp>

namespace tf = tenflowers;
using tf::DType;
using tf::Tensor;

TEST(Print, FixedPointFloatsAlignInColumns) {
  EXPECT_EQ(Tensor::from_vec({1.f, 2.5f, 3.f, 4.f}, {2, 2}).str(),
            "tensor([[1.0000, 2.5000],\n"
            "        [3.0000, 4.0000]], dtype=f32)");
  EXPECT_EQ(Tensor::from_vec({-1.5f, 2.25f, 10.f}, {3}).str(),
            "tensor([-1.5000,  2.2500, 10.0000], dtype=f32)");
  EXPECT_EQ(Tensor::from_vec({0.5f, 0.25f}, {2}).cast(DType::F16).str(),
            "tensor([0.5000, 0.2500], dtype=f16)");
  EXPECT_EQ(Tensor::from_vec({0.123456, -0.5}, {2}).str(), "tensor([ 0.1235, -0.5000], dtype=f64)");
}

TEST(Print, WholeNumbersPrintWithATrailingPoint) {
  EXPECT_EQ(tf::arange(0.0, 3.0, 1.0, DType::F64).str(), "tensor([0., 1., 2.], dtype=f64)");
  EXPECT_EQ(Tensor::from_vec({-20.f, 300.f}, {2}).cast(DType::BF16).str(),
            "tensor([-20., 300.], dtype=bf16)");
  EXPECT_EQ(tf::zeros({2}).str(), "tensor([0., 0.], dtype=f32)");
}

TEST(Print, ScientificWhenMagnitudesDemandIt) {
  EXPECT_EQ(Tensor::from_vec({1e-5, 1.0}, {2}).str(),
            "tensor([1.0000e-05, 1.0000e+00], dtype=f64)");  // a small value
  EXPECT_EQ(Tensor::from_vec({1e9, 2.0}, {2}).str(),
            "tensor([1.0000e+09, 2.0000e+00], dtype=f64)");  // a large value
  EXPECT_EQ(Tensor::from_vec({0.001, 2.5}, {2}).str(),
            "tensor([1.0000e-03, 2.5000e+00], dtype=f64)");  // a ratio above 1000
  EXPECT_EQ(Tensor::from_vec({-2.5e-7, 0.0}, {2}).str(),
            "tensor([-2.5000e-07,  0.0000e+00], dtype=f64)");
}

TEST(Print, NonFiniteValues) {
  EXPECT_EQ(Tensor::from_vec({NAN, -INFINITY, 1.5f}, {3}).str(),
            "tensor([   nan,   -inf, 1.5000], dtype=f32)");
  EXPECT_EQ(Tensor::from_vec({INFINITY, 2.f}, {2}).str(), "tensor([inf,  2.], dtype=f32)");
}

TEST(Print, IntegersAndBools) {
  EXPECT_EQ(Tensor::from_vec({1, -20, 300, 4}, {2, 2}).str(),
            "tensor([[  1, -20],\n"
            "        [300,   4]], dtype=i32)");
  EXPECT_EQ(tf::eye(2, 3, DType::Bool).str(),
            "tensor([[ True, False, False],\n"
            "        [False,  True, False]], dtype=bool)");
  EXPECT_EQ(tf::full({3}, 255, DType::U8).str(), "tensor([255, 255, 255], dtype=u8)");
  EXPECT_EQ(tf::arange(-2.0, 1.0, 1.0, DType::I8).str(), "tensor([-2, -1,  0], dtype=i8)");
  EXPECT_EQ(tf::arange(3).str(), "tensor([0, 1, 2], dtype=i64)");
}

TEST(Print, ZeroDimAndEmpty) {
  EXPECT_EQ(Tensor::from_scalar(3.5f).str(), "tensor(3.5000, dtype=f32)");
  EXPECT_EQ(Tensor::from_scalar(int64_t{-7}).str(), "tensor(-7, dtype=i64)");
  EXPECT_EQ(tf::zeros({0}).str(), "tensor([], dtype=f32)");
  EXPECT_EQ(tf::zeros({2, 0, 3}, DType::I32).str(), "tensor([], shape=[2, 0, 3], dtype=i32)");
  EXPECT_EQ(Tensor::meta({2, 3}, DType::F32).str(), "tensor(<no data>, shape=[2, 3], dtype=f32)");
  EXPECT_EQ(Tensor().str(), "tensor(undefined)");
}

TEST(Print, HigherRanksSeparateBlocksWithBlankLines) {
  EXPECT_EQ(tf::arange(8).reshape({2, 2, 2}).str(),
            "tensor([[[0, 1],\n"
            "         [2, 3]],\n"
            "\n"
            "        [[4, 5],\n"
            "         [6, 7]]], dtype=i64)");
  EXPECT_EQ(tf::arange(2).reshape({1, 2, 1, 1}).str(),
            "tensor([[[[0]],\n"
            "\n"
            "         [[1]]]], dtype=i64)");
}

TEST(Print, ViewsPrintInLogicalOrder) {
  Tensor m = Tensor::from_vec({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(m.t().str(),
            "tensor([[1, 4],\n"
            "        [2, 5],\n"
            "        [3, 6]], dtype=i32)");
  EXPECT_EQ(m.slice(1, 0, {}, 2).select(0, 1).str(), "tensor([4, 6], dtype=i32)");
  EXPECT_EQ(Tensor::from_vec({2.5f}, {1}).expand({2, 3}).str(),
            "tensor([[2.5000, 2.5000, 2.5000],\n"
            "        [2.5000, 2.5000, 2.5000]], dtype=f32)");
}

TEST(Print, SummarizesAbove1000Elements) {
  EXPECT_EQ(tf::arange(1001).str(), "tensor([   0,    1,    2, ...,  998,  999, 1000], dtype=i64)");
  EXPECT_EQ(tf::arange(1010).reshape({101, 10}).str(),
            "tensor([[   0,    1,    2, ...,    7,    8,    9],\n"
            "        [  10,   11,   12, ...,   17,   18,   19],\n"
            "        [  20,   21,   22, ...,   27,   28,   29],\n"
            "        ...,\n"
            "        [ 980,  981,  982, ...,  987,  988,  989],\n"
            "        [ 990,  991,  992, ...,  997,  998,  999],\n"
            "        [1000, 1001, 1002, ..., 1007, 1008, 1009]], dtype=i64)");
  // Short axes of a large tensor print whole.
  EXPECT_EQ(tf::arange(0.0, 2004.0, 1.0, DType::F32).reshape({1002, 2}).str(),
            "tensor([[   0.,    1.],\n"
            "        [   2.,    3.],\n"
            "        [   4.,    5.],\n"
            "        ...,\n"
            "        [1998., 1999.],\n"
            "        [2000., 2001.],\n"
            "        [2002., 2003.]], dtype=f32)");
  const std::string full = tf::arange(1000).str();  // exactly 1000: no summary
  EXPECT_EQ(full.find("..."), std::string::npos);
  EXPECT_NE(full.find(" 500, "), std::string::npos);
}

TEST(Print, StreamOperatorMatchesStr) {
  Tensor t = tf::linspace(0.0, 1.0, 3);
  std::ostringstream out;
  out << t;
  EXPECT_EQ(out.str(), t.str());
  EXPECT_EQ(out.str(), "tensor([0.0000, 0.5000, 1.0000], dtype=f32)");
}
