// Joining, splitting and rearranging: the compositions (stack, split, chunk, tile, repeat, flip,
// roll, argsort) against expectations computed here by index arithmetic, every error path, and
// empty and 0-d inputs of the registered ops.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include <tenflowers/tenflowers.hpp>

namespace tf = tenflowers;
using tf::DType;
using tf::Tensor;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

// 0, 1, 2, ... in `shape`, as f64 (exact for every dtype the tests cast to).
Tensor iota(tf::Dims shape, DType dtype = DType::F64) {
  std::vector<double> values(static_cast<size_t>(shape.numel()));
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<double>(i);
  return Tensor::from_vec(values, shape).cast(dtype);
}

std::vector<double> values_of(const Tensor& t) {
  return t.to_vector<double>();
}

// Asserts an error of type E whose message contains every fragment.
template <class E, class F>
void expect_error(F&& f, std::initializer_list<const char*> fragments) {
  try {
    f();
    ADD_FAILURE() << "expected an error";
  } catch (const E& e) {
    for (const char* fragment : fragments) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
          << "'" << fragment << "' not in: " << e.what();
    }
  }
}

// ---- concat ---------------------------------------------------------------------------------

TEST(Concat, JoinsAlongAxisAndPromotes) {
  Tensor a = iota({2, 2}, DType::I32);
  Tensor b = iota({2, 1}, DType::F32);
  Tensor c = tf::concat({a, b}, -1);
  EXPECT_EQ(c.dtype(), DType::F32);
  EXPECT_EQ(c.shape(), tf::Dims({2, 3}));
  EXPECT_EQ(values_of(c), (std::vector<double>{0, 1, 0, 2, 3, 1}));
  // A transposed input and an empty piece.
  Tensor d = tf::concat({a.t(), Tensor::empty({0, 2}, DType::I32), a}, 0);
  EXPECT_EQ(values_of(d), (std::vector<double>{0, 2, 1, 3, 0, 1, 2, 3}));
  EXPECT_FALSE(tf::concat({a}, 0).shares_storage(a));
}

TEST(Concat, Errors) {
  expect_error<tf::InvalidArgument>([] { tf::concat({}, 0); }, {"empty list"});
  Tensor a = iota({2, 3}), b = iota({2, 3}), c = iota({3, 3});
  // The shape error names the offending tensor and both shapes.
  expect_error<tf::ShapeError>([&] { tf::concat({a, b, c}, 1); }, {"tensor 2", "[3, 3]", "[2, 3]"});
  expect_error<tf::ShapeError>([&] { tf::concat({a, iota({2, 3, 1})}, 0); }, {"tensor 1"});
  expect_error<tf::ShapeError>([&] { tf::concat({iota({}), iota({})}, 0); }, {"0-d"});
  EXPECT_THROW(tf::concat({a, b}, 2), tf::IndexError);
  EXPECT_THROW(tf::concat({a, Tensor()}, 0), tf::InvalidArgument);
}

TEST(Concat, EmptyAndMetaInputs) {
  Tensor e = tf::concat({Tensor::empty({0, 3}), Tensor::empty({0, 3})}, 0);
  EXPECT_EQ(e.shape(), tf::Dims({0, 3}));
  Tensor m = tf::concat({Tensor::meta({2, 3}, DType::F16), Tensor::meta({2, 4}, DType::F32)}, 1);
  EXPECT_TRUE(m.is_meta());
  EXPECT_EQ(m.shape(), tf::Dims({2, 7}));
  EXPECT_EQ(m.dtype(), DType::F32);
}

// ---- stack ----------------------------------------------------------------------------------

TEST(Stack, InsertsANewAxis) {
  Tensor a = iota({2, 3}), b = iota({2, 3}).slice(1, {}, {}, -1);
  for (int64_t axis : {0, 1, 2, -1, -3}) {
    Tensor s = tf::stack({a, b}, axis);
    const int64_t at = axis < 0 ? axis + 3 : axis;
    tf::Dims shape{2, 3};
    shape.insert(static_cast<size_t>(at), 2);
    ASSERT_EQ(s.shape(), shape);
    for (int64_t k = 0; k < 2; ++k) {
      EXPECT_EQ(values_of(s.select(at, k)), values_of(k == 0 ? a : b)) << "axis " << axis;
    }
  }
  EXPECT_EQ(values_of(tf::stack({iota({}), iota({})}, 0)), (std::vector<double>{0, 0}));
}

