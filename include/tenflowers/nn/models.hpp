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

// W5: ResNet-18 in its CIFAR form (torchvision's resnet18 with a 3x3 stride-1 stem and no
// max-pool), for NCHW images of any size (3x32x32 ends in 4x4 maps): conv3x3(64)-BN-ReLU, four
// stages of two BasicBlocks of widths 64, 128, 256, 512 (the first block of stages 2-4 has
// stride 2), global average pooling, dense(classes) logits. A BasicBlock is
// relu(BN(conv3x3(relu(BN(conv3x3(x))))) + shortcut(x)), the shortcut the identity or, where the
// stride or the width changes, BN(conv1x1 stride s(x)). Convolutions have no bias, pad 1 on
// each side as PyTorch (not "same", which pads stride-2 convolutions on one side only) and
// He-normal kernels (torchvision: Kaiming-normal over the fan-out). BatchNormalization follows
// PyTorch: momentum 0.9 (torch's 0.1) and epsilon 1e-5; its moving variance is updated with the
// biased batch variance, as Keras, where torch uses the unbiased one. 11,173,962 trainable
// weights for 10 classes. InvalidArgument for classes < 1.
std::shared_ptr<Sequential> resnet18(int64_t classes);

}  // namespace tenflowers::nn::models
