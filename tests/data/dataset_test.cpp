#include "tenflowers/data/dataset.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <numeric>
#include <random>
#include <set>
#include <thread>

#include "tenflowers/core/ops.hpp"
#include "tenflowers/core/parallel.hpp"
#include "tests/data/test_util.hpp"

namespace tenflowers::data {
namespace {

using test::drain;
using test::scalars;

std::vector<int64_t> iota(int64_t start, int64_t stop, int64_t step = 1) {
  std::vector<int64_t> out;
  for (int64_t v = start; step > 0 ? v < stop : v > stop; v += step) out.push_back(v);
  return out;
}

TEST(Dataset, FromTensorsSlicesAlongTheFirstAxis) {
  std::mt19937 gen(7);
  std::uniform_real_distribution<float> dist(-1, 1);
  std::vector<float> images(5 * 2 * 3);
  for (float& v : images) v = dist(gen);
  const Tensor x = Tensor::from_vec(images, {5, 2, 3});
  const Tensor y = Tensor::from_vec<int64_t>({4, 1, 0, 3, 2}, {5});
  const Dataset ds = Dataset::from_tensors({x, y});
  EXPECT_EQ(ds.cardinality(), 5);
  const std::vector<Element> elements = drain(ds);
  ASSERT_EQ(elements.size(), 5u);
  for (int64_t i = 0; i < 5; ++i) {
    ASSERT_EQ(elements[i].size(), 2u);
    EXPECT_EQ(elements[i][0].shape(), Dims({2, 3}));
    const std::vector<float> row = elements[i][0].to_vector<float>();
    EXPECT_EQ(row, std::vector<float>(images.begin() + i * 6, images.begin() + (i + 1) * 6));
    EXPECT_EQ(elements[i][1].rank(), 0);
    EXPECT_EQ(elements[i][1].item<int64_t>(), std::vector<int64_t>({4, 1, 0, 3, 2})[i]);
  }
  // A second pass starts over.
  EXPECT_EQ(drain(ds).size(), 5u);
}

TEST(Dataset, FromTensorsValidatesComponents) {
  EXPECT_THROW(Dataset::from_tensors({zeros({3, 2}), zeros({4})}), ShapeError);
  EXPECT_THROW(Dataset::from_tensors({Tensor::from_scalar(1.0f)}), ShapeError);
  EXPECT_THROW(Dataset::from_tensors({}), InvalidArgument);
  EXPECT_THROW(Dataset::from_tensors({Tensor()}), InvalidArgument);
  EXPECT_EQ(drain(Dataset::from_tensors({zeros({0, 3})})).size(), 0u);
}

TEST(Dataset, RangeCountsLikePython) {
  EXPECT_EQ(scalars(Dataset::range(5)), iota(0, 5));
  EXPECT_EQ(scalars(Dataset::range(3, 12, 4)), iota(3, 12, 4));
  EXPECT_EQ(scalars(Dataset::range(10, 0, -3)), iota(10, 0, -3));
  EXPECT_EQ(Dataset::range(10, 0, -3).cardinality(), 4);
  EXPECT_EQ(Dataset::range(5, 5).cardinality(), 0);
  EXPECT_EQ(Dataset::range(5, 1).cardinality(), 0);
  EXPECT_EQ(Dataset::range(INT64_MIN, INT64_MAX, INT64_MAX).cardinality(), 3);
  EXPECT_THROW(Dataset::range(0, 5, 0), InvalidArgument);
}

TEST(Dataset, GeneratorStartsFreshEachPass) {
  std::atomic<int> factories{0};
  const Dataset ds = Dataset::from_generator([&] {
    ++factories;
    return [i = int64_t{0}]() mutable -> std::optional<Element> {
      if (i == 4) return std::nullopt;
      return Element{Tensor::from_scalar<int64_t>(i++ * 10)};
    };
  });
  EXPECT_EQ(ds.cardinality(), kUnknownCardinality);
  EXPECT_EQ(scalars(ds), std::vector<int64_t>({0, 10, 20, 30}));
  EXPECT_EQ(scalars(ds), std::vector<int64_t>({0, 10, 20, 30}));
  EXPECT_EQ(factories.load(), 2);
  EXPECT_THROW(Dataset::from_generator(nullptr), InvalidArgument);
}

TEST(Dataset, RangeForOverAPass) {
  auto pass = Dataset::range(4).iterator();
  int64_t expected = 0;
  for (const Element& e : pass) EXPECT_EQ(e[0].item<int64_t>(), expected++);
  EXPECT_EQ(expected, 4);
}

Dataset squared(const Dataset& ds) {
  return ds.map([](Element e) { return Element{e[0] * e[0]}; });
}

TEST(Dataset, MapAndFilterKeepOrder) {
  std::vector<int64_t> expected;
  for (int64_t i = 0; i < 20; ++i) {
    if ((i * i) % 3 != 0) expected.push_back(i * i);
  }
  const Dataset ds = squared(Dataset::range(20)).filter([](const Element& e) {
    return e[0].item<int64_t>() % 3 != 0;
  });
  EXPECT_EQ(scalars(ds), expected);
  EXPECT_EQ(ds.cardinality(), kUnknownCardinality);
  EXPECT_EQ(squared(Dataset::range(20)).cardinality(), 20);
}

TEST(Dataset, ParallelMapKeepsInputOrderWhateverTheDelays) {
  const int64_t n = 60;
  for (int calls : {1, 2, 5}) {
    const Dataset ds = Dataset::range(n).map(
        [](Element e) {
          const int64_t v = e[0].item<int64_t>();
          // Later elements often finish first.
          std::this_thread::sleep_for(std::chrono::microseconds((v * 7919) % 13 * 100));
          return Element{e[0] * 3, e[0]};
        },
        calls);
    std::vector<int64_t> got;
    for (const Element& e : drain(ds)) {
      EXPECT_EQ(e[0].item<int64_t>(), 3 * e[1].item<int64_t>());
      got.push_back(e[1].item<int64_t>());
    }
    EXPECT_EQ(got, iota(0, n)) << calls << " parallel calls";
  }
  EXPECT_THROW(Dataset::range(3).map([](Element e) { return e; }, 0), InvalidArgument);
}

TEST(Dataset, ParallelMapDeliversErrorsInPlaceWithTheirType) {
  const Dataset ds = Dataset::range(12).map(
      [](Element e) {
        const int64_t v = e[0].item<int64_t>();
        if (v == 7) throw IndexError("element seven is bad");
        if (v == 9) throw std::runtime_error("plain error");
        return e;
      },
      4);
  Iterator pass = ds.iterator();
  for (int64_t i = 0; i < 7; ++i) EXPECT_EQ(pass.next()->at(0).item<int64_t>(), i);
  try {
    pass.next();
    FAIL() << "expected IndexError";
  } catch (const IndexError& e) {
    EXPECT_NE(std::string(e.what()).find("element seven"), std::string::npos);
  }
  EXPECT_EQ(pass.next()->at(0).item<int64_t>(), 8);
  EXPECT_THROW(pass.next(), std::runtime_error);
  EXPECT_EQ(pass.next()->at(0).item<int64_t>(), 10);
  EXPECT_EQ(pass.next()->at(0).item<int64_t>(), 11);
  EXPECT_FALSE(pass.next().has_value());
}

TEST(Dataset, ParallelMapWorkersCapTheirKernelThreads) {
  const int threads = 8, calls = 3, previous = get_num_threads();
  set_num_threads(threads);
  std::atomic<int> seen_max{0};
  const Dataset ds = Dataset::range(16).map(
      [&](Element e) {
        int observed = get_num_threads();
        int previous = seen_max.load();
        while (observed > previous && !seen_max.compare_exchange_weak(previous, observed)) {
        }
        return e;
      },
      calls);
  EXPECT_EQ(drain(ds).size(), 16u);
  EXPECT_EQ(seen_max.load(), threads / calls);
  EXPECT_EQ(get_num_threads(), threads);  // the consumer's thread is not capped
  set_num_threads(previous);
}

TEST(Dataset, ShuffleIsADeterministicPermutationThatChangesEachPass) {
  const int64_t n = 100;
  const Dataset ds = Dataset::range(n).shuffle(30, 42);
  const std::vector<int64_t> first = scalars(ds), second = scalars(ds);
  for (const auto& order : {first, second}) {
    std::vector<int64_t> sorted = order;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, iota(0, n));
  }
  EXPECT_NE(first, second);
  EXPECT_NE(first, iota(0, n));
  // A new pipeline with the same seed repeats the same sequence of passes.
  const Dataset again = Dataset::range(n).shuffle(30, 42);
  EXPECT_EQ(scalars(again), first);
  EXPECT_EQ(scalars(again), second);
  EXPECT_NE(scalars(Dataset::range(n).shuffle(30, 43)), first);
  // Without reshuffling every pass has the first pass's order.
  const Dataset fixed = Dataset::range(n).shuffle(30, 42, false);
  EXPECT_EQ(scalars(fixed), first);
  EXPECT_EQ(scalars(fixed), first);
  EXPECT_EQ(scalars(Dataset::range(n).shuffle(1, 42)), iota(0, n));
  EXPECT_EQ(ds.cardinality(), n);
  EXPECT_THROW(Dataset::range(3).shuffle(0, 1), InvalidArgument);
}

TEST(Dataset, ShuffleDrawsOnlyFromItsBuffer) {
  // Output position p can hold only input elements 0 .. p + buffer_size - 1.
  const int64_t n = 200, buffer = 7;
  const std::vector<int64_t> order = scalars(Dataset::range(n).shuffle(buffer, 5));
  for (int64_t p = 0; p < n; ++p) EXPECT_LE(order[p], p + buffer - 1) << "position " << p;
}

TEST(Dataset, ShuffleWithAFullBufferIsUniform) {
  // Over many seeds each element lands first about equally often (chi-square, 9 dof; the bound
  // 27.9 is the 0.999 quantile, and the seeds are fixed, so the test is deterministic).
  const int64_t n = 10, trials = 4000;
  std::vector<double> counts(n, 0.0);
  for (int64_t seed = 0; seed < trials; ++seed) {
    ++counts[scalars(Dataset::range(n).shuffle(n, static_cast<uint64_t>(seed)).take(1))[0]];
  }
  double chi2 = 0;
  const double expected = static_cast<double>(trials) / n;
  for (double c : counts) chi2 += (c - expected) * (c - expected) / expected;
  EXPECT_LT(chi2, 27.9);
}

TEST(Dataset, ShuffleUnderRepeatReshufflesEachRepetition) {
  const int64_t n = 50;
  const std::vector<int64_t> all = scalars(Dataset::range(n).shuffle(n, 9).repeat(3));
  ASSERT_EQ(all.size(), 3u * n);
  std::set<std::vector<int64_t>> epochs;
  for (int e = 0; e < 3; ++e) {
    std::vector<int64_t> epoch(all.begin() + e * n, all.begin() + (e + 1) * n);
    epochs.insert(epoch);
    std::sort(epoch.begin(), epoch.end());
    EXPECT_EQ(epoch, iota(0, n));
  }
  EXPECT_EQ(epochs.size(), 3u);
  // The repetitions are the passes 0, 1, 2 of the shuffle.
  const Dataset shuffled = Dataset::range(n).shuffle(n, 9);
  std::vector<int64_t> passes;
  for (int e = 0; e < 3; ++e) {
    const std::vector<int64_t> p = scalars(shuffled);
    passes.insert(passes.end(), p.begin(), p.end());
  }
  EXPECT_EQ(passes, all);
}

TEST(Dataset, SameSeedSameSequenceWhateverTheParallelism) {
  auto pipeline = [](int calls) {
    Dataset ds = Dataset::range(64).shuffle(16, 3);
    auto fn = [](Element e) { return Element{e[0] * 2 + 1}; };
    ds = calls == 0 ? ds.map(fn) : ds.map(fn, calls);
    return scalars(ds.batch(5).prefetch(2).map([](Element e) {
      return Element{e[0].sum()};  // one number per batch keeps the comparison short
    }));
  };
  const std::vector<int64_t> reference = pipeline(0);
  EXPECT_EQ(pipeline(1), reference);
  EXPECT_EQ(pipeline(3), reference);
  EXPECT_EQ(pipeline(8), reference);
}

TEST(Dataset, BatchStacksComponents) {
  const Tensor x = arange(0, 7 * 3, 1, DType::F32).reshape({7, 3});
  const Tensor y = arange(7);
  for (bool drop : {false, true}) {
    const Dataset ds = Dataset::from_tensors({x, y}).batch(3, drop);
    const std::vector<Element> batches = drain(ds);
    const size_t expected_batches = drop ? 2 : 3;
    ASSERT_EQ(batches.size(), expected_batches);
    EXPECT_EQ(ds.cardinality(), static_cast<int64_t>(expected_batches));
    for (size_t b = 0; b < batches.size(); ++b) {
      const int64_t rows = b < 2 ? 3 : 1;
      EXPECT_EQ(batches[b][0].shape(), Dims({rows, 3}));
      EXPECT_EQ(batches[b][1].shape(), Dims({rows}));
      std::vector<float> expected_x;
      std::vector<int64_t> expected_y;
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t row = static_cast<int64_t>(b) * 3 + r;
        for (int64_t c = 0; c < 3; ++c) expected_x.push_back(static_cast<float>(row * 3 + c));
        expected_y.push_back(row);
      }
      EXPECT_EQ(batches[b][0].to_vector<float>(), expected_x);
      EXPECT_EQ(batches[b][1].to_vector<int64_t>(), expected_y);
    }
  }
  EXPECT_EQ(Dataset::range(6).batch(3, true).cardinality(), 2);
  EXPECT_EQ(Dataset::range(6).repeat().batch(4).cardinality(), kInfiniteCardinality);
  EXPECT_THROW(Dataset::range(6).batch(0), InvalidArgument);
}

