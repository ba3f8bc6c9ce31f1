// Metrics against naive host loops over several update_state calls on random data (with and
// without sample weights), AUC against the exact rank statistic within its discretization bound
// and against a naive thresholded computation, reset_state, and typed errors.
#include "tenflowers/nn/metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>

#include "tests/support/reference.hpp"

namespace tf = tenflowers;
namespace metrics = tf::nn::metrics;
using tf::DType;
using tf::Tensor;
using tf::testing::Layout;
using tf::testing::Ref;
using tf::testing::Rng;

namespace {

// Weighted sums accumulated by the naive references.
struct Running {
  double total = 0, count = 0;
  void add(double value, double weight) {
    total += weight * value;
    count += weight;
  }
  double mean() const { return count != 0 ? total / count : 0.0; }
};

// One batch: targets, predictions, optional per-sample weights [B].
struct Batch {
  Tensor y_true, y_pred, weight;
  Ref t, p, w;
  double weight_of(int64_t sample) const {
    return w.data.empty() ? 1.0 : w.data[static_cast<size_t>(sample)];
  }
};

Batch make_batch(Tensor y_true, Tensor y_pred, Rng& rng, bool weighted) {
  Batch b{std::move(y_true), std::move(y_pred), Tensor(), {}, {}, {}};
  if (weighted) b.weight = tf::testing::random_tensor(rng, {b.y_pred.size(0)}, DType::F64, 0, 2);
  b.t = tf::testing::to_ref(b.y_true);
  b.p = tf::testing::to_ref(b.y_pred);
  if (weighted) b.w = tf::testing::to_ref(b.weight);
  return b;
}

// Three batches of different sizes: unweighted, weighted, weighted.
template <class Make>
std::vector<Batch> batches(Rng& rng, Make make) {
  std::vector<Batch> out;
  for (int i = 0; i < 3; ++i) {
    const int64_t size = rng.integer(1, 40);
    auto [t, p] = make(size);
    out.push_back(make_batch(t, p, rng, i > 0));
  }
  return out;
}

double feed(tf::nn::ScalarMetric& metric, const std::vector<Batch>& data) {
  for (const Batch& b : data) metric.update_state(b.y_true, b.y_pred, b.weight);
  return metric.result();
}

Tensor one_hot_of(const Tensor& labels, int64_t classes) {
  return tf::one_hot(labels, classes, DType::F32);
}

int64_t row_argmax(const Ref& r, int64_t row, int64_t classes) {
  int64_t best = 0;
  for (int64_t c = 1; c < classes; ++c) {
    if (r.data[size_t(row * classes + c)] > r.data[size_t(row * classes + best)]) best = c;
  }
  return best;
}

// TensorFlow's in_top_k, directly.
bool naive_in_top_k(const Ref& p, int64_t row, int64_t classes, int64_t target, int64_t k) {
  const double score = p.data[size_t(row * classes + target)];
  int64_t higher = 0;
  for (int64_t c = 0; c < classes; ++c) {
    const double v = p.data[size_t(row * classes + c)];
    if (!std::isfinite(v)) return false;
    if (v > score) ++higher;
  }
  return higher < k;
}

constexpr double kSumTolerance = 1e-12;  // doubles summed in different orders

}  // namespace

TEST(Metrics, MeanIsTheWeightedRunningMean) {
  Rng rng = Rng::for_test();
  metrics::Mean mean;
  Running expected;
  for (int i = 0; i < 4; ++i) {
    const Tensor values =
        tf::testing::random_tensor(rng, {7, 3}, DType::F32, -5, 5, Layout::Transposed);
    const Ref v = tf::testing::to_ref(values);
    if (i % 2 == 0) {
      mean.update_state(values);
      for (double x : v.data) expected.add(x, 1);
    } else {
      const Tensor w = tf::testing::random_tensor(rng, {7}, DType::F64, 0, 1);
      const Ref wr = tf::testing::to_ref(w);
      mean.update_state(values, w);
      for (size_t j = 0; j < v.data.size(); ++j) expected.add(v.data[j], wr.data[j / 3]);
    }
  }
  EXPECT_NEAR(mean.result(), expected.mean(), kSumTolerance);
  EXPECT_EQ(mean.name(), "mean");
  mean.reset_state();
  EXPECT_EQ(mean.result(), 0.0);
  mean.update_state(Tensor::from_vec<double>({2.0, 4.0}, {2}));
  EXPECT_EQ(mean.result(), 3.0);
}

