// ic.h: the Independent-Component (IC) layer of Chen et al.: BatchNorm followed by Dropout, as one op.
#pragma once
#include <ATen/ATen.h>
#include <string>
#include <tuple>

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
// The fused CUDA path (ic_cuda.cu). Forward: batch statistics, scale/shift and the running-statistics update in
// two kernels, then y = keep ? (x - mean) * scale + shift : 0 in one; `philox` (raw bytes of the generator state)
// lets backward regenerate the mask. mean/invstd are in the accumulation type (float, or double for double).
struct CudaForward {
  at::Tensor y, mean, invstd, philox;
};
CudaForward cudaForward(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, const at::Tensor& runningMean,
                        const at::Tensor& runningVar, double momentum, double eps, double dropRate);
// Backward from the output gradient g (same shape and memory layout as x): (dx, dweight, dbias); dweight and
// dbias are undefined when !affine, dx when !inputGrad (the input needs no gradient: its pass is skipped).
std::tuple<at::Tensor, at::Tensor, at::Tensor> cudaBackward(const at::Tensor& g, const at::Tensor& x, const at::Tensor& weight, const at::Tensor& mean,
                                                            const at::Tensor& invstd, const at::Tensor& philoxState, double dropRate, bool affine,
                                                            bool inputGrad);
#endif

}  // namespace ictorch::ic