TEST(Dataset, BatchRejectsMismatchedElementsNamingTheIndex) {
  // Elements 0..5 have shape [2]; element 5 has shape [3].
  const Dataset ds = Dataset::range(8).map([](Element e) {
    const int64_t v = e[0].item<int64_t>();
    return Element{zeros({v == 5 ? 3 : 2})};
  });
  Iterator pass = ds.batch(4).iterator();
  EXPECT_EQ(pass.next()->at(0).shape(), Dims({4, 2}));
  try {
    pass.next();
    FAIL() << "expected ShapeError";
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("element 5"), std::string::npos) << e.what();
  }
  const Dataset mixed = Dataset::range(4).map([](Element e) {
    return Element{e[0].item<int64_t>() == 2 ? zeros({2}, DType::F64) : zeros({2})};
  });
  EXPECT_THROW(drain(mixed.batch(4)), DTypeError);
}

TEST(Dataset, TakeSkipRepeatAndCardinality) {
  const Dataset ds = Dataset::range(10);
  EXPECT_EQ(scalars(ds.take(3)), iota(0, 3));
  EXPECT_EQ(scalars(ds.take(30)), iota(0, 10));
  EXPECT_EQ(scalars(ds.take(-1)), iota(0, 10));
  EXPECT_EQ(scalars(ds.skip(7)), iota(7, 10));
  EXPECT_EQ(scalars(ds.skip(30)), std::vector<int64_t>{});
  EXPECT_EQ(scalars(ds.skip(-1)), std::vector<int64_t>{});
  EXPECT_EQ(scalars(ds.skip(2).take(3)), iota(2, 5));
  std::vector<int64_t> twice = iota(0, 10);
  twice.insert(twice.end(), twice.begin(), twice.end());
  EXPECT_EQ(scalars(ds.repeat(2)), twice);
  EXPECT_EQ(scalars(ds.repeat().take(20)), twice);
  EXPECT_EQ(scalars(ds.repeat(0)), std::vector<int64_t>{});
  EXPECT_EQ(scalars(ds.take(0).repeat()), std::vector<int64_t>{});  // no endless loop

  EXPECT_EQ(ds.take(3).cardinality(), 3);
  EXPECT_EQ(ds.take(30).cardinality(), 10);
  EXPECT_EQ(ds.skip(7).cardinality(), 3);
  EXPECT_EQ(ds.skip(30).cardinality(), 0);
  EXPECT_EQ(ds.skip(-1).cardinality(), 0);
  EXPECT_EQ(ds.repeat(3).cardinality(), 30);
  EXPECT_EQ(ds.repeat().cardinality(), kInfiniteCardinality);
  EXPECT_EQ(ds.repeat().take(5).cardinality(), 5);
  EXPECT_EQ(ds.repeat().skip(5).cardinality(), kInfiniteCardinality);
  EXPECT_EQ(ds.take(0).repeat().cardinality(), 0);
  const Dataset unknown = ds.filter([](const Element&) { return true; });
  EXPECT_EQ(unknown.repeat(2).cardinality(), kUnknownCardinality);
  EXPECT_EQ(unknown.repeat().cardinality(), kUnknownCardinality);
  EXPECT_EQ(unknown.take(4).cardinality(), kUnknownCardinality);
  EXPECT_EQ(ds.repeat().filter([](const Element&) { return true; }).cardinality(),
            kUnknownCardinality);
  EXPECT_THROW(Dataset::range(INT64_MAX).repeat(2), InvalidArgument);
}