TEST(Metrics, AccuraciesMatchNaiveCounts) {
  Rng rng = Rng::for_test();
  const int64_t classes = 6;
  {
    for (double threshold : {0.5, 0.3}) {
      metrics::BinaryAccuracy metric(threshold);
      const auto data = batches(rng, [&](int64_t n) {
        return std::pair{tf::testing::random_tensor(rng, {n, 3}, DType::I64, 0, 1).cast(DType::F32),
                         tf::testing::random_tensor(rng, {n, 3}, DType::F32, 0, 1)};
      });
      Running expected;
      for (const Batch& b : data) {
        for (size_t i = 0; i < b.p.data.size(); ++i) {
          expected.add((b.p.data[i] > threshold) == (b.t.data[i] == 1),
                       b.weight_of(int64_t(i / 3)));
        }
      }
      EXPECT_NEAR(feed(metric, data), expected.mean(), kSumTolerance);
    }
  }
  {
    metrics::CategoricalAccuracy categorical;
    metrics::SparseCategoricalAccuracy sparse;
    std::vector<Batch> dense_data, sparse_data;
    for (int i = 0; i < 3; ++i) {
      const int64_t n = rng.integer(1, 40);
      const Tensor labels = tf::testing::random_tensor(rng, {n}, DType::I64, 0, classes - 1);
      const Tensor scores =
          tf::testing::random_tensor(rng, {n, classes}, DType::F32, 0, 1, Layout::Strided);
      dense_data.push_back(make_batch(one_hot_of(labels, classes), scores, rng, i > 0));
      sparse_data.push_back(make_batch(labels, scores, rng, false));
      sparse_data.back().weight = dense_data.back().weight;
      sparse_data.back().w = dense_data.back().w;
    }
    Running expected;
    for (const Batch& b : sparse_data) {
      for (int64_t r = 0; r < b.y_pred.size(0); ++r) {
        expected.add(row_argmax(b.p, r, classes) == int64_t(b.t.data[size_t(r)]), b.weight_of(r));
      }
    }
    EXPECT_NEAR(feed(categorical, dense_data), expected.mean(), kSumTolerance);
    EXPECT_NEAR(feed(sparse, sparse_data), expected.mean(), kSumTolerance);
  }
}

TEST(Metrics, TopKAccuracyFollowsInTopKWithTiesAndNonFiniteScores) {
  Rng rng = Rng::for_test();
  const int64_t classes = 7;
  for (int64_t k : {1, 2, 3, 7}) {
    metrics::TopKCategoricalAccuracy dense(k);
    metrics::SparseTopKCategoricalAccuracy sparse(k);
    Running expected;
    for (int i = 0; i < 3; ++i) {
      const int64_t n = rng.integer(5, 40);
      const Tensor labels = tf::testing::random_tensor(rng, {n}, DType::I64, 0, classes - 1);
      // Few distinct scores, so ties straddle the top-k boundary; some rows hold inf or NaN.
      Ref scores =
          tf::testing::to_ref(tf::testing::random_tensor(rng, {n, classes}, DType::I64, 0, 3));
      scores.data[size_t(rng.integer(0, n * classes - 1))] =
          std::numeric_limits<double>::infinity();
      scores.data[size_t(rng.integer(0, n * classes - 1))] = std::nan("");
      const Tensor p = tf::testing::from_ref(scores, DType::F32);
      const Tensor w = i > 0 ? tf::testing::random_tensor(rng, {n}, DType::F64, 0, 2) : Tensor();
      const Ref wr = w.defined() ? tf::testing::to_ref(w) : Ref();
      const Ref lr = tf::testing::to_ref(labels);
      for (int64_t r = 0; r < n; ++r) {
        expected.add(naive_in_top_k(scores, r, classes, int64_t(lr.data[size_t(r)]), k),
                     w.defined() ? wr.data[size_t(r)] : 1.0);
      }
      dense.update_state(one_hot_of(labels, classes), p, w);
      sparse.update_state(labels.unsqueeze(-1), p, w);
    }
    EXPECT_NEAR(dense.result(), expected.mean(), kSumTolerance) << "k " << k;
    EXPECT_NEAR(sparse.result(), expected.mean(), kSumTolerance) << "k " << k;
  }
}

