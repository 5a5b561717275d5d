// activation.h: ReLU, as torch::nn::ReLU.
#pragma once
#include "layer.h"

namespace ictorch::nn {

struct ReLUOptions {
  TORCH_ARG(bool, inplace) = false;
};

class ReLUImpl : public Layer {
 public:
  explicit ReLUImpl(ReLUOptions options = {}) : options(options) {}
  void reset() override {}
  at::Tensor forward(const at::Tensor& x) override { return options.inplace() ? at::relu_(const_cast<at::Tensor&>(x)) : at::relu(x); }
  const char* kind() const override { return "relu"; }
  LayerPtr clone() const override { return cloneLeaf(*this); }

  ReLUOptions options;
};
TORCH_MODULE(ReLU);

}  // namespace ictorch::nn
