// dropout.h: Dropout, as torch::nn::Dropout; with a generator of its own when one is given.
#pragma once
#include "compat.h"
#include "layer.h"

namespace ictorch::nn {

// Training-mode dropout drawing its mask from `gen` (ATen's dropout takes no generator): x·mask/(1-p) with
// mask ~ Bernoulli(1-p), as torch.nn.functional.dropout computes it.
inline at::Tensor dropoutWith(const at::Tensor& x, double p, const at::Generator& gen) {
  if (p == 0) return x;
  if (p == 1) return x.mul(0);
  at::Tensor mask = at::empty_like(x, at::MemoryFormat::Preserve);
  {
    at::NoGradGuard noGrad;
    mask.bernoulli_(1 - p, gen);
  }
  return x.mul(mask).div_(1 - p);
}

struct DropoutOptions {
  explicit DropoutOptions(double p = 0.5) : p_(p) {}
  TORCH_ARG(double, p);
  // Draw masks from this generator instead of the default one (per-thread or per-model random streams).
  TORCH_ARG(compat::optional<at::Generator>, generator) = compat::nullopt;
};

class DropoutImpl : public Layer {
 public:
  explicit DropoutImpl(DropoutOptions options) : options(std::move(options)) { reset(); }
  void reset() override { TORCH_CHECK_VALUE(options.p() >= 0 && options.p() <= 1, "Dropout: p must be in [0, 1], got ", options.p()); }
  at::Tensor forward(const at::Tensor& x) override {
    if (is_training() && options.generator()) return dropoutWith(x, options.p(), *options.generator());
    return at::dropout(x, options.p(), is_training());
  }
  const char* kind() const override { return "dropout"; }
  LayerPtr clone() const override { return cloneLeaf(*this); }

  DropoutOptions options;
};
TORCH_MODULE(Dropout);

}  // namespace ictorch::nn