TEST(Metrics, PrecisionRecallAndBinaryF1MatchNaiveCounts) {
  Rng rng = Rng::for_test();
  for (double threshold : {0.5, 0.7}) {
    metrics::Precision precision(threshold);
    metrics::Recall recall(threshold);
    metrics::F1Score f1(metrics::F1Average::Binary, threshold);
    const auto data = batches(rng, [&](int64_t n) {
      return std::pair{tf::testing::random_tensor(rng, {n, 2}, DType::Bool, 0, 1),
                       tf::testing::random_tensor(rng, {n, 2}, DType::F64, 0, 1)};
    });
    double tp = 0, fp = 0, fn = 0;
    for (const Batch& b : data) {
      for (size_t i = 0; i < b.p.data.size(); ++i) {
        const double w = b.weight_of(int64_t(i / 2));
        const bool predicted = b.p.data[i] > threshold, actual = b.t.data[i] != 0;
        tp += w * (predicted && actual);
        fp += w * (predicted && !actual);
        fn += w * (!predicted && actual);
      }
    }
    EXPECT_NEAR(feed(precision, data), tp / (tp + fp), kSumTolerance);
    EXPECT_NEAR(feed(recall, data), tp / (tp + fn), kSumTolerance);
    const double p = tp / (tp + fp), r = tp / (tp + fn);
    EXPECT_NEAR(feed(f1, data), 2 * p * r / (p + r), kSumTolerance);
  }
}

TEST(Metrics, MultiClassF1MatchesNaivePerClassCounts) {
  Rng rng = Rng::for_test();
  const int64_t classes = 5;
  for (auto average : {metrics::F1Average::Micro, metrics::F1Average::Macro}) {
    for (std::optional<double> threshold : {std::optional<double>(), std::optional<double>(0.6)}) {
      metrics::F1Score metric(average, threshold);
      const auto data = batches(rng, [&](int64_t n) {
        const Tensor labels = tf::testing::random_tensor(rng, {n}, DType::I64, 0, classes - 2);
        // Integer-valued scores tie often: every class at the row maximum is predicted.
        const Tensor scores =
            threshold
                ? tf::testing::random_tensor(rng, {n, classes}, DType::F32, 0, 1)
                : tf::testing::random_tensor(rng, {n, classes}, DType::I64, 0, 4).cast(DType::F32);
        return std::pair{one_hot_of(labels, classes), scores};
      });
      std::vector<double> tp(classes), fp(classes), fn(classes);
      for (const Batch& b : data) {
        for (int64_t r = 0; r < b.y_pred.size(0); ++r) {
          double top = -1e300;
          for (int64_t c = 0; c < classes; ++c)
            top = std::max(top, b.p.data[size_t(r * classes + c)]);
          for (int64_t c = 0; c < classes; ++c) {
            const double score = b.p.data[size_t(r * classes + c)];
            const bool predicted = threshold ? score > *threshold : score == top;
            const bool actual = b.t.data[size_t(r * classes + c)] != 0;
            tp[size_t(c)] += b.weight_of(r) * (predicted && actual);
            fp[size_t(c)] += b.weight_of(r) * (predicted && !actual);
            fn[size_t(c)] += b.weight_of(r) * (!predicted && actual);
          }
        }
      }
      auto f1_of = [](double t, double f, double n) {
        const double p = t + f > 0 ? t / (t + f) : 0, r = t + n > 0 ? t / (t + n) : 0;
        return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
      };
      double expected = 0;
      if (average == metrics::F1Average::Micro) {
        double t = 0, f = 0, n = 0;
        for (int64_t c = 0; c < classes; ++c)
          t += tp[size_t(c)], f += fp[size_t(c)], n += fn[size_t(c)];
        expected = f1_of(t, f, n);
      } else {
        // The last class never occurs as a label; its F1 is 0 and still counts in the average.
        for (int64_t c = 0; c < classes; ++c)
          expected += f1_of(tp[size_t(c)], fp[size_t(c)], fn[size_t(c)]);
        expected /= classes;
      }
      EXPECT_NEAR(feed(metric, data), expected, kSumTolerance);
    }
  }
}

namespace {

// Keras' AUC recomputed from scratch: thresholds, counts by direct comparison, Riemann sums.
struct NaiveAuc {
  std::vector<double> thresholds, tp, fp;
  double positives = 0, negatives = 0;