TEST(Stack, Errors) {
  expect_error<tf::InvalidArgument>([] { tf::stack({}, 0); }, {"empty list"});
  expect_error<tf::ShapeError>(
      [] {
        tf::stack({iota({2, 3}), iota({2, 3}), iota({3, 2})}, 0);
      },
      {"tensor 2", "[3, 2]", "[2, 3]"});
  EXPECT_THROW(tf::stack({iota({2}), iota({2})}, 2), tf::IndexError);
}

// ---- split and chunk ------------------------------------------------------------------------

TEST(Split, ReturnsViews) {
  Tensor x = iota({3, 5});
  std::vector<Tensor> parts = tf::split(x, {2, 0, 3}, -1);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].shape(), tf::Dims({3, 2}));
  EXPECT_EQ(parts[1].shape(), tf::Dims({3, 0}));
  EXPECT_EQ(values_of(parts[2]), (std::vector<double>{2, 3, 4, 7, 8, 9, 12, 13, 14}));
  for (const Tensor& p : parts) EXPECT_TRUE(p.shares_storage(x));
  EXPECT_TRUE(tf::split(iota({0, 2}), {}, 0).empty());
}

TEST(Split, Errors) {
  Tensor x = iota({3, 5});
  expect_error<tf::ShapeError>([&] { tf::split(x, {2, 2}, 1); }, {"sum to 4", "extent 5"});
  expect_error<tf::InvalidArgument>([&] { tf::split(x, {6, -1}, 1); }, {">= 0"});
  EXPECT_THROW(tf::split(iota({}), {1}, 0), tf::ShapeError);
  EXPECT_THROW(tf::split(x, {3}, 2), tf::IndexError);
}

TEST(Chunk, PyTorchSizes) {
  auto sizes = [](const std::vector<Tensor>& parts) {
    std::vector<int64_t> out;
    for (const Tensor& p : parts) out.push_back(p.size(0));
    return out;
  };
  Tensor x = iota({7});
  EXPECT_EQ(sizes(tf::chunk(x, 3)), (std::vector<int64_t>{3, 3, 1}));
  EXPECT_EQ(sizes(tf::chunk(iota({6}), 4)), (std::vector<int64_t>{2, 2, 2}));
  EXPECT_EQ(sizes(tf::chunk(x, 10)), (std::vector<int64_t>{1, 1, 1, 1, 1, 1, 1}));
  EXPECT_EQ(sizes(tf::chunk(iota({0}), 3)), (std::vector<int64_t>{0}));
  std::vector<Tensor> parts = tf::chunk(iota({2, 7}), 2, -1);
  EXPECT_EQ(values_of(parts[1]), (std::vector<double>{4, 5, 6, 11, 12, 13}));
  EXPECT_TRUE(parts[1].shares_storage(parts[0]));
  EXPECT_THROW(tf::chunk(x, 0), tf::InvalidArgument);
  EXPECT_THROW(tf::chunk(iota({}), 2), tf::ShapeError);
}

// ---- tile and repeat ------------------------------------------------------------------------

