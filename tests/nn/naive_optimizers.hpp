#pragma once
// An independent float64 implementation of the optimizers for the tests: plain loops over
// std::vector<double> following the update rules in torch.optim's documentation (with
// amsgrad's maximum taken over the raw second moment, as torch's code does) and Keras' clipping
// (clipvalue, then clipnorm per variable, then global_clipnorm), plus a factory that builds the
// library optimizer from the same configuration.
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <tenflowers/tenflowers.hpp>

namespace tenflowers::nn::testing {

enum class Kind { SGD, Adam, AdamW, RMSprop, Adagrad };

struct Config {
  std::string label{};
  Kind kind = Kind::SGD;
  double lr = 0.1;
  std::shared_ptr<LearningRateSchedule> schedule{};  // overrides lr when set
  double momentum = 0.0, dampening = 0.0;
  bool nesterov = false;
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
  bool amsgrad = false;
  double rho = 0.99;
  bool centered = false;
  double initial_accumulator = 0.0;
  OptimizerOptions common{};
};

inline LearningRate rate_of(const Config& c) {
  if (c.schedule) return c.schedule;
  return c.lr;
}

inline std::unique_ptr<Optimizer> make_optimizer(const Config& c) {
  switch (c.kind) {
    case Kind::SGD:
      return std::make_unique<SGD>(SGDOptions{.learning_rate = rate_of(c),
                                              .momentum = c.momentum,
                                              .dampening = c.dampening,
                                              .nesterov = c.nesterov,
                                              .common = c.common});
    case Kind::Adam:
      return std::make_unique<Adam>(AdamOptions{.learning_rate = rate_of(c),
                                                .beta1 = c.beta1,
                                                .beta2 = c.beta2,
                                                .epsilon = c.epsilon,
                                                .amsgrad = c.amsgrad,
                                                .common = c.common});
    case Kind::AdamW:
      return std::make_unique<AdamW>(AdamWOptions{.learning_rate = rate_of(c),
                                                  .beta1 = c.beta1,
                                                  .beta2 = c.beta2,
                                                  .epsilon = c.epsilon,
                                                  .amsgrad = c.amsgrad,
                                                  .common = c.common});
    case Kind::RMSprop:
      return std::make_unique<RMSprop>(RMSpropOptions{.learning_rate = rate_of(c),
                                                      .rho = c.rho,
                                                      .epsilon = c.epsilon,
                                                      .momentum = c.momentum,
                                                      .centered = c.centered,
                                                      .common = c.common});
    case Kind::Adagrad:
      return std::make_unique<Adagrad>(
          AdagradOptions{.learning_rate = rate_of(c),
                         .initial_accumulator_value = c.initial_accumulator,
                         .epsilon = c.epsilon,
                         .common = c.common});
  }
  return nullptr;
}

using Values = std::vector<double>;

class NaiveOptimizer {
 public:
  explicit NaiveOptimizer(Config c) : c_(std::move(c)) {}

  // One step over params[i] with grads[i] (nullopt: no gradient, the variable is skipped).
  void step(std::vector<Values>& params, std::vector<std::optional<Values>> grads) {
    const double lr = c_.schedule ? (*c_.schedule)(t_) : c_.lr;
    ++t_;
    const OptimizerOptions& o = c_.common;
    double global_sq = 0.0;
    for (auto& g : grads) {
      if (!g) continue;
      if (o.clip_value) {
        for (double& x : *g) x = std::clamp(x, -*o.clip_value, *o.clip_value);
      }
      if (o.clip_norm) scale(*g, *o.clip_norm / std::max(norm(*g), *o.clip_norm));
      global_sq += norm(*g) * norm(*g);
    }
    if (o.global_clip_norm) {
      const double global = std::sqrt(global_sq);
      for (auto& g : grads) {
        if (g) scale(*g, *o.global_clip_norm / std::max(global, *o.global_clip_norm));
      }
    }
    for (size_t i = 0; i < params.size(); ++i) {
      if (grads[i]) update(i, params[i], *grads[i], lr);
    }
  }

  int64_t t() const { return t_; }
  // Slot `name` of variable i, or null when it has none yet.
  const Values* slot(size_t i, const std::string& name) const {
    auto it = slots_.find({i, name});
    return it == slots_.end() ? nullptr : &it->second;
  }