  explicit NaiveAuc(int64_t count) {
    thresholds.push_back(0.0 - 1e-7);
    for (int64_t i = 0; i < count - 2; ++i) thresholds.push_back((i + 1) * 1.0 / (count - 1));
    thresholds.push_back(1.0 + 1e-7);
    tp.assign(size_t(count), 0);
    fp.assign(size_t(count), 0);
  }
  void add(double score, bool positive, double weight) {
    (positive ? positives : negatives) += weight;
    for (size_t i = 0; i < thresholds.size(); ++i) {
      if (score > thresholds[i]) (positive ? tp : fp)[i] += weight;
    }
  }
  double result(metrics::AucCurve curve, metrics::AucSummation summation) const {
    const size_t n = thresholds.size();
    auto safe = [](double a, double b) { return b == 0 ? 0.0 : a / b; };
    std::vector<double> fn(n), tn(n);
    for (size_t i = 0; i < n; ++i) fn[i] = positives - tp[i], tn[i] = negatives - fp[i];
    double area = 0;
    if (curve == metrics::AucCurve::PR && summation == metrics::AucSummation::Interpolation) {
      for (size_t i = 0; i + 1 < n; ++i) {
        const double dtp = tp[i] - tp[i + 1];
        const double p0 = tp[i] + fp[i], p1 = tp[i + 1] + fp[i + 1];
        const double slope = safe(dtp, std::max(p0 - p1, 0.0));
        const double intercept = tp[i + 1] - slope * p1;
        const double ratio = (p0 > 0 && p1 > 0) ? safe(p0, std::max(p1, 0.0)) : 1.0;
        area +=
            safe(slope * (dtp + intercept * std::log(ratio)), std::max(tp[i + 1] + fn[i + 1], 0.0));
      }
      return area;
    }
    for (size_t i = 0; i + 1 < n; ++i) {
      double x0, x1, y0, y1;
      if (curve == metrics::AucCurve::ROC) {
        x0 = safe(fp[i], fp[i] + tn[i]), x1 = safe(fp[i + 1], fp[i + 1] + tn[i + 1]);
        y0 = safe(tp[i], tp[i] + fn[i]), y1 = safe(tp[i + 1], tp[i + 1] + fn[i + 1]);
      } else {
        x0 = safe(tp[i], tp[i] + fn[i]), x1 = safe(tp[i + 1], tp[i + 1] + fn[i + 1]);
        y0 = safe(tp[i], tp[i] + fp[i]), y1 = safe(tp[i + 1], tp[i + 1] + fp[i + 1]);
      }
      const double height = summation == metrics::AucSummation::Interpolation ? (y0 + y1) / 2
                            : summation == metrics::AucSummation::Minoring    ? std::min(y0, y1)
                                                                              : std::max(y0, y1);
      area += (x0 - x1) * height;
    }
    return area;
  }
};

}  // namespace

TEST(Metrics, AucMatchesANaiveThresholdedComputation) {
  Rng rng = Rng::for_test();
  for (int64_t count : {2, 3, 50, 200}) {
    for (auto curve : {metrics::AucCurve::ROC, metrics::AucCurve::PR}) {
      for (auto summation : {metrics::AucSummation::Interpolation, metrics::AucSummation::Minoring,
                             metrics::AucSummation::Majoring}) {
        metrics::AUC auc(count, curve, summation);
        NaiveAuc naive(count);
        ASSERT_EQ(auc.thresholds(), naive.thresholds);
        for (int batch = 0; batch < 3; ++batch) {
          const int64_t n = rng.integer(1, 60);
          Ref scores =
              tf::testing::to_ref(tf::testing::random_tensor(rng, {n, 1}, DType::F64, 0, 1));
          // Scores exactly on thresholds, and the ends of [0, 1], test the strict comparison.
          if (count > 2) scores.data[0] = naive.thresholds[size_t(rng.integer(1, count - 2))];
          if (n > 2) scores.data[1] = 0.0, scores.data[2] = 1.0;
          const Tensor labels = tf::testing::random_tensor(rng, {n}, DType::I64, 0, 1);
          const Ref lr = tf::testing::to_ref(labels);
          const bool weighted = batch > 0;
          const Tensor w = weighted ? tf::testing::random_tensor(rng, {n}, DType::I64, 0, 3)
                                    : Tensor();  // integer weights keep the counts exact
          const Ref wr = weighted ? tf::testing::to_ref(w) : Ref();
          for (int64_t i = 0; i < n; ++i) {
            naive.add(scores.data[size_t(i)], lr.data[size_t(i)] != 0,
                      weighted ? wr.data[size_t(i)] : 1.0);
          }
          auc.update_state(labels, tf::testing::from_ref(scores, DType::F64), w);
        }
        EXPECT_EQ(auc.true_positives(), naive.tp);
        EXPECT_EQ(auc.false_positives(), naive.fp);
        EXPECT_EQ(auc.positives(), naive.positives);
        EXPECT_EQ(auc.negatives(), naive.negatives);
        EXPECT_NEAR(auc.result(), naive.result(curve, summation), 1e-12)
            << count << " thresholds, curve " << int(curve) << ", summation " << int(summation);
      }
    }
  }
}