TEST(Tile, NumPySemantics) {
  Tensor x = iota({2, 3}, DType::I64).t();  // strided input: [[0, 3], [1, 4], [2, 5]]
  for (const std::vector<int64_t>& repeats :
       std::vector<std::vector<int64_t>>{{2}, {2, 3}, {2, 1, 2}, {1, 1}, {0, 2}, {}}) {
    Tensor y = tf::tile(x, repeats);
    // Expected by index arithmetic: out[i...] = x[i % extent ...] after padding both to one rank.
    const size_t rank = std::max<size_t>(repeats.size(), 2);
    std::vector<int64_t> r(rank - repeats.size(), 1), s(rank - 2, 1);
    r.insert(r.end(), repeats.begin(), repeats.end());
    s.insert(s.end(), {3, 2});
    tf::Dims shape;
    for (size_t a = 0; a < rank; ++a) shape.push_back(r[a] * s[a]);
    ASSERT_EQ(y.shape(), shape);
    std::vector<double> expected;
    for (int64_t flat = 0; flat < shape.numel(); ++flat) {
      int64_t rem = flat, row = 0, col = 0;
      for (size_t a = rank; a-- > 0;) {
        const int64_t i = rem % shape[a] % s[a];
        rem /= shape[a];
        if (a == rank - 1) col = i;
        if (a == rank - 2) row = i;
      }
      expected.push_back(static_cast<double>(row + 3 * col));
    }
    EXPECT_EQ(values_of(y), expected);
    EXPECT_EQ(y.dtype(), DType::I64);
  }
  EXPECT_EQ(tf::tile(iota({}), {3}).shape(), tf::Dims({3}));
  EXPECT_EQ(tf::tile(iota({}), {}).shape(), tf::Dims({}));
  EXPECT_THROW(tf::tile(x, {2, -1}), tf::InvalidArgument);
}

TEST(Repeat, NumPySemantics) {
  Tensor x = iota({2, 2}, DType::Bool);  // [[false, true], [true, true]]
  EXPECT_EQ(values_of(tf::repeat(x, 2, 0)), (std::vector<double>{0, 1, 0, 1, 1, 1, 1, 1}));
  Tensor y = iota({2, 2}).t();  // [[0, 2], [1, 3]]
  Tensor r = tf::repeat(y, 3, -1);
  EXPECT_EQ(r.shape(), tf::Dims({2, 6}));
  EXPECT_EQ(values_of(r), (std::vector<double>{0, 0, 0, 2, 2, 2, 1, 1, 1, 3, 3, 3}));
  EXPECT_EQ(tf::repeat(y, 0, 1).shape(), tf::Dims({2, 0}));
  EXPECT_EQ(values_of(tf::repeat(iota({}), 3, 0)), (std::vector<double>{0, 0, 0}));
  EXPECT_THROW(tf::repeat(y, -1, 0), tf::InvalidArgument);
  EXPECT_THROW(tf::repeat(y, 2, 2), tf::IndexError);
}

// ---- flip and roll --------------------------------------------------------------------------

TEST(Flip, IsAViewWithNegativeStrides) {
  Tensor x = iota({2, 3});
  Tensor f = tf::flip(x, {-1});
  EXPECT_TRUE(f.shares_storage(x));
  EXPECT_EQ(values_of(f), (std::vector<double>{2, 1, 0, 5, 4, 3}));
  Tensor both = tf::flip(x, {0, 1});
  EXPECT_TRUE(both.shares_storage(x));
  EXPECT_EQ(values_of(both), (std::vector<double>{5, 4, 3, 2, 1, 0}));
  EXPECT_EQ(values_of(tf::flip(f, {1})), values_of(x));
  EXPECT_EQ(tf::flip(iota({0, 3}), {0, 1}).shape(), tf::Dims({0, 3}));
  EXPECT_EQ(values_of(tf::flip(iota({}), {0})), (std::vector<double>{0}));
  EXPECT_EQ(values_of(tf::flip(x, {})), values_of(x));
  expect_error<tf::InvalidArgument>([&] { tf::flip(x, {1, -1}); }, {"more than once"});
  EXPECT_THROW(tf::flip(x, {2}), tf::IndexError);
}

