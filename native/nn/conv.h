// conv.h: Conv2d, as torch::nn::Conv2d (zero padding), with PyTorch's default initialisation.
#pragma once
#include "layer.h"

namespace ictorch::nn {

struct Conv2dOptions {
  Conv2dOptions(int64_t inChannels, int64_t outChannels, int64_t kernelSize)
      : inChannels_(inChannels), outChannels_(outChannels), kernelSize_(kernelSize) {}
  TORCH_ARG(int64_t, inChannels);
  TORCH_ARG(int64_t, outChannels);
  TORCH_ARG(int64_t, kernelSize);
  TORCH_ARG(int64_t, stride) = 1;
  TORCH_ARG(int64_t, padding) = 0;
  TORCH_ARG(int64_t, dilation) = 1;
  TORCH_ARG(int64_t, groups) = 1;
  TORCH_ARG(bool, bias) = true;
};

class Conv2dImpl : public Layer {
 public:
  explicit Conv2dImpl(Conv2dOptions options) : options(std::move(options)) { reset(); }
  void reset() override {
    const auto& o = options;
    TORCH_CHECK_VALUE(o.inChannels() % o.groups() == 0 && o.outChannels() % o.groups() == 0, "Conv2d: inChannels (", o.inChannels(),
                      ") and outChannels (", o.outChannels(), ") must both be divisible by groups (", o.groups(), ")");
    weight = register_parameter("weight", at::empty({o.outChannels(), o.inChannels() / o.groups(), o.kernelSize(), o.kernelSize()}));
    if (o.bias()) bias = register_parameter("bias", at::empty({o.outChannels()}));
    initParameters();
  }
  // PyTorch's default (torch.nn.Conv2d.reset_parameters): weight kaiming-uniform with a = √5, that is
  // U(-1/√fan_in, 1/√fan_in); bias U(-1/√fan_in, 1/√fan_in). (The ResNet builders re-initialise their
  // convolutions with He normal, fan-out, as torchvision does.)
  void resetParameters() override {
    at::NoGradGuard noGrad;
    torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));
    if (bias.defined()) {
      const double bound = 1.0 / std::sqrt(static_cast<double>(std::get<0>(torch::nn::init::_calculate_fan_in_and_fan_out(weight))));
      torch::nn::init::uniform_(bias, -bound, bound);
    }
  }
  at::Tensor forward(const at::Tensor& x) override {
    const auto& o = options;
    return at::conv2d(x, weight, bias, {o.stride(), o.stride()}, {o.padding(), o.padding()}, {o.dilation(), o.dilation()}, o.groups());
  }
  const char* kind() const override { return "conv2d"; }
  LayerPtr clone() const override { return cloneLeaf(*this); }

  Conv2dOptions options;
  at::Tensor weight, bias;
};
TORCH_MODULE(Conv2d);

}  // namespace ictorch::nn
