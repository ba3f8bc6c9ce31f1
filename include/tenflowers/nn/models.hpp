#pragma once
// Ready-made models of the design brief's workloads, shared by the main job, the benchmarks and
// anyone who wants a baseline: build them, compile, fit.
#include <cstdint>
#include <memory>
#include <vector>

#include "tenflowers/nn/model.hpp"

namespace tenflowers::nn::models {

// W4: conv3x3(32, same)-relu-maxpool2-conv3x3(64, same)-relu-maxpool2-flatten-dense(128)-relu-
// dense(classes), for NCHW images (28x28 gives dense(3136 -> 128)). Outputs logits.
// InvalidArgument for classes < 1.
std::shared_ptr<Sequential> small_cnn(int64_t classes);

// Dense layers of the given widths with ReLU, then dense(classes) logits; W3 is
// mlp({1024, 1024}, 10) on 784 features. InvalidArgument for classes < 1 or a width < 1.
std::shared_ptr<Sequential> mlp(const std::vector<int64_t>& hidden, int64_t classes);

}  // namespace tenflowers::nn::models
