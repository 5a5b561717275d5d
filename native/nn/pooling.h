// pooling.h: MaxPool2d, AvgPool2d and AdaptiveAvgPool2d, as torch::nn's (square windows).
#pragma once
#include "compat.h"
#include "layer.h"

namespace ictorch::nn {

struct Pool2dOptions {
  explicit Pool2dOptions(int64_t kernelSize) : kernelSize_(kernelSize), stride_(kernelSize) {}
  TORCH_ARG(int64_t, kernelSize);
  // Defaults to the kernel size.
  TORCH_ARG(int64_t, stride);
  TORCH_ARG(int64_t, padding) = 0;
  // Output sizes rounded up rather than down (PyTorch's ceil_mode).
  TORCH_ARG(bool, ceilMode) = false;
};

class MaxPool2dImpl : public Layer {
 public:
  explicit MaxPool2dImpl(Pool2dOptions options) : options(options) {}
  void reset() override {}
  at::Tensor forward(const at::Tensor& x) override {
    const auto& o = options;
    return at::max_pool2d(x, {o.kernelSize(), o.kernelSize()}, {o.stride(), o.stride()}, {o.padding(), o.padding()}, {1, 1}, o.ceilMode());
  }
  const char* kind() const override { return "maxPool2d"; }
  LayerPtr clone() const override { return cloneLeaf(*this); }

  Pool2dOptions options;
};
TORCH_MODULE(MaxPool2d);

class AvgPool2dImpl : public Layer {
 public:
  explicit AvgPool2dImpl(Pool2dOptions options) : options(options) {}
  void reset() override {}
  at::Tensor forward(const at::Tensor& x) override {
    const auto& o = options;
    return at::avg_pool2d(x, {o.kernelSize(), o.kernelSize()}, {o.stride(), o.stride()}, {o.padding(), o.padding()}, o.ceilMode(), true, compat::nullopt);
  }
  const char* kind() const override { return "avgPool2d"; }
  LayerPtr clone() const override { return cloneLeaf(*this); }

  Pool2dOptions options;
};
TORCH_MODULE(AvgPool2d);

// An output size of 0 keeps the input's size in that dimension (PyTorch's None).
struct AdaptiveAvgPool2dOptions {
  AdaptiveAvgPool2dOptions(int64_t height, int64_t width) : outputHeight_(height), outputWidth_(width) {}
  TORCH_ARG(int64_t, outputHeight);
  TORCH_ARG(int64_t, outputWidth);
};

class AdaptiveAvgPool2dImpl : public Layer {
 public:
  explicit AdaptiveAvgPool2dImpl(AdaptiveAvgPool2dOptions options) : options(options) {}
  void reset() override {}
  at::Tensor forward(const at::Tensor& x) override {
    TORCH_CHECK_VALUE(x.dim() == 3 || x.dim() == 4, "AdaptiveAvgPool2d: expected a 3-d (C, H, W) or 4-d (N, C, H, W) input, got shape ", shapeOf(x));
    const int64_t h = options.outputHeight() > 0 ? options.outputHeight() : x.size(-2);
    const int64_t w = options.outputWidth() > 0 ? options.outputWidth() : x.size(-1);
    return at::adaptive_avg_pool2d(x, {h, w});
  }
  const char* kind() const override { return "adaptiveAvgPool2d"; }
  LayerPtr clone() const override { return cloneLeaf(*this); }

  AdaptiveAvgPool2dOptions options;
};
TORCH_MODULE(AdaptiveAvgPool2d);

}  // namespace ictorch::nn
