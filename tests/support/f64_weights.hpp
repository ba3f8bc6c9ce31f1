#pragma once
// Layers created while an F64Weights lives get f64 weights: for checks against float64
// references and for comparisons across devices that f32 rounding would blur.
#include "tenflowers/nn/layer.hpp"

namespace tenflowers::testing {

class F64Weights {
 public:
  F64Weights() : saved_(nn::default_weight_dtype()) { nn::set_default_weight_dtype(DType::F64); }
  ~F64Weights() { nn::set_default_weight_dtype(saved_); }

 private:
  DType saved_;
};

}  // namespace tenflowers::testing
