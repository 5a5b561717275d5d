// pad_shortcut.h: the parameter-free "option A" shortcut of He et al.'s CIFAR ResNets: subsample by `stride`
// and pad the channels with zeros up to `outChannels`.
#pragma once
#include "compat.h"
#include "layer.h"

namespace ictorch::nn {

struct PadShortcutOptions {
  PadShortcutOptions(int64_t stride, int64_t outChannels) : stride_(stride), outChannels_(outChannels) {}
  TORCH_ARG(int64_t, stride);
  TORCH_ARG(int64_t, outChannels);
};

class PadShortcutImpl : public Layer {
 public:
  explicit PadShortcutImpl(PadShortcutOptions options) : options(options) {}
  void reset() override {}
  at::Tensor forward(const at::Tensor& x) override {
    TORCH_CHECK_VALUE(x.dim() == 4, "the padding shortcut expects (N, C, H, W), got shape ", shapeOf(x));
    const int64_t stride = options.stride();
    at::Tensor y = stride > 1 ? x.slice(2, 0, compat::nullopt, stride).slice(3, 0, compat::nullopt, stride) : x;
    const int64_t extra = options.outChannels() - x.size(1);
    TORCH_CHECK_VALUE(extra >= 0, "the padding shortcut cannot shrink ", x.size(1), " channels to ", options.outChannels());
    return extra == 0 ? y : at::constant_pad_nd(y, {0, 0, 0, 0, 0, extra}, 0);
  }
  const char* kind() const override { return "padShortcut"; }
  LayerPtr clone() const override { return cloneLeaf(*this); }

  PadShortcutOptions options;
};
TORCH_MODULE(PadShortcut);

}  // namespace ictorch::nn