 private:
  static double norm(const Values& v) {
    double sq = 0.0;
    for (double x : v) sq += x * x;
    return std::sqrt(sq);
  }
  static void scale(Values& v, double s) {
    for (double& x : v) x *= s;
  }
  // The slot, made with `initial` values on first use; `fresh` tells whether it was just made.
  Values& slot_for(size_t i, const std::string& name, size_t n, double initial, bool& fresh) {
    auto [it, inserted] = slots_.try_emplace({i, name}, Values(n, initial));
    fresh = inserted;
    return it->second;
  }

  void update(size_t i, Values& p, const Values& grad, double lr) {
    const size_t n = p.size();
    const double wd = c_.common.weight_decay;
    bool fresh = false;
    switch (c_.kind) {
      case Kind::SGD: {
        Values* b = c_.momentum != 0.0 ? &slot_for(i, "momentum", n, 0.0, fresh) : nullptr;
        for (size_t e = 0; e < n; ++e) {
          double g = grad[e] + wd * p[e];
          if (b) {
            (*b)[e] = fresh ? g : c_.momentum * (*b)[e] + (1.0 - c_.dampening) * g;
            g = c_.nesterov ? g + c_.momentum * (*b)[e] : (*b)[e];
          }
          p[e] -= lr * g;
        }
        break;
      }
      case Kind::Adam:
      case Kind::AdamW: {
        const bool decoupled = c_.kind == Kind::AdamW;
        Values& m = slot_for(i, "m", n, 0.0, fresh);
        Values& v = slot_for(i, "v", n, 0.0, fresh);
        Values* v_max = c_.amsgrad ? &slot_for(i, "v_max", n, 0.0, fresh) : nullptr;
        const double t = static_cast<double>(t_);
        for (size_t e = 0; e < n; ++e) {
          double g = grad[e];
          if (decoupled) {
            p[e] -= lr * wd * p[e];
          } else {
            g += wd * p[e];
          }
          m[e] = c_.beta1 * m[e] + (1.0 - c_.beta1) * g;
          v[e] = c_.beta2 * v[e] + (1.0 - c_.beta2) * g * g;
          const double m_hat = m[e] / (1.0 - std::pow(c_.beta1, t));
          double v_raw = v[e];
          if (v_max) v_raw = (*v_max)[e] = std::max((*v_max)[e], v[e]);
          const double v_hat = v_raw / (1.0 - std::pow(c_.beta2, t));
          p[e] -= lr * m_hat / (std::sqrt(v_hat) + c_.epsilon);
        }
        break;
      }
      case Kind::RMSprop: {
        Values& s = slot_for(i, "square_avg", n, 0.0, fresh);
        Values* a = c_.centered ? &slot_for(i, "grad_avg", n, 0.0, fresh) : nullptr;
        Values* b = c_.momentum > 0.0 ? &slot_for(i, "momentum", n, 0.0, fresh) : nullptr;
        for (size_t e = 0; e < n; ++e) {
          const double g = grad[e] + wd * p[e];
          s[e] = c_.rho * s[e] + (1.0 - c_.rho) * g * g;
          double v = s[e];
          if (a) {
            (*a)[e] = c_.rho * (*a)[e] + (1.0 - c_.rho) * g;
            v -= (*a)[e] * (*a)[e];
          }
          const double step = g / (std::sqrt(v) + c_.epsilon);
          if (b) {
            (*b)[e] = c_.momentum * (*b)[e] + step;
            p[e] -= lr * (*b)[e];
          } else {
            p[e] -= lr * step;
          }
        }
        break;
      }
      case Kind::Adagrad: {
        Values& s = slot_for(i, "accumulator", n, c_.initial_accumulator, fresh);
        for (size_t e = 0; e < n; ++e) {
          const double g = grad[e] + wd * p[e];
          s[e] += g * g;
          p[e] -= lr * g / (std::sqrt(s[e]) + c_.epsilon);
        }
        break;
      }
    }
  }

  Config c_;
  int64_t t_ = 0;
  std::map<std::pair<size_t, std::string>, Values> slots_;
};

}  // namespace tenflowers::nn::testing