TEST(Dataset, PrefetchYieldsTheSameElements) {
  const Dataset ds = Dataset::range(100).shuffle(10, 1, false);
  EXPECT_EQ(scalars(ds.prefetch(1)), scalars(ds));
  EXPECT_EQ(scalars(ds.prefetch(64)), scalars(ds));
  EXPECT_EQ(ds.prefetch(3).cardinality(), 100);
  EXPECT_THROW(ds.prefetch(0), InvalidArgument);
}

TEST(Dataset, PrefetchDeliversErrorsInOrder) {
  const Dataset ds = Dataset::range(5)
                         .map([](Element e) {
                           if (e[0].item<int64_t>() == 2) throw DTypeError("bad element");
                           return e;
                         })
                         .prefetch(3);
  Iterator pass = ds.iterator();
  EXPECT_EQ(pass.next()->at(0).item<int64_t>(), 0);
  EXPECT_EQ(pass.next()->at(0).item<int64_t>(), 1);
  EXPECT_THROW(pass.next(), DTypeError);
  EXPECT_EQ(pass.next()->at(0).item<int64_t>(), 3);
  EXPECT_EQ(pass.next()->at(0).item<int64_t>(), 4);
  EXPECT_FALSE(pass.next().has_value());
  EXPECT_FALSE(pass.next().has_value());
}

