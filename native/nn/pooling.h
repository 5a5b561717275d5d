// pooling.h: MaxPool2d, AvgPool2d and AdaptiveAvgPool2d, as torch::nn's (square windows, no ceil mode).
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
};

class MaxPool2dImpl : public Layer {
 public:
  explicit MaxPool2dImpl(Pool2dOptions options) : options(options) {}
  void reset() override {}
  at::Tensor forward(const at::Tensor& x) override {
    const auto& o = options;
    return at::max_pool2d(x, {o.kernelSize(), o.kernelSize()}, {o.stride(), o.stride()}, {o.padding(), o.padding()}, {1, 1}, false);
  }
  const char* kind() const override { return "maxPool2d"; }

  Pool2dOptions options;
};
TORCH_MODULE(MaxPool2d);

class AvgPool2dImpl : public Layer {
 public:
  explicit AvgPool2dImpl(Pool2dOptions options) : options(options) {}
  void reset() override {}
  at::Tensor forward(const at::Tensor& x) override {
    const auto& o = options;
    return at::avg_pool2d(x, {o.kernelSize(), o.kernelSize()}, {o.stride(), o.stride()}, {o.padding(), o.padding()}, false, true, compat::nullopt);
  }
  const char* kind() const override { return "avgPool2d"; }

  Pool2dOptions options;
};
TORCH_MODULE(AvgPool2d);

struct AdaptiveAvgPool2dOptions {
  AdaptiveAvgPool2dOptions(int64_t height, int64_t width) : outputHeight_(height), outputWidth_(width) {}
  TORCH_ARG(int64_t, outputHeight);
  TORCH_ARG(int64_t, outputWidth);
};

class AdaptiveAvgPool2dImpl : public Layer {
 public:
  explicit AdaptiveAvgPool2dImpl(AdaptiveAvgPool2dOptions options) : options(options) {}
  void reset() override {}
  at::Tensor forward(const at::Tensor& x) override { return at::adaptive_avg_pool2d(x, {options.outputHeight(), options.outputWidth()}); }
  const char* kind() const override { return "adaptiveAvgPool2d"; }

  AdaptiveAvgPool2dOptions options;
};
TORCH_MODULE(AdaptiveAvgPool2d);

}  // namespace ictorch::nn
