// linear.h: Linear (y = x Wᵀ + b), as torch::nn::Linear, with PyTorch's default initialisation.
#pragma once
#include "layer.h"

namespace ictorch::nn {

struct LinearOptions {
  LinearOptions(int64_t inFeatures, int64_t outFeatures) : inFeatures_(inFeatures), outFeatures_(outFeatures) {}
  TORCH_ARG(int64_t, inFeatures);
  TORCH_ARG(int64_t, outFeatures);
  TORCH_ARG(bool, bias) = true;
};

class LinearImpl : public Layer {
 public:
  explicit LinearImpl(LinearOptions options) : options(std::move(options)) { reset(); }
  void reset() override {
    weight = register_parameter("weight", at::empty({options.outFeatures(), options.inFeatures()}));
    if (options.bias()) bias = register_parameter("bias", at::empty({options.outFeatures()}));
    initParameters();
  }
  // PyTorch's default: weight kaiming-uniform with a = √5 (U(±1/√inFeatures)), bias U(±1/√inFeatures).
  void resetParameters() override {
    at::NoGradGuard noGrad;
    torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));
    if (bias.defined()) {
      const double bound = 1.0 / std::sqrt(static_cast<double>(options.inFeatures()));
      torch::nn::init::uniform_(bias, -bound, bound);
    }
  }
  at::Tensor forward(const at::Tensor& x) override { return at::linear(x, weight, bias); }
  const char* kind() const override { return "linear"; }
  LayerPtr clone() const override { return cloneLeaf(*this); }

  LinearOptions options;
  at::Tensor weight, bias;
};
TORCH_MODULE(Linear);

}  // namespace ictorch::nn