TEST(Roll, MatchesModularIndexing) {
  Tensor x = iota({3, 4}, DType::I32);
  for (const auto& [shifts, axes] :
       std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>>{
           {{1}, {1}}, {{-1}, {0}}, {{5, 7}, {0, 1}}, {{-9}, {-1}}, {{2, 1}, {1, 1}}, {{0}, {0}}}) {
    Tensor y = tf::roll(x, shifts, axes);
    std::vector<int64_t> total = {0, 0};  // shift per axis, repeated axes adding up
    for (size_t i = 0; i < axes.size(); ++i)
      total[static_cast<size_t>((axes[i] + 2) % 2)] += shifts[i];
    std::vector<double> expected;
    for (int64_t r = 0; r < 3; ++r) {
      for (int64_t c = 0; c < 4; ++c) {
        const int64_t src_r = (((r - total[0]) % 3) + 3) % 3,
                      src_c = (((c - total[1]) % 4) + 4) % 4;
        expected.push_back(static_cast<double>(src_r * 4 + src_c));
      }
    }
    EXPECT_EQ(values_of(y), expected) << "shifts " << tf::format_dims(shifts);
    EXPECT_EQ(y.dtype(), DType::I32);
  }
  // No axes: the flattened tensor rolls and keeps its shape.
  Tensor flat = tf::roll(x.t(), {2}, {});
  EXPECT_EQ(flat.shape(), tf::Dims({4, 3}));
  EXPECT_EQ(values_of(flat), (std::vector<double>{7, 11, 0, 4, 8, 1, 5, 9, 2, 6, 10, 3}));
  EXPECT_EQ(tf::roll(iota({0, 2}), {1}, {0}).shape(), tf::Dims({0, 2}));
  EXPECT_EQ(values_of(tf::roll(iota({}), {3}, {0})), (std::vector<double>{0}));
  EXPECT_THROW(tf::roll(x, {1, 2}, {0}), tf::InvalidArgument);
  EXPECT_THROW(tf::roll(x, {1, 2}, {}), tf::InvalidArgument);
  EXPECT_THROW(tf::roll(x, {1}, {2}), tf::IndexError);
}

// ---- pad ------------------------------------------------------------------------------------

TEST(Pad, ConstantReflectAndCrop) {
  Tensor x = Tensor::from_vec({1., 2., 3.}, {3});
  EXPECT_EQ(values_of(tf::pad(x, {2, 1}, "reflect")), (std::vector<double>{3, 2, 1, 2, 3, 2}));
  EXPECT_EQ(values_of(tf::pad(x, {1, 2}, "constant", -1)),
            (std::vector<double>{-1, 1, 2, 3, -1, -1}));
  // Negative pads crop.
  EXPECT_EQ(values_of(tf::pad(x, {-1, 1})), (std::vector<double>{2, 3, 0}));
  EXPECT_EQ(tf::pad(x, {-2, -1}).shape(), tf::Dims({0}));
  Tensor m = iota({2, 2}, DType::I8);  // [[0, 1], [2, 3]]
  EXPECT_EQ(values_of(tf::pad(m, {1, 0, 0, 1}, "reflect")),
            (std::vector<double>{2, 3, 2, 0, 1, 0, 2, 3, 2}));
  EXPECT_EQ(values_of(tf::pad(m.t(), {0, 1, 1, 0}, "constant", 9)),
            (std::vector<double>{9, 0, 2, 9, 1, 3, 9, 9, 9}));
  // The fill value converts like a cast: saturating for integers.
  EXPECT_EQ(values_of(tf::pad(m, {0, 0, 0, 1}, "constant", 1000)),
            (std::vector<double>{0, 1, 127, 2, 3, 127}));
  EXPECT_EQ(values_of(tf::pad(iota({}), {})), (std::vector<double>{0}));
  EXPECT_EQ(tf::pad(iota({0, 2}), {1, 1, 0, 0}, "constant", 5).shape(), tf::Dims({2, 2}));
}

TEST(Pad, Errors) {
  Tensor x = iota({2, 3});
  expect_error<tf::InvalidArgument>([&] { tf::pad(x, {1, 1}); }, {"expected 4 values"});
  expect_error<tf::InvalidArgument>([&] { tf::pad(x, {0, 0, 1, 1}, "edge"); }, {"unknown mode"});
  expect_error<tf::InvalidArgument>(
      [&] {
        tf::pad(x, {0, 0, 3, 0}, "reflect");
      },
      {"less than its extent 3"});
  expect_error<tf::InvalidArgument>(
      [&] {
        tf::pad(x, {2, 0, 0, 0}, "reflect");
      },
      {"less than its extent 2"});
  expect_error<tf::InvalidArgument>([&] { tf::pad(x, {0, 0, -1, 0}, "reflect"); }, {">= 0"});
  expect_error<tf::InvalidArgument>([&] { tf::pad(x, {0, 0, -2, -2}); }, {"crop more"});
}

