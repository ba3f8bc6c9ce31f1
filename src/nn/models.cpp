#include "tenflowers/nn/models.hpp"

#include "tenflowers/core/error.hpp"
#include "tenflowers/core/ops.hpp"
#include "tenflowers/nn/layers/conv.hpp"
#include "tenflowers/nn/layers/core.hpp"
#include "tenflowers/nn/layers/normalization.hpp"

namespace tenflowers::nn::models {

using std::make_shared;

namespace {

// ResNet's bias-free convolution (BN follows, so a bias would be redundant): kernel k, stride s,
// padding k / 2 on each side as PyTorch.
std::shared_ptr<Conv2D> resnet_conv(int64_t filters, int64_t k, int64_t stride) {
  return make_shared<Conv2D>(filters, std::vector<int64_t>{k},
                             ConvOptions{.strides = {stride},
                                         .padding = "explicit",
                                         .pads = {k / 2},
                                         .use_bias = false,
                                         .kernel_initializer = Initializer::he_normal()});
}

// PyTorch's BatchNorm2d defaults (momentum 0.1 there is 0.9 here).
std::shared_ptr<BatchNormalization> resnet_norm() {
  return make_shared<BatchNormalization>(BatchNormOptions{.momentum = 0.9, .epsilon = 1e-5});
}

// torchvision's BasicBlock; sublayers conv1, bn1, conv2, bn2 and, where needed, shortcut_conv
// and shortcut_bn.
class BasicBlock : public Layer {
 public:
  BasicBlock(int64_t filters, int64_t stride)
      : Layer("basic_block", ""), filters_(filters), stride_(stride) {
    conv1_ = track("conv1", resnet_conv(filters, 3, stride));
    bn1_ = track("bn1", resnet_norm());
    conv2_ = track("conv2", resnet_conv(filters, 3, 1));
    bn2_ = track("bn2", resnet_norm());
  }

 protected:
  // Whether the shortcut needs a projection depends on the input's width, known only here.
  void build(const std::vector<Dims>& input_shapes) override {
    const Dims& s = input_shapes.at(0);
    TF_CHECK(s.size() == 4, ShapeError, "layer '", name(),
             "' (basic_block): expected an NCHW input, got ", s);
    if (stride_ != 1 || s[1] != filters_) {
      shortcut_conv_ = track("shortcut_conv", resnet_conv(filters_, 1, stride_));
      shortcut_bn_ = track("shortcut_bn", resnet_norm());
    }
  }

  Tensor forward(const std::vector<Tensor>& inputs) override {
    const Tensor& x = only_input(inputs);
    const Tensor y = (*bn2_)((*conv2_)(relu((*bn1_)((*conv1_)(x)))));
    return relu(y + (shortcut_conv_ ? (*shortcut_bn_)((*shortcut_conv_)(x)) : x));
  }

 private:
  int64_t filters_, stride_;
  std::shared_ptr<Conv2D> conv1_, conv2_, shortcut_conv_;
  std::shared_ptr<BatchNormalization> bn1_, bn2_, shortcut_bn_;
};

}  // namespace

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

std::shared_ptr<Sequential> resnet18(int64_t classes) {
  TF_CHECK(classes >= 1, InvalidArgument, "resnet18: classes must be >= 1, got ", classes);
  std::vector<LayerPtr> layers{resnet_conv(64, 3, 1), resnet_norm(),
                               make_shared<Activation>("relu")};
  for (int64_t stage = 0; stage < 4; ++stage) {
    const int64_t filters = int64_t{64} << stage;
    layers.push_back(make_shared<BasicBlock>(filters, stage == 0 ? 1 : 2));
    layers.push_back(make_shared<BasicBlock>(filters, 1));
  }
  layers.push_back(make_shared<GlobalAveragePooling>());
  layers.push_back(make_shared<Dense>(classes));
  return make_shared<Sequential>(std::move(layers));
}

}  // namespace tenflowers::nn::models