// The trapezoidal ROC area over thresholds is the Mann-Whitney statistic of the scores
// replaced by their bucket (how many thresholds lie below them), ties counting 1/2: buckets keep
// the order of scores in different buckets, so only pairs (positive, negative) sharing a bucket
// can be scored differently from the exact statistic, by at most 1/2 each. Hence
// |AUC - exact| <= (pairs sharing a bucket) / (2 P N).
TEST(Metrics, RocAucIsWithinItsDiscretizationBoundOfTheExactRankAuc) {
  Rng rng = Rng::for_test();
  for (int64_t count : {10, 200, 1000}) {
    metrics::AUC auc(count);
    std::vector<double> positive_scores, negative_scores;
    for (int batch = 0; batch < 4; ++batch) {
      const int64_t n = rng.integer(20, 200);
      const Tensor labels = tf::testing::random_tensor(rng, {n}, DType::Bool, 0, 1);
      // Positives score higher on average, so the AUC is far from 1/2.
      Ref scores = tf::testing::to_ref(tf::testing::random_tensor(rng, {n}, DType::F64, 0, 1));
      const Ref lr = tf::testing::to_ref(labels);
      for (int64_t i = 0; i < n; ++i) {
        double& s = scores.data[size_t(i)];
        if (lr.data[size_t(i)] != 0) s = std::sqrt(s);
        (lr.data[size_t(i)] != 0 ? positive_scores : negative_scores).push_back(s);
      }
      auc.update_state(labels, tf::testing::from_ref(scores, DType::F64));
    }
    const auto bucket = [&](double s) {
      int64_t b = 0;
      for (double t : auc.thresholds()) b += s > t;
      return b;
    };
    double wins = 0, shared = 0;
    for (double p : positive_scores) {
      for (double q : negative_scores) {
        wins += p > q ? 1.0 : p == q ? 0.5 : 0.0;
        shared += bucket(p) == bucket(q);
      }
    }
    const double pairs = double(positive_scores.size()) * double(negative_scores.size());
    const double exact = wins / pairs, bound = shared / (2 * pairs);
    EXPECT_LE(std::fabs(auc.result() - exact), bound + 1e-12)
        << count << " thresholds: auc " << auc.result() << ", exact " << exact;
    EXPECT_GT(exact, 0.55);
  }
}

TEST(Metrics, ConfusionMatrixCountsPairs) {
  Rng rng = Rng::for_test();
  const int64_t classes = 4;
  metrics::ConfusionMatrix matrix(classes);
  std::vector<int64_t> expected(size_t(classes * classes), 0);
  for (int batch = 0; batch < 3; ++batch) {
    const int64_t n = rng.integer(0, 50);
    const Tensor labels = tf::testing::random_tensor(rng, {n}, DType::I32, 0, classes - 1);
    const Ref lr = tf::testing::to_ref(labels);
    if (batch == 1) {
      const Tensor predicted = tf::testing::random_tensor(rng, {n}, DType::U8, 0, classes - 1);
      const Ref pr = tf::testing::to_ref(predicted);
      for (int64_t i = 0; i < n; ++i) {
        ++expected[size_t(lr.data[size_t(i)] * classes + pr.data[size_t(i)])];
      }
      matrix.update_state(labels, predicted);
    } else {
      const Tensor scores = tf::testing::random_tensor(rng, {n, classes}, DType::F32, 0, 1);
      const Ref sr = tf::testing::to_ref(scores);
      for (int64_t i = 0; i < n; ++i) {
        ++expected[size_t(lr.data[size_t(i)] * classes + row_argmax(sr, i, classes))];
      }
      matrix.update_state(labels, scores);
    }
  }
  const Tensor result = matrix.result();
  EXPECT_EQ(result.dtype(), DType::I64);
  EXPECT_EQ(result.shape(), tf::Dims({classes, classes}));
  EXPECT_EQ(result.to_vector<int64_t>(), expected);
  EXPECT_EQ(matrix.result_tensor().to_vector<int64_t>(), expected);
  matrix.reset_state();
  EXPECT_EQ(tf::sum(matrix.result()).item<int64_t>(), 0);
}