// ---- sort, argsort, topk --------------------------------------------------------------------

TEST(Sort, NaNLastStableAndDescending) {
  Tensor x = Tensor::from_vec({3., kNaN, 1., 3., -0., 0., kNaN, 2.}, {8});
  auto [v, i] = tf::sort(x);
  EXPECT_EQ(i.dtype(), DType::I64);
  EXPECT_EQ(i.to_vector<int64_t>(), (std::vector<int64_t>{4, 5, 2, 7, 0, 3, 1, 6}));
  std::vector<double> values = values_of(v);
  EXPECT_TRUE(std::isnan(values[6]) && std::isnan(values[7]));
  EXPECT_TRUE(std::signbit(values[0]));  // -0 and 0 tie, so they keep their order
  auto [dv, di] = tf::sort(x.cast(DType::F16), 0, true);
  EXPECT_EQ(di.to_vector<int64_t>(), (std::vector<int64_t>{1, 6, 0, 3, 7, 2, 4, 5}));
  EXPECT_EQ(dv.dtype(), DType::F16);
  EXPECT_EQ(tf::argsort(x, -1, true).to_vector<int64_t>(), di.to_vector<int64_t>());
}

TEST(Sort, AxesEmptyAndZeroD) {
  Tensor x = iota({2, 3}).slice(1, {}, {}, -1);  // [[2, 1, 0], [5, 4, 3]]
  auto [v0, i0] = tf::sort(x, 0, true);
  EXPECT_EQ(values_of(v0), (std::vector<double>{5, 4, 3, 2, 1, 0}));
  EXPECT_EQ(i0.to_vector<int64_t>(), (std::vector<int64_t>{1, 1, 1, 0, 0, 0}));
  EXPECT_EQ(tf::argsort(x).to_vector<int64_t>(), (std::vector<int64_t>{2, 1, 0, 2, 1, 0}));
  auto [e, ei] = tf::sort(Tensor::empty({3, 0}), -1);
  EXPECT_EQ(e.shape(), tf::Dims({3, 0}));
  EXPECT_EQ(ei.shape(), tf::Dims({3, 0}));
  auto [s, si] = tf::sort(Tensor::from_scalar(4.5f));
  EXPECT_EQ(s.shape(), tf::Dims({}));
  EXPECT_EQ(s.item<float>(), 4.5f);
  EXPECT_EQ(si.item<int64_t>(), 0);
  EXPECT_THROW(tf::sort(x, 2), tf::IndexError);
  EXPECT_THROW(tf::sort(Tensor::from_scalar(1.0), 1), tf::IndexError);
}

TEST(Sort, IndicesAreMarkedNotDifferentiable) {
  for (const char* name : {"sort", "topk"}) {
    const tf::OpDef& op = tf::registry().get(name);
    EXPECT_TRUE(op.differentiable);
    EXPECT_EQ(op.non_differentiable_outputs, 2u) << name;
  }
}

TEST(TopK, LargestAndSmallest) {
  Tensor x =
      Tensor::from_vec({1., 5., 3., 5., -2., 0.}, {2, 3}).t();  // lines [1, 5, 3], [5, -2, 0]
  auto [v, i] = tf::topk(x, 2, 0, true);
  EXPECT_EQ(v.shape(), tf::Dims({2, 2}));
  EXPECT_EQ(values_of(v), (std::vector<double>{5, 5, 3, 0}));
  EXPECT_EQ(i.to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 2, 2}));
  auto [nv, ni] = tf::topk(Tensor::from_vec({1., kNaN, 0.}, {3}), 1);
  EXPECT_TRUE(std::isnan(nv.item<double>()));  // NaN ranks above every number
  EXPECT_EQ(ni.item<int64_t>(), 1);
  auto [sv, si] = tf::topk(Tensor::from_vec({4, 1, 3, 1}, {4}), 3, -1, false);
  EXPECT_EQ(sv.to_vector<int>(), (std::vector<int>{1, 1, 3}));
  EXPECT_EQ(si.to_vector<int64_t>(), (std::vector<int64_t>{1, 3, 2}));
  EXPECT_EQ(tf::topk(x, 0, 0).first.shape(), tf::Dims({0, 2}));
  EXPECT_EQ(tf::topk(Tensor::from_scalar(2.0), 1).first.item<double>(), 2.0);
}

