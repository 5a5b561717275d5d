// flatten.h: Flatten (dimensions startDim..endDim into one), as torch::nn::Flatten.
#pragma once
#include "layer.h"

namespace ictorch::nn {

struct FlattenOptions {
  TORCH_ARG(int64_t, startDim) = 1;
  TORCH_ARG(int64_t, endDim) = -1;
};

class FlattenImpl : public Layer {
 public:
  explicit FlattenImpl(FlattenOptions options = {}) : options(options) {}
  void reset() override {}
  at::Tensor forward(const at::Tensor& x) override { return x.flatten(options.startDim(), options.endDim()); }
  const char* kind() const override { return "flatten"; }
  LayerPtr clone() const override { return cloneLeaf(*this); }

  FlattenOptions options;
};
TORCH_MODULE(Flatten);

}  // namespace ictorch::nn