TEST(Metrics, ResetStartsOver) {
  Rng rng = Rng::for_test();
  std::vector<std::unique_ptr<tf::nn::ScalarMetric>> all;
  all.push_back(std::make_unique<metrics::BinaryAccuracy>());
  all.push_back(std::make_unique<metrics::CategoricalAccuracy>());
  all.push_back(std::make_unique<metrics::TopKCategoricalAccuracy>(2));
  all.push_back(std::make_unique<metrics::Precision>());
  all.push_back(std::make_unique<metrics::Recall>());
  all.push_back(std::make_unique<metrics::F1Score>(metrics::F1Average::Macro));
  all.push_back(std::make_unique<metrics::AUC>(20, metrics::AucCurve::PR));
  const Tensor labels = tf::testing::random_tensor(rng, {30}, DType::I64, 0, 2);
  const Tensor t = one_hot_of(labels, 3);
  const Tensor p1 = tf::testing::random_tensor(rng, {30, 3}, DType::F32, 0, 1);
  const Tensor p2 = tf::testing::random_tensor(rng, {30, 3}, DType::F32, 0, 1);
  for (auto& metric : all) {
    metric->update_state(t, p1);
    metric->reset_state();
    EXPECT_EQ(metric->result(), 0.0) << metric->name();
    metric->update_state(t, p2);
    const double after_reset = metric->result();
    metric->reset_state();
    metric->update_state(t, p2);
    EXPECT_EQ(metric->result(), after_reset) << metric->name();
    EXPECT_EQ(metric->result_tensor().item<double>(), after_reset) << metric->name();
  }
}

TEST(Metrics, BadInputsThrowTypedErrors) {
  const Tensor p = tf::full({4, 3}, 0.5);
  const Tensor t = tf::zeros({4, 3});
  metrics::BinaryAccuracy binary;
  EXPECT_THROW(binary.update_state(tf::zeros({3, 4}), p), tf::ShapeError);
  EXPECT_THROW(binary.update_state(t, p, tf::ones({3})), tf::ShapeError);
  EXPECT_THROW(binary.update_state(t, p, tf::ones({4, 2})), tf::ShapeError);
  metrics::CategoricalAccuracy categorical;
  EXPECT_THROW(categorical.update_state(tf::zeros({4}), p), tf::ShapeError);
  metrics::SparseCategoricalAccuracy sparse;
  EXPECT_THROW(sparse.update_state(tf::zeros({4}), p), tf::DTypeError);
  EXPECT_THROW(sparse.update_state(tf::full({4}, 3, DType::I64), p), tf::IndexError);
  EXPECT_THROW(sparse.update_state(tf::zeros({5}, DType::I64), p), tf::ShapeError);
  EXPECT_THROW(metrics::TopKCategoricalAccuracy(0), tf::InvalidArgument);
  EXPECT_THROW(metrics::AUC(1), tf::InvalidArgument);
  metrics::AUC auc;
  EXPECT_THROW(auc.update_state(t, tf::full({4, 3}, 1.5)), tf::InvalidArgument);
  EXPECT_THROW(auc.update_state(t, tf::full({4, 3}, std::nan(""))), tf::InvalidArgument);
  metrics::F1Score f1(metrics::F1Average::Macro);
  f1.update_state(t, p);
  EXPECT_THROW(f1.update_state(tf::zeros({4, 2}), tf::zeros({4, 2})), tf::ShapeError);
  metrics::ConfusionMatrix matrix(3);
  EXPECT_THROW(matrix.update_state(tf::zeros({4}, DType::I64), p, tf::ones({4})),
               tf::InvalidArgument);
  EXPECT_THROW(matrix.update_state(tf::zeros({4}, DType::I64), tf::zeros({4, 2})), tf::ShapeError);
  EXPECT_THROW(matrix.update_state(tf::full({4}, -1, DType::I64), p), tf::IndexError);
  EXPECT_THROW(metrics::ConfusionMatrix(0), tf::InvalidArgument);
  metrics::Mean mean;
  EXPECT_THROW(mean.update_state(tf::ones({3}), tf::ones({4})), tf::ShapeError);
  // Nothing was accumulated by the failed updates.
  EXPECT_EQ(binary.result(), 0.0);
  EXPECT_EQ(mean.result(), 0.0);
}