TEST(Dataset, DestroyingAPassMidwayStopsItsThreads) {
  // An endless source behind parallel map and prefetch: the consumer takes a few elements and
  // drops the pass; the destructor must return and the producer must stop soon after.
  std::atomic<int64_t> produced{0};
  const Dataset endless = Dataset::from_generator([&] {
    return [&]() -> std::optional<Element> {
      return Element{Tensor::from_scalar<int64_t>(produced++)};
    };
  });
  for (int round = 0; round < 20; ++round) {
    produced = 0;
    {
      Iterator pass = endless.map([](Element e) { return e; }, 3).prefetch(4).iterator();
      for (int64_t i = 0; i < 5; ++i) EXPECT_EQ(pass.next()->at(0).item<int64_t>(), i);
    }
    const int64_t at_destruction = produced.load();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    EXPECT_EQ(produced.load(), at_destruction);
    // 5 taken, 4 queued, one in the producer's hands, 3 in flight in the map.
    EXPECT_LE(at_destruction, 5 + 4 + 1 + 3);
  }
  // A pass destroyed before its first element, and one that never started.
  { Iterator pass = endless.prefetch(2).iterator(); }
  {
    Iterator pass = endless.map([](Element e) { return e; }, 2).iterator();
  }
}

TEST(Dataset, PassOutlivesItsDatasetHandle) {
  Iterator pass = [] {
    return Dataset::from_tensors({arange(6)}).map([](Element e) { return e; }).iterator();
  }();
  std::vector<int64_t> got;
  while (auto e = pass.next()) got.push_back(e->at(0).item<int64_t>());
  EXPECT_EQ(got, iota(0, 6));
}

}  // namespace
}  // namespace tenflowers::data