TEST(TopK, Errors) {
  Tensor x = iota({2, 3});
  expect_error<tf::InvalidArgument>([&] { tf::topk(x, 4); }, {"k = 4", "[0, 3]"});
  EXPECT_THROW(tf::topk(x, -1), tf::InvalidArgument);
  EXPECT_THROW(tf::topk(x, 3, 0), tf::InvalidArgument);
  EXPECT_THROW(tf::topk(Tensor::from_scalar(2.0), 0), tf::InvalidArgument);
  EXPECT_THROW(tf::topk(x, 1, 2), tf::IndexError);
}

// ---- cumsum and cumprod ---------------------------------------------------------------------

TEST(Scan, DTypesAndAxes) {
  Tensor x = iota({2, 3}, DType::I8);  // [[0, 1, 2], [3, 4, 5]]
  Tensor s = tf::cumsum(x, 1);
  EXPECT_EQ(s.dtype(), DType::I64);
  EXPECT_EQ(values_of(s), (std::vector<double>{0, 1, 3, 3, 7, 12}));
  EXPECT_EQ(values_of(tf::cumprod(x.cast(DType::F64), -2)),
            (std::vector<double>{0, 1, 2, 0, 4, 10}));
  Tensor b = Tensor::from_vec<uint8_t>({1, 0, 1, 1}, {4}).cast(DType::Bool);
  EXPECT_EQ(tf::cumsum(b, 0).dtype(), DType::I64);
  EXPECT_EQ(values_of(tf::cumsum(b, 0)), (std::vector<double>{1, 1, 2, 3}));
  EXPECT_EQ(values_of(tf::cumprod(b, 0)), (std::vector<double>{1, 0, 0, 0}));
  Tensor h = Tensor::from_vec({0.5f, 0.25f, 2.f}, {3}).cast(DType::BF16);
  EXPECT_EQ(tf::cumprod(h, 0).dtype(), DType::BF16);
  EXPECT_EQ(values_of(tf::cumprod(h, 0)), (std::vector<double>{0.5, 0.125, 0.25}));
  // Reversed (negative-stride) input.
  EXPECT_EQ(values_of(tf::cumsum(tf::flip(iota({4}), {0}), 0)), (std::vector<double>{3, 5, 6, 6}));
}

TEST(Scan, IntegerOverflowWrapsLikeNumPy) {
  const int64_t big = std::numeric_limits<int64_t>::max();
  Tensor x = Tensor::from_vec({big, int64_t{1}}, {2});
  EXPECT_EQ(tf::cumsum(x, 0).to_vector<int64_t>(),
            (std::vector<int64_t>{big, std::numeric_limits<int64_t>::min()}));
  Tensor y = Tensor::from_vec({int64_t{1} << 62, int64_t{4}}, {2});
  EXPECT_EQ(tf::cumprod(y, 0).to_vector<int64_t>()[1], 0);  // 2^64 wraps to 0
}

TEST(Scan, EmptyZeroDAndErrors) {
  EXPECT_EQ(tf::cumsum(Tensor::empty({0, 4}), 1).shape(), tf::Dims({0, 4}));
  EXPECT_EQ(tf::cumprod(Tensor::empty({3, 0}, DType::I32), 1).dtype(), DType::I64);
  Tensor s = tf::cumsum(Tensor::from_scalar(int32_t{7}), 0);
  EXPECT_EQ(s.shape(), tf::Dims({}));
  EXPECT_EQ(s.item<int64_t>(), 7);
  EXPECT_THROW(tf::cumsum(iota({2, 3}), 2), tf::IndexError);
  EXPECT_THROW(tf::cumprod(iota({2, 3}), -3), tf::IndexError);
}

}  // namespace
