#include "tenflowers/nn/models.hpp"

#include <gtest/gtest.h>

#include "tenflowers/core/ops.hpp"
#include "tenflowers/nn/losses.hpp"
#include "tenflowers/nn/optimizers.hpp"

namespace tenflowers::testing {
namespace {

// Weights plus biases of a dense or convolution layer: fan_in * units + units.
int64_t affine_params(int64_t fan_in, int64_t units) {
  return fan_in * units + units;
}

TEST(Models, SmallCnnHasTheW4LayersAndShapes) {
  const int64_t classes = 7;
  auto model = nn::models::small_cnn(classes);
  model->build_for({Dims{1, 28, 28}});
  // Two 2x2 pools take 28x28 to 7x7, so the first dense layer sees 64 * 7 * 7 = 3136 inputs.
  const int64_t expected = affine_params(1 * 3 * 3, 32) + affine_params(32 * 3 * 3, 64) +
                           affine_params(64 * 7 * 7, 128) + affine_params(128, classes);
  EXPECT_EQ(model->count_params(), expected);
  const Tensor logits = (*model)(zeros({5, 1, 28, 28}));
  EXPECT_EQ(logits.shape(), Dims({5, classes}));
}

TEST(Models, MlpStacksTheGivenWidths) {
  auto model = nn::models::mlp({16, 8}, 3);
  model->build_for({Dims{5}});
  EXPECT_EQ(model->count_params(),
            affine_params(5, 16) + affine_params(16, 8) + affine_params(8, 3));
  EXPECT_EQ((*model)(zeros({4, 5})).shape(), Dims({4, 3}));
  EXPECT_EQ(nn::models::mlp({}, 2)->size(), 1u);
}

int64_t trainable_params(const nn::Layer& layer) {
  int64_t n = 0;
  for (const Variable& v : layer.trainable_variables()) n += v.shape().numel();
  return n;
}

TEST(Models, Resnet18HasTorchvisionsWeightsAndAcceptsAnyImageSize) {
  auto model = nn::models::resnet18(10);
  model->build_for({Dims{3, 8, 8}});  // the weights do not depend on the image size
  // torchvision's resnet18 has 11,689,512 weights; the CIFAR stem conv3x3(3 -> 64) replaces
  // conv7x7(3 -> 64) (-9,408 + 1,728) and a 10-class head dense(512 -> 10) replaces the
  // 1000-class one (-513,000 + 5,130): 11,173,962.
  EXPECT_EQ(trainable_params(*model), 11'173'962);
  // Moving mean and variance of every BN: the stem's 64 channels, four per stage plus the
  // shortcut's in stages 2-4.
  EXPECT_EQ(model->count_params() - trainable_params(*model),
            2 * (64 + 4 * 64 + 5 * 128 + 5 * 256 + 5 * 512));
  EXPECT_EQ((*model)(zeros({2, 3, 32, 32})).shape(), Dims({2, 10}));
  EXPECT_EQ((*model)(zeros({1, 3, 9, 12})).shape(), Dims({1, 10}));
  EXPECT_THROW((*model)(zeros({1, 4, 8, 8})), ShapeError);
}

TEST(Models, Resnet18LearnsATinyBatchWithSgdMomentum) {
  manual_seed(5);
  auto model = nn::models::resnet18(3);
  model->compile(std::make_shared<nn::SGD>(nn::SGDOptions{.learning_rate = 0.01, .momentum = 0.9}),
                 std::make_shared<nn::losses::SparseCategoricalCrossentropy>(true));
  const Tensor x = normal({4, 3, 8, 8});
  const Tensor y = Tensor::from_vec<int64_t>({0, 1, 2, 1}, {4});
  const double first = model->train_step({x}, {y}).at("loss");
  double last = first;
  for (int i = 0; i < 2; ++i) last = model->train_step({x}, {y}).at("loss");
  EXPECT_LT(last, first);
}

TEST(Models, RejectBadSizes) {
  EXPECT_THROW(nn::models::resnet18(0), InvalidArgument);
  EXPECT_THROW(nn::models::small_cnn(0), InvalidArgument);
  EXPECT_THROW(nn::models::mlp({4}, 0), InvalidArgument);
  EXPECT_THROW(nn::models::mlp({4, 0}, 2), InvalidArgument);
}

}  // namespace
}  // namespace tenflowers::testing
