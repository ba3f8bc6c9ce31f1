#include "tenflowers/nn/models.hpp"

#include <gtest/gtest.h>

#include "tenflowers/core/ops.hpp"

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

TEST(Models, RejectBadSizes) {
  EXPECT_THROW(nn::models::small_cnn(0), InvalidArgument);
  EXPECT_THROW(nn::models::mlp({4}, 0), InvalidArgument);
  EXPECT_THROW(nn::models::mlp({4, 0}, 2), InvalidArgument);
}

}  // namespace
}  // namespace tenflowers::testing
