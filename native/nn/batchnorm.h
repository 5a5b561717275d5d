// batchnorm.h: BatchNorm1d, BatchNorm2d and BatchNorm3d, as torch::nn::BatchNorm{1,2,3}d (batch statistics in training,
// running statistics with `momentum` and the unbiased variance, running statistics in evaluation).
#pragma once
#include "layer.h"

namespace ictorch::nn {

struct BatchNormOptions {
  explicit BatchNormOptions(int64_t numFeatures) : numFeatures_(numFeatures) {}
  TORCH_ARG(int64_t, numFeatures);
  TORCH_ARG(double, eps) = 1e-5;
  // Weight of the new batch statistic in the running average.
  TORCH_ARG(double, momentum) = 0.1;
  TORCH_ARG(bool, affine) = true;
  TORCH_ARG(bool, trackRunningStats) = true;
};

// D = 1: (N, C) or (N, C, L) input; D = 2: (N, C, H, W); D = 3: (N, C, D, H, W).
template <int D>
class BatchNormImpl : public Layer {
 public:
  explicit BatchNormImpl(BatchNormOptions options) : options(std::move(options)) { reset(); }
  void reset() override {
    const int64_t c = options.numFeatures();
    if (options.affine()) {
      weight = register_parameter("weight", at::empty({c}));
      bias = register_parameter("bias", at::empty({c}));
    }
    if (options.trackRunningStats()) {
      runningMean = register_buffer("running_mean", at::empty({c}));
      runningVar = register_buffer("running_var", at::empty({c}));
      numBatchesTracked = register_buffer("num_batches_tracked", at::zeros({}, at::kLong));
    }
    initParameters();
  }
  void resetParameters() override {
    at::NoGradGuard noGrad;
    if (runningMean.defined()) {
      runningMean.zero_();
      runningVar.fill_(1);
      numBatchesTracked.zero_();
    }
    if (weight.defined()) {
      weight.fill_(1);
      bias.zero_();
    }
  }
  at::Tensor forward(const at::Tensor& x) override {
    if (D == 1) {
      TORCH_CHECK_VALUE(x.dim() == 2 || x.dim() == 3, "BatchNorm1d: expected a 2-d (N, C) or 3-d (N, C, L) input, got shape ", shapeOf(x));
    } else if (D == 2) {
      TORCH_CHECK_VALUE(x.dim() == 4, "BatchNorm2d: expected a 4-d (N, C, H, W) input, got shape ", shapeOf(x));
    } else {
      TORCH_CHECK_VALUE(x.dim() == 5, "BatchNorm3d: expected a 5-d (N, C, D, H, W) input, got shape ", shapeOf(x));
    }
    TORCH_CHECK_VALUE(x.size(1) == options.numFeatures(), "BatchNorm", D, "d has ", options.numFeatures(), " features but the input has ", x.size(1),
                      " (shape ", shapeOf(x), ")");
    const bool training = is_training();
    if (training) {
      int64_t perChannel = x.size(0);
      for (int64_t d = 2; d < x.dim(); ++d) perChannel *= x.size(d);
      TORCH_CHECK_VALUE(perChannel != 1, "BatchNorm", D, "d: expected more than 1 value per channel when training, got input of shape ", shapeOf(x));
      if (numBatchesTracked.defined()) {
        at::NoGradGuard noGrad;
        numBatchesTracked.add_(1);
      }
    }
    return at::batch_norm(x, weight, bias, runningMean, runningVar, training || !options.trackRunningStats(), options.momentum(), options.eps(),
                          at::globalContext().userEnabledCuDNN());
  }
  const char* kind() const override { return D == 1 ? "batchNorm1d" : D == 2 ? "batchNorm2d" : "batchNorm3d"; }

  BatchNormOptions options;
  at::Tensor weight, bias, runningMean, runningVar, numBatchesTracked;
};

class BatchNorm1dImpl : public BatchNormImpl<1> {
 public:
  using BatchNormImpl<1>::BatchNormImpl;
  LayerPtr clone() const override { return cloneLeaf(*this); }
};
class BatchNorm2dImpl : public BatchNormImpl<2> {
 public:
  using BatchNormImpl<2>::BatchNormImpl;
  LayerPtr clone() const override { return cloneLeaf(*this); }
};
class BatchNorm3dImpl : public BatchNormImpl<3> {
 public:
  using BatchNormImpl<3>::BatchNormImpl;
  LayerPtr clone() const override { return cloneLeaf(*this); }
};
TORCH_MODULE(BatchNorm1d);
TORCH_MODULE(BatchNorm2d);
TORCH_MODULE(BatchNorm3d);

}  // namespace ictorch::nn
