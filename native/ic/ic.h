// ic.h: the Independent-Component (IC) layer of Chen et al.: BatchNorm followed by Dropout, as one op.
#pragma once
#include <ATen/ATen.h>
#include <string>

namespace ictorch::ic {

// Which implementation runs: `Auto` picks the fused kernel where one exists (CUDA float/half/bf16,
// CPU float/double contiguous), else the composite (batch_norm + dropout) path.
enum class Impl { Auto, Composite, Fused };
Impl parseImpl(const std::string& name);

struct Options {
  bool training = true;
  double momentum = 0.1;
  double eps = 1e-5;
  double dropRate = 0.0;
  Impl impl = Impl::Auto;
};

// x: (N, C) or (N, C, H, W); weight/bias: (C) or undefined (no affine); running stats updated in training.
at::Tensor icLayer(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, const at::Tensor& runningMean,
                   const at::Tensor& runningVar, const Options& o);

// The composite reference: at::batch_norm then at::dropout.
at::Tensor icComposite(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, const at::Tensor& runningMean,
                       const at::Tensor& runningVar, const Options& o);

#ifdef ICTORCH_WITH_CUDA
// Fused CUDA forward: y = mask ? (x*scale + shift) : 0 in one pass; returns y. `philoxState` receives the
// generator state (raw bytes) needed to regenerate the mask.
at::Tensor cudaForward(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& shift, double dropRate, at::Tensor& philoxState);
// Regenerates the mask: returns grad * mask / (1 - p).
at::Tensor cudaMaskGrad(const at::Tensor& grad, const at::Tensor& philoxState, double dropRate);
#endif

}  // namespace ictorch::ic
