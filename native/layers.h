// layers.h: the modules ictorch adds to torch::nn: IC, Sequential with named children, Residual.
#pragma once
#include <torch/torch.h>
#include "ic/ic.h"

namespace ictorch {

// IC = BatchNorm (batch statistics, affine, running statistics) followed by Dropout, as one op (native/ic).
struct ICLayer : torch::nn::Module {
  ICLayer(int64_t channels, double dropRate, double momentum, double eps, bool affine, int dims);
  at::Tensor forward(const at::Tensor& x);
  int64_t channels;
  int dims;  // 1 for (N, C) input, 2 for (N, C, H, W)
  ic::Options options;
  at::Tensor weight, bias, runningMean, runningVar, numBatchesTracked;
};

// Children run in order; their names make the state-dict keys ("0", "conv1", "layer1", ...).
struct SequentialLayer : torch::nn::Module {
  void append(const std::string& name, std::shared_ptr<torch::nn::Module> m);
  at::Tensor forward(const at::Tensor& x);
  std::vector<std::shared_ptr<torch::nn::Module>> items;
};

// out = post(body(x) + shortcut(x)). The body's and post's layers are registered directly under the
// residual unit (conv1, bn1, ..., relu) and the shortcut as "downsample", as torchvision names them;
// no shortcut module means the identity.
struct ResidualLayer : torch::nn::Module {
  at::Tensor forward(const at::Tensor& x);
  std::vector<std::shared_ptr<torch::nn::Module>> body, post;
  std::shared_ptr<torch::nn::Module> shortcut;
};

// The parameter-free "option A" shortcut of He et al.'s CIFAR ResNets: subsample by `stride` and pad the
// channels with zeros up to `outChannels`.
struct PadShortcutLayer : torch::nn::Module {
  PadShortcutLayer(int64_t stride, int64_t outChannels) : stride(stride), outChannels(outChannels) {}
  at::Tensor forward(const at::Tensor& x);
  int64_t stride, outChannels;
};

}  // namespace ictorch
