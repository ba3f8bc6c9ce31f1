#include "tenflowers/nn/models.hpp"

#include "tenflowers/core/error.hpp"
#include "tenflowers/nn/layers/conv.hpp"
#include "tenflowers/nn/layers/core.hpp"

namespace tenflowers::nn::models {

using std::make_shared;

std::shared_ptr<Sequential> small_cnn(int64_t classes) {
  TF_CHECK(classes >= 1, InvalidArgument, "small_cnn: classes must be >= 1, got ", classes);
  return make_shared<Sequential>(std::vector<LayerPtr>{
      make_shared<Conv2D>(32, std::vector<int64_t>{3},
                          ConvOptions{.padding = "same", .activation = "relu"}),
      make_shared<MaxPool2D>(),
      make_shared<Conv2D>(64, std::vector<int64_t>{3},
                          ConvOptions{.padding = "same", .activation = "relu"}),
      make_shared<MaxPool2D>(), make_shared<Flatten>(),
      make_shared<Dense>(128, DenseOptions{.activation = "relu"}), make_shared<Dense>(classes)});
}

std::shared_ptr<Sequential> mlp(const std::vector<int64_t>& hidden, int64_t classes) {
  TF_CHECK(classes >= 1, InvalidArgument, "mlp: classes must be >= 1, got ", classes);
  std::vector<LayerPtr> layers;
  for (int64_t width : hidden) {
    TF_CHECK(width >= 1, InvalidArgument, "mlp: hidden widths must be >= 1, got ", width);
    layers.push_back(make_shared<Dense>(width, DenseOptions{.activation = "relu"}));
  }
  layers.push_back(make_shared<Dense>(classes));
  return make_shared<Sequential>(std::move(layers));
}

}  // namespace tenflowers::nn::models
