// ic_layer.h: the IC layer of Chen et al. (BatchNorm, then Dropout, before a weight layer) as a module, like
// torch::nn::BatchNorm2d: learnable scale and shift, running statistics and the batch counter as BatchNorm
// names them, so state dicts load into a PyTorch BatchNorm2d + Dropout pair. The op is native/ic (fused on
// CPU and CUDA where possible).
#pragma once
#include "compat.h"
#include "dropout.h"
#include "ic/ic.h"
#include "layer.h"

namespace ictorch::nn {

struct ICOptions {
  explicit ICOptions(int64_t channels) : channels_(channels) {}
  TORCH_ARG(int64_t, channels);
  // Dropout rate after normalisation, in [0, 1); 0 makes the layer exactly BatchNorm.
  TORCH_ARG(double, dropRate) = 0.0;
  TORCH_ARG(double, momentum) = 0.1;
  TORCH_ARG(double, eps) = 1e-5;
  TORCH_ARG(bool, affine) = true;
  // 1 for (N, C) input, 2 for (N, C, H, W).
  TORCH_ARG(int, dims) = 2;
  TORCH_ARG(ic::Impl, impl) = ic::Impl::Auto;
  // Draw dropout masks from this generator (then the composite path runs: batch_norm, then dropout).
  TORCH_ARG(compat::optional<at::Generator>, generator) = compat::nullopt;
};

class ICImpl : public Layer {
 public:
  explicit ICImpl(ICOptions options) : options(std::move(options)) { reset(); }
  void reset() override {
    const auto& o = options;
    TORCH_CHECK_VALUE(o.dropRate() >= 0 && o.dropRate() < 1, "IC: dropRate must be in [0, 1), got ", o.dropRate());
    TORCH_CHECK_VALUE(o.dims() == 1 || o.dims() == 2, "IC: dims must be 1 or 2, got ", o.dims());
    if (o.affine()) {
      weight = register_parameter("weight", at::empty({o.channels()}));
      bias = register_parameter("bias", at::empty({o.channels()}));
    }
    runningMean = register_buffer("running_mean", at::empty({o.channels()}));
    runningVar = register_buffer("running_var", at::empty({o.channels()}));
    numBatchesTracked = register_buffer("num_batches_tracked", at::zeros({}, at::kLong));
    initParameters();
  }
  // BatchNorm's: scale 1, shift 0, running mean 0, running variance 1, no batches seen.
  void resetParameters() override {
    at::NoGradGuard noGrad;
    if (weight.defined()) {
      weight.fill_(1);
      bias.zero_();
    }
    runningMean.zero_();
    runningVar.fill_(1);
    numBatchesTracked.zero_();
  }
  at::Tensor forward(const at::Tensor& x) override {
    const auto& o = options;
    const int64_t want = o.dims() == 1 ? 2 : 4;
    TORCH_CHECK_VALUE(x.dim() == want, "IC", o.dims(), "d expects a ", want, "-d input ", o.dims() == 1 ? "(N, C)" : "(N, C, H, W)", ", got shape ", shapeOf(x));
    TORCH_CHECK_VALUE(x.size(1) == o.channels(), "IC layer has ", o.channels(), " channels but the input has ", x.size(1), " (shape ", shapeOf(x), ")");
    TORCH_CHECK_TYPE(at::isFloatingType(x.scalar_type()), "IC layer expects a floating-point input, got ", x.scalar_type());
    ic::Options op;
    op.training = is_training();
    op.momentum = o.momentum();
    op.eps = o.eps();
    op.dropRate = o.dropRate();
    op.impl = o.impl();
    if (op.training) {
      at::NoGradGuard noGrad;
      numBatchesTracked.add_(1);
    }
    if (op.training && op.dropRate > 0 && o.generator()) {
      op.dropRate = 0;  // exactly BatchNorm, then dropout with the layer's generator
      return dropoutWith(ic::icLayer(x, weight, bias, runningMean, runningVar, op), o.dropRate(), *o.generator());
    }
    return ic::icLayer(x, weight, bias, runningMean, runningVar, op);
  }
  const char* kind() const override { return "ic"; }
  LayerPtr clone() const override { return cloneLeaf(*this); }

  ICOptions options;
  at::Tensor weight, bias, runningMean, runningVar, numBatchesTracked;
};
TORCH_MODULE(IC);

}  // namespace ictorch::nn
