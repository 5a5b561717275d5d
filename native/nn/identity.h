// identity.h: Identity (returns its input), as torch::nn::Identity.
#pragma once
#include "layer.h"

namespace ictorch::nn {

class IdentityImpl : public Layer {
 public:
  void reset() override {}
  at::Tensor forward(const at::Tensor& x) override { return x; }
  const char* kind() const override { return "identity"; }
  LayerPtr clone() const override {
    auto copy = std::make_shared<IdentityImpl>();
    copy->train(is_training());
    return copy;
  }
};
TORCH_MODULE(Identity);

}  // namespace ictorch::nn
